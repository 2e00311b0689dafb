/* "Try it": chat with an assistant through POST /api/v1/ai/test (session cookie + CSRF header).
   Without this file the form posts to the page itself and the server answers. */
(function () {
  "use strict";

  function csrf() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function message(log, who, text, meta) {
    var item = document.createElement("li");
    item.className = "msg " + (who === "You" ? "msg-caller" : "msg-ai");
    var name = document.createElement("span");
    name.className = "who";
    name.textContent = who;
    var body = document.createElement("p");
    body.className = "text";
    body.textContent = text;
    item.appendChild(name);
    item.appendChild(body);
    if (meta) {
      var extra = document.createElement("p");
      extra.className = "meta";
      extra.textContent = meta;
      item.appendChild(extra);
    }
    log.appendChild(item);
    item.scrollIntoView({ block: "nearest" });
    return item;
  }

  function audioFrom(base64) {
    var raw = atob(base64);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return URL.createObjectURL(new Blob([bytes], { type: "audio/wav" }));
  }

  function attachAudio(item, base64) {
    var player = document.createElement("audio");
    player.controls = true;
    player.src = audioFrom(base64);
    player.setAttribute("aria-label", "Spoken reply");
    item.appendChild(player);
    var played = player.play();
    if (played && played.catch) played.catch(function () { /* autoplay refused: the controls stay */ });
  }

  function describe(d) {
    return "Intent " + d.intentDetected + " · confidence " + d.confidence + "% · sentiment " + d.sentiment + " · " + d.responseTime + " ms";
  }

  function setup(form) {
    var log = document.getElementById("chat-log");
    var input = document.getElementById("user-message");
    var session = document.getElementById("session-id");
    var status = document.getElementById("chat-status");
    var speak = document.getElementById("speak");
    var send = document.getElementById("send");
    var assistant = form.querySelector('input[name="assistant"]').value;
    document.getElementById("speak-field").hidden = false;

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var text = input.value.trim();
      if (!text) { status.textContent = "Type what the caller says first."; input.focus(); return; }
      var body = { userMessage: text };
      if (session.value) body.sessionId = session.value; else if (assistant) body.assistantId = assistant;
      message(log, "You", text);
      input.value = "";
      send.disabled = true;
      status.textContent = "The assistant is answering…";
      var url = form.getAttribute("data-api") + (speak.checked ? "?audio=1" : "");
      fetch(url, { method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf(), "Accept": "application/json" },
        body: JSON.stringify(body) })
        .then(function (response) { return response.json().then(function (json) { return { ok: response.ok, json: json }; }); })
        .then(function (result) {
          if (!result.ok || !result.json.success) {
            var error = (result.json && result.json.error) || {};
            status.textContent = "Not answered: " + (error.message || "the server refused the message") + ".";
            return;
          }
          var d = result.json.data;
          if (d.greeting) message(log, "Assistant", d.greeting);
          var item = message(log, "Assistant", d.aiResponse, describe(d));
          session.value = d.sessionId;
          if (d.audio) attachAudio(item, d.audio);
          status.textContent = d.endCall ? "The assistant ended the call. Start a new conversation to go on." : "";
        })
        .catch(function () { status.textContent = "The appliance could not be reached; try again."; })
        .then(function () { send.disabled = false; input.focus(); });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("chat-form");
    if (form && window.fetch) setup(form);
  });
})();

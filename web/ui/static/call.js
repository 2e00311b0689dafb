/* Call page: the transcript follows the recording, and a line seeks the recording to where it was said. */
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var audio = document.getElementById("call-audio");
    var lines = Array.prototype.slice.call(document.querySelectorAll("#transcript li[data-start]"));
    if (!audio || !lines.length) return;
    var current = null;
    lines.forEach(function (line) {
      var button = line.querySelector(".seek");
      if (!button) return;
      button.addEventListener("click", function () {
        audio.currentTime = parseFloat(line.getAttribute("data-start")) || 0;
        var played = audio.play();
        if (played && played.catch) played.catch(function () { /* the user can press play */ });
      });
    });
    audio.addEventListener("timeupdate", function () {
      var t = audio.currentTime, found = null;
      lines.forEach(function (line) {
        if (parseFloat(line.getAttribute("data-start")) <= t) found = line;
      });
      if (found === current) return;
      if (current) { current.classList.remove("playing"); current.removeAttribute("aria-current"); }
      current = found;
      if (current) { current.classList.add("playing"); current.setAttribute("aria-current", "true"); }
    });
  });
})();

/* Callbox UI: small progressive enhancements. Every page works without this file. */
(function () {
  "use strict";

  function menu() {
    var button = document.querySelector(".menu-toggle");
    var nav = document.getElementById("site-nav");
    if (!button || !nav) return;
    button.hidden = false;
    document.body.classList.add("js-menu");
    button.addEventListener("click", function () {
      var open = button.getAttribute("aria-expanded") !== "true";
      button.setAttribute("aria-expanded", String(open));
      nav.classList.toggle("open", open);
    });
  }

  function confirmations() {
    document.addEventListener("submit", function (event) {
      var form = event.target;
      var text = form && form.getAttribute && form.getAttribute("data-confirm");
      if (text && !window.confirm(text)) event.preventDefault();
    });
  }

  function selectOnFocus() {
    document.querySelectorAll("[data-select-on-focus]").forEach(function (input) {
      input.addEventListener("focus", function () { input.select(); });
    });
  }

  function renumber(list) {
    list.querySelectorAll("li").forEach(function (item, index) {
      var input = item.querySelector("input");
      var label = item.querySelector("label");
      var id = "variation-" + (index + 1);
      input.id = id;
      label.htmlFor = id;
      label.textContent = "Variation " + (index + 1);
    });
  }

  function variations() {
    document.querySelectorAll("[data-variations]").forEach(function (box) {
      var list = box.querySelector(".variation-list");
      var add = box.querySelector(".add-variation");
      if (!list || !add || box.disabled || box.closest("fieldset[disabled]")) return;
      add.hidden = false;
      box.querySelectorAll(".remove-variation").forEach(function (b) { b.hidden = false; });
      list.addEventListener("click", function (event) {
        var button = event.target.closest(".remove-variation");
        if (!button) return;
        var item = button.closest("li");
        if (list.children.length > 1) { item.remove(); } else { item.querySelector("input").value = ""; }
        renumber(list);
        var first = list.querySelector("input");
        if (first) first.focus();
      });
      add.addEventListener("click", function () {
        var template = list.lastElementChild;
        var item = template.cloneNode(true);
        item.querySelector("input").value = "";
        list.appendChild(item);
        renumber(list);
        item.querySelector("input").focus();
      });
    });
  }

  function focusErrors() {
    var box = document.querySelector("[data-focus]");
    if (box) box.focus();
  }

  document.addEventListener("DOMContentLoaded", function () {
    menu();
    confirmations();
    selectOnFocus();
    variations();
    focusErrors();
  });
})();

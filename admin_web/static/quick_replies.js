/* Quick replies in the reply box: typing "/" (at the start or after a space) opens the list
   of the reader's quick replies, already filled for this conversation; more letters narrow
   it (by title or text). Arrow keys move, Enter or Tab picks, Escape closes; a click picks
   too. The picked text replaces the "/word" typed, inserted as text (never markup). The list
   comes from the textarea's data-quick-replies URL, once per page. */
(function () {
  "use strict";
  var box = document.querySelector("textarea[data-quick-replies]");
  var list = document.getElementById("quick-picker");
  if (!box || !list || !window.fetch) { return; }
  var items = null, loading = false, shown = [], active = -1, start = -1;
  var field = box.closest(".field");
  if (field) { field.insertAdjacentElement("afterend", list); }  /* right under the box */
  box.setAttribute("aria-autocomplete", "list");
  box.setAttribute("aria-controls", list.id);
  box.setAttribute("aria-expanded", "false");

  function load(then) {
    if (items !== null) { then(); return; }
    if (loading) { return; }
    loading = true;
    fetch(box.getAttribute("data-quick-replies"), { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : { items: [] }; })
      .then(function (data) { items = data.items || []; })
      .catch(function () { items = []; })
      .then(function () { loading = false; then(); });
  }

  /* The "/word" just before the caret: its start, or -1. */
  function slash() {
    var caret = box.selectionStart, text = box.value.slice(0, caret);
    var at = text.lastIndexOf("/");
    if (at < 0 || /\s/.test(text.slice(at + 1))) { return -1; }
    if (at > 0 && !/\s/.test(text.charAt(at - 1))) { return -1; }
    return at;
  }

  function close() {
    list.hidden = true;
    list.textContent = "";
    shown = []; active = -1; start = -1;
    box.setAttribute("aria-expanded", "false");
    box.removeAttribute("aria-activedescendant");
  }

  function mark(index) {
    active = index;
    Array.prototype.forEach.call(list.children, function (li, i) {
      li.setAttribute("aria-selected", i === index ? "true" : "false");
      if (i === index) { box.setAttribute("aria-activedescendant", li.id); li.scrollIntoView({ block: "nearest" }); }
    });
  }

  function open() {
    start = slash();
    if (start < 0) { close(); return; }
    load(function () {
      if (slash() !== start) { return; }
      var query = box.value.slice(start + 1, box.selectionStart).toLowerCase();
      shown = items.filter(function (item) {
        return !query || item.title.toLowerCase().indexOf(query) >= 0 ||
          item.text.toLowerCase().indexOf(query) >= 0;
      }).slice(0, 30);
      list.textContent = "";
      if (!shown.length) {
        var none = document.createElement("li");
        none.className = "muted";
        none.textContent = list.getAttribute("data-empty") || "";
        list.appendChild(none);
        shown = [];
      }
      shown.forEach(function (item, i) {
        var li = document.createElement("li");
        li.id = "quick-option-" + item.id;
        li.setAttribute("role", "option");
        li.setAttribute("data-quick-option", String(item.id));
        var title = document.createElement("strong");
        title.textContent = item.title;
        var text = document.createElement("span");
        text.className = "small muted";
        text.textContent = item.text.length > 120 ? item.text.slice(0, 119) + "…" : item.text;
        li.appendChild(title); li.appendChild(document.createTextNode(" ")); li.appendChild(text);
        li.addEventListener("mousedown", function (e) { e.preventDefault(); pick(i); });
        list.appendChild(li);
      });
      list.hidden = false;
      box.setAttribute("aria-expanded", "true");
      mark(shown.length ? 0 : -1);
    });
  }

  function pick(index) {
    var item = shown[index];
    if (!item || start < 0) { close(); return; }
    var before = box.value.slice(0, start), after = box.value.slice(box.selectionStart);
    box.value = before + item.text + after;
    var caret = before.length + item.text.length;
    box.setSelectionRange(caret, caret);
    close();
    box.focus();
    box.dispatchEvent(new Event("input", { bubbles: true }));
  }

  box.addEventListener("input", function (e) {
    if (e.isTrusted === false && start < 0) { return; }
    open();
  });
  box.addEventListener("keydown", function (e) {
    if (list.hidden) { return; }
    if (e.key === "ArrowDown" && shown.length) { e.preventDefault(); mark((active + 1) % shown.length); }
    else if (e.key === "ArrowUp" && shown.length) { e.preventDefault(); mark((active - 1 + shown.length) % shown.length); }
    else if ((e.key === "Enter" || e.key === "Tab") && active >= 0) { e.preventDefault(); pick(active); }
    else if (e.key === "Escape") { e.preventDefault(); close(); }
  });
  box.addEventListener("blur", function () { window.setTimeout(close, 150); });
})();

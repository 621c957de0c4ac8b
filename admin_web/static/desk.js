/* The live desk: listen to /inbox/events (Server-Sent Events) and refresh the parts of the
   page marked data-live-part from the page's own URL when something the reader may see
   changed. EventSource reconnects by itself, sending Last-Event-ID, so nothing is missed.
   The reply box is not a live part: what is being typed stays. */
(function () {
  "use strict";
  var root = document.querySelector("[data-live]");
  if (!root || !window.EventSource || !window.fetch || !window.DOMParser) { return; }
  var only = root.getAttribute("data-conversation");
  var busy = false, again = false;

  function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    fetch(window.location.pathname + window.location.search, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : ""; })
      .then(function (html) {
        if (!html) { return; }
        var fresh = new DOMParser().parseFromString(html, "text/html");
        document.querySelectorAll("[data-live-part]").forEach(function (part) {
          var next = fresh.getElementById(part.id);
          if (next) { part.replaceWith(document.importNode(next, true)); }
        });
      })
      .catch(function () {})
      .then(function () {
        busy = false;
        if (again) { again = false; refresh(); }
      });
  }

  function changed(event) {
    var data = {};
    try { data = JSON.parse(event.data || "{}"); } catch (e) { data = {}; }
    if (!only || event.type === "reset" || String(data.conversation_id) === only) { refresh(); }
  }

  var source = new EventSource("/inbox/events");
  ["message", "status", "inquiry", "note", "reset"].forEach(function (kind) {
    source.addEventListener(kind, changed);
  });
  window.addEventListener("pagehide", function () { source.close(); });
})();

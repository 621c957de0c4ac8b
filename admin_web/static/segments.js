// The segment rule builder: when a condition's field or comparison changes, the form is
// drawn again by the server (the "Update the form" button, hidden when this script runs).
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (!target.matches || !target.matches("#segment-form [data-refresh]")) return;
    var refresh = document.getElementById("segment-refresh");
    if (refresh) refresh.click();
  });
})();

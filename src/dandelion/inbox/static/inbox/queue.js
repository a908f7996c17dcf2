// Inbox queue: bulk selection and the live refresh. Static file (no inline script: CSP).
// - Ticking conversations fills the bulk bar's count and enables "Apply to selected"; the header box ticks the page.
// - The live poll (#queue-live, HTMX every N seconds) refreshes the table and the tab counts, but waits while
//   conversations are ticked (a refresh would drop the selection) or a field of the bulk bar is being used.
(function () {
  function boxes() {
    return Array.prototype.slice.call(document.querySelectorAll("#queue-table input[name=ids]"));
  }

  function refresh() {
    var count = document.getElementById("bulk-count");
    var apply = document.getElementById("bulk-apply");
    var ticked = boxes().filter(function (b) { return b.checked; }).length;
    if (count) count.textContent = ticked ? ticked + " " + count.getAttribute("data-some") : count.getAttribute("data-none");
    if (apply) apply.disabled = ticked === 0;
    var all = document.getElementById("bulk-all");
    if (all) all.checked = ticked > 0 && ticked === boxes().length;
  }

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.id === "bulk-all") {
      boxes().forEach(function (b) { b.checked = target.checked; });
      refresh();
    } else if (target.name === "ids") {
      refresh();
    }
  });

  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail.elt;
    if (!elt || elt.id !== "queue-live") return;
    var bar = document.getElementById("bulk-form");
    var busy = boxes().some(function (b) { return b.checked; }) ||
      (bar && bar.contains(document.activeElement) && document.activeElement !== document.body);
    if (busy) event.preventDefault();
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "queue-table") refresh();
  });
  document.addEventListener("DOMContentLoaded", refresh);
})();

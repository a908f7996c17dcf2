// Dandelion: page-wide HTMX behaviour.
// A 4xx answer to an HTMX form carries the form again with its errors: show it (HTMX drops 4xx bodies by default),
// so bad input never fails silently. Other failures (5xx, network) are announced in a banner.
document.addEventListener("htmx:beforeSwap", function (event) {
  var status = event.detail.xhr.status;
  if (status === 400 || status === 409 || status === 422) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});
function dandelionAlert(text) {
  var box = document.getElementById("htmx-error");
  if (!box) {
    box = document.createElement("div");
    box.id = "htmx-error";
    box.setAttribute("role", "alert");
    box.className = "msg error htmx-error";
    document.body.prepend(box);
  }
  box.textContent = text;
}
document.addEventListener("htmx:responseError", function (event) {
  var status = event.detail.xhr.status;
  if (status === 403) dandelionAlert("You are not allowed to do this (403).");
  else if (status === 404) dandelionAlert("This item no longer exists or is outside your scope (404).");
  else if (status >= 500) dandelionAlert("The server could not complete this action (" + status + "); nothing was lost, try again.");
});
document.addEventListener("htmx:sendError", function () {
  dandelionAlert("The server cannot be reached; your action was not sent. Check the connection and try again.");
});
// Confirmation before destructive buttons and links: data-confirm="Question?" (no inline handlers: CSP).
document.addEventListener("click", function (event) {
  var el = event.target.closest("[data-confirm]");
  if (el && !window.confirm(el.getAttribute("data-confirm"))) {
    event.preventDefault();
    event.stopImmediatePropagation();
  }
}, true);
// "Back" links: data-back goes back in history when there is one, else follows the link.
document.addEventListener("click", function (event) {
  var el = event.target.closest("[data-back]");
  if (el && window.history.length > 1) {
    event.preventDefault();
    window.history.back();
  }
});

// The week calendar's drag and drop: a movable post dropped on an hour's cell posts the day and hour to the post's
// move URL through the page's hidden HTMX form (it carries the CSRF token); the server answers with the week.
(function () {
  "use strict";
  var dragged = null;
  document.addEventListener("dragstart", function (e) {
    var entry = e.target.closest && e.target.closest(".entry.movable");
    if (!entry) return;
    dragged = entry;
    e.dataTransfer.effectAllowed = "move";
    e.dataTransfer.setData("text/plain", entry.id);
  });
  document.addEventListener("dragover", function (e) {
    if (dragged && e.target.closest && e.target.closest("td.slot")) e.preventDefault();
  });
  document.addEventListener("dragenter", function (e) {
    var slot = e.target.closest && e.target.closest("td.slot");
    if (dragged && slot) slot.classList.add("drop-target");
  });
  document.addEventListener("dragleave", function (e) {
    var slot = e.target.closest && e.target.closest("td.slot");
    if (slot) slot.classList.remove("drop-target");
  });
  document.addEventListener("drop", function (e) {
    var slot = e.target.closest && e.target.closest("td.slot");
    if (!dragged || !slot) return;
    e.preventDefault();
    slot.classList.remove("drop-target");
    var form = document.getElementById("move-form");
    form.querySelector("[name=day]").value = slot.dataset.day;
    form.querySelector("[name=hour]").value = slot.dataset.hour;
    form.setAttribute("hx-post", dragged.dataset.moveUrl);
    dragged = null;
    window.htmx.process(form);
    window.htmx.trigger(form, "submit");
  });
  document.addEventListener("dragend", function () { dragged = null; });
})();

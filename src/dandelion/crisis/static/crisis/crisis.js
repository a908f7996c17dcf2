// The crisis room's spike chart (Chart.js, served locally by listening): mentions per interval, from the JSON the
// page embeds (no inline script, no extra request).
(function () {
  "use strict";
  function init() {
    var canvas = document.getElementById("crisis-chart");
    var source = document.getElementById("crisis-series");
    if (!canvas || !source || typeof Chart === "undefined") { return; }
    var data = JSON.parse(source.textContent);
    var labels = data.labels.map(function (l) { return l.slice(5, 16).replace("T", " "); });
    var marks = data.marks || {};
    var step = data.interval_minutes * 60000;
    function slot(iso) {
      if (!iso) { return -1; }
      var t = Date.parse(iso);
      return data.labels.findIndex(function (l) { var s = Date.parse(l); return t >= s && t < s + step; });
    }
    var detected = slot(marks.detected);
    var colors = data.counts.map(function (_c, i) { return detected >= 0 && i >= detected ? "#dc2626" : "#2563eb"; });
    new Chart(canvas, {type: "bar", data: {labels: labels, datasets: [
      {label: canvas.dataset.labelVolume, data: data.counts, backgroundColor: colors}]},
      options: {animation: false, responsive: true, maintainAspectRatio: false,
        scales: {y: {beginAtZero: true}}, plugins: {legend: {display: false}}}});
    canvas.dataset.loaded = "1";
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();

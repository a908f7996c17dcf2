/* Dandelion analytics: draw each <canvas data-chart="ID"> from the JSON block #ID (Chart.js, served locally).
   Colours come from CSS custom properties, so the charts follow the page's theme. No inline script (CSP). */
(function () {
  "use strict";
  function palette() {
    var css = getComputedStyle(document.documentElement);
    var pick = function (name, fallback) { return (css.getPropertyValue(name) || "").trim() || fallback; };
    return {
      series: [pick("--chart-1", "#2563eb"), pick("--chart-2", "#d97706"), pick("--chart-3", "#059669"),
               pick("--chart-4", "#dc2626")],
      ink: pick("--ink", "#1d2330"), line: pick("--line", "#e4e7ec")
    };
  }
  function draw(canvas) {
    var source = document.getElementById(canvas.getAttribute("data-chart"));
    if (!source || typeof Chart === "undefined") { return; }
    var spec = JSON.parse(source.textContent);
    var colours = palette();
    var datasets = spec.datasets.map(function (d, i) {
      var colour = colours.series[i % colours.series.length];
      return { label: d.label, data: d.data, borderColor: colour, backgroundColor: colour, spanGaps: true,
               pointRadius: spec.labels.length > 40 ? 0 : 2, borderWidth: 2, tension: 0.2 };
    });
    var ticks = { color: colours.ink };
    var y = { beginAtZero: true, ticks: ticks, grid: { color: colours.line }, stacked: !!spec.stacked };
    if (spec.percent) {
      y.max = 1;
      y.ticks = { color: colours.ink, callback: function (v) { return Math.round(v * 100) + " %"; } };
    }
    canvas.chart = new Chart(canvas, {
      type: spec.type, data: { labels: spec.labels, datasets: datasets },
      options: { responsive: true, maintainAspectRatio: false, animation: false,
                 plugins: { legend: { labels: { color: colours.ink } } },
                 scales: { x: { ticks: ticks, grid: { color: colours.line }, stacked: !!spec.stacked }, y: y } }
    });
  }
  function init() { document.querySelectorAll("canvas[data-chart]").forEach(draw); }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();

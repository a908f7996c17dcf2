// The query page's chart (Chart.js, served locally) and its top lists, read from the series endpoint.
(function () {
  "use strict";
  function fill(list, items, key) {
    list.textContent = "";
    (items || []).forEach(function (item) {
      var li = document.createElement("li");
      var label = item.term || item.name || "";
      li.textContent = label + " (" + (key === "share_of_voice" ? Math.round(item.share * 100) + " %" : item.count) + ")";
      list.appendChild(li);
    });
  }
  function init() {
    var canvas = document.getElementById("listening-chart");
    if (!canvas || typeof Chart === "undefined") { return; }
    var chart = null;
    function load(days) {
      var bucket = days > 7 ? "day" : "hour";
      fetch(canvas.dataset.seriesUrl + "?days=" + days + "&bucket=" + bucket, {credentials: "same-origin"})
        .then(function (r) { return r.json(); })
        .then(function (data) {
          var labels = data.labels.map(function (l) { return bucket === "day" ? l.slice(0, 10) : l.slice(5, 16).replace("T", " "); });
          var ds = [
            {type: "line", label: canvas.dataset.labelVolume, data: data.volume, borderColor: "#2563eb", tension: 0.2, yAxisID: "y"},
            {type: "bar", label: canvas.dataset.labelNegative, data: data.negative, backgroundColor: "#dc2626", stack: "s"},
            {type: "bar", label: canvas.dataset.labelNeutral, data: data.neutral, backgroundColor: "#9ca3af", stack: "s"},
            {type: "bar", label: canvas.dataset.labelPositive, data: data.positive, backgroundColor: "#16a34a", stack: "s"}
          ];
          if (chart) { chart.destroy(); }
          chart = new Chart(canvas, {data: {labels: labels, datasets: ds},
            options: {animation: false, responsive: true, maintainAspectRatio: false,
              scales: {x: {stacked: true}, y: {stacked: true, beginAtZero: true}}}});
          canvas.dataset.loaded = "1";
          document.querySelectorAll("[data-top]").forEach(function (ol) { fill(ol, data[ol.dataset.top], ol.dataset.top); });
        });
    }
    document.querySelectorAll("[data-chart-days]").forEach(function (a) {
      a.addEventListener("click", function (e) { e.preventDefault(); load(parseInt(a.dataset.chartDays, 10)); });
    });
    load(7);
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();

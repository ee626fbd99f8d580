// Draws the dashboard charts from the specs the server embeds with json_script
// (dashboard/charts.py). Chart instances are kept on window.dashboardCharts so tests and
// the console can inspect them.
(function () {
  "use strict";
  var specsNode = document.getElementById("dashboard-charts");
  if (!specsNode || typeof Chart === "undefined") return;
  var palette = ["#2f7d4f", "#c0392b", "#2c6fb7", "#d68910", "#7d3c98", "#5d6d7e"];
  window.dashboardCharts = {};

  JSON.parse(specsNode.textContent).forEach(function (spec) {
    var canvas = document.getElementById(spec.id);
    if (!canvas) return;
    var datasets = spec.datasets.map(function (set, i) {
      var colour = palette[i % palette.length];
      return Object.assign(
        { backgroundColor: colour, borderColor: colour, borderWidth: set.type === "line" ? 2 : 0 },
        set
      );
    });
    var scales = {
      x: { stacked: !!spec.stacked },
      y: { stacked: !!spec.stacked, beginAtZero: true, max: spec.max },
    };
    if (spec.percentAxis) {
      scales.pct = { position: "right", min: 0, max: 100, grid: { drawOnChartArea: false } };
    }
    window.dashboardCharts[spec.id] = new Chart(canvas, {
      type: spec.type,
      data: { labels: spec.labels, datasets: datasets },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        scales: scales,
        plugins: { legend: { display: datasets.length > 1, position: "bottom" } },
      },
    });
  });
})();

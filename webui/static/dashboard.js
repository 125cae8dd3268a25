/* Draws the dashboard charts with the vendored Chart.js from the JSON data block.
   No inline script (the CSP forbids it); the same figures are in the tables below each
   chart, so nothing is lost when this script does not run. Labels are set as text by
   Chart.js on a canvas, never as HTML. */
(function () {
  "use strict";
  var PALETTE = ["#1f5fa8", "#c0392b", "#2e8b57", "#8e44ad", "#d35400", "#16a085",
                 "#7f8c8d", "#b7950b", "#34495e"];

  function draw() {
    var block = document.getElementById("dashboard-data");
    if (!block || typeof window.Chart === "undefined") { return; }
    var charts;
    try { charts = JSON.parse(block.textContent); } catch (e) { return; }
    var canvases = document.querySelectorAll("canvas[data-chart]");
    Array.prototype.forEach.call(canvases, function (canvas) {
      var spec = charts[canvas.getAttribute("data-chart")];
      if (!spec) { return; }
      var datasets = spec.series.map(function (s, i) {
        var colour = PALETTE[i % PALETTE.length];
        return { label: String(s.label), data: s.data, borderColor: colour,
                 backgroundColor: colour, fill: false, tension: 0.1, pointRadius: 1 };
      });
      new window.Chart(canvas, {
        type: spec.kind === "bar" ? "bar" : "line",
        data: { labels: spec.labels, datasets: datasets },
        options: { responsive: true, maintainAspectRatio: false, animation: false,
                   interaction: { mode: "index", intersect: false },
                   scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } }
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();

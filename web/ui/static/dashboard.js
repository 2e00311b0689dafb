/* Dashboard charts with Chart.js (served by the appliance). Without it the data tables stay the view. */
(function () {
  "use strict";
  var PALETTE = ["#0b5cad", "#c2410c", "#15803d", "#7e22ce", "#b91c1c", "#0f766e", "#a16207", "#4b5563"];

  function dataset(series, index, kind, count) {
    var colors = kind === "doughnut" ? PALETTE.slice(0, count) : PALETTE[index % PALETTE.length];
    return { label: series.label, data: series.data, backgroundColor: colors, borderColor: kind === "doughnut" ? "#fff" : colors, borderWidth: 1 };
  }

  function options(kind, stacked) {
    var reduce = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    var base = { responsive: true, maintainAspectRatio: false, animation: reduce ? false : { duration: 400 },
      plugins: { legend: { display: kind === "doughnut" || stacked, position: "bottom" } } };
    if (kind === "doughnut") return base;
    var count = { beginAtZero: true, ticks: { precision: 0 } };
    base.scales = kind === "hbar" ? { x: count, y: { ticks: { autoSkip: false } } }
      : { x: { stacked: stacked }, y: Object.assign({ stacked: stacked }, count) };
    if (kind === "hbar") base.indexAxis = "y";
    return base;
  }

  function draw(canvas, spec) {
    var kind = canvas.getAttribute("data-kind");
    var stacked = spec.series.length > 1;
    return new window.Chart(canvas, {
      type: kind === "hbar" ? "bar" : kind,
      data: { labels: spec.labels, datasets: spec.series.map(function (s, i) { return dataset(s, i, kind, spec.labels.length); }) },
      options: options(kind, stacked)
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var source = document.getElementById("dashboard-data");
    if (!source || typeof window.Chart === "undefined") return;
    var charts = JSON.parse(source.textContent);
    window.Chart.defaults.font.family = "system-ui, sans-serif";
    window.Chart.defaults.color = "#1b1f24";
    document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      var spec = charts[canvas.getAttribute("data-chart")];
      if (spec && spec.labels.length) {
        draw(canvas, spec);
        canvas.closest(".chart-card").classList.add("drawn");
      }
    });
  });
})();

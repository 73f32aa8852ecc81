// The national indicators page's charts: dispensing per province per day (stacked lines), open
// alerts by kind (bars) and stock near expiry (the province map). The figures come from the
// results' <script type="application/json" id="indicator-charts"> block; the charts are drawn
// again whenever htmx swaps in new results for other filters. The chart containers are found by
// data-chart, not by id: htmx copies an old element's attributes onto the new one of the same id
// while settling, and ECharts' style attribute on the old one would break the CSP.
(() => {
  "use strict";
  const charts = [];
  function chartIn(name) {
    const container = document.querySelector(`[data-chart="${name}"]`);
    if (!container) return null;
    const chart = echarts.init(container, null, { renderer: "canvas" });
    charts.push(chart);
    return chart;
  }
  function drawDispensing(figures, digits, persian) {
    const chart = chartIn("dispensing");
    if (!chart) return;
    chart.setOption({
      tooltip: { trigger: "axis", renderMode: "richText", valueFormatter: (v) => digits(v) },
      legend: { type: "scroll", top: 0 },
      grid: { left: 50, right: 50, top: 40, bottom: 60 },
      xAxis: { type: "category", data: figures.days, inverse: persian, boundaryGap: false },
      yAxis: { type: "value", position: persian ? "right" : "left", axisLabel: { formatter: (v) => digits(v) } },
      dataZoom: [{ type: "slider", bottom: 10, inverse: persian }],
      series: figures.dispensing.map((line) => ({
        name: line.name, type: "line", stack: "packs", areaStyle: {}, symbol: "none", data: line.data,
      })),
    });
    chart.getDom().dataset.drawn = String(figures.dispensing.length);
  }
  function drawOpenAlerts(figures, digits, persian) {
    const chart = chartIn("open-alerts");
    if (!chart) return;
    chart.setOption({
      tooltip: { trigger: "item", renderMode: "richText", formatter: (p) => `${p.name}: ${digits(p.value)}` },
      grid: { left: 10, right: 10, top: 10, bottom: 30, containLabel: true },
      xAxis: { type: "value", inverse: persian, axisLabel: { formatter: (v) => digits(v) }, minInterval: 1 },
      yAxis: { type: "category", position: persian ? "right" : "left", inverse: true,
               axisLabel: { width: 180, overflow: "break" },
               data: figures.open_alerts.map((d) => d.name) },
      series: [{ name: figures.words.open, type: "bar", data: figures.open_alerts.map((d) => d.value),
                 barMaxWidth: 24, itemStyle: { color: "#b3261e" } }],
    });
    chart.getDom().dataset.drawn = String(figures.open_alerts.length);
  }
  function draw() {
    const block = document.getElementById("indicator-charts");
    while (charts.length) charts.pop().dispose();
    if (!block || !window.echarts) return;
    const figures = JSON.parse(block.textContent);
    const persian = figures.lang === "fa";
    const digits = (n) => Number(n).toLocaleString(persian ? "fa-IR" : "en-US");
    drawDispensing(figures, digits, persian);
    drawOpenAlerts(figures, digits, persian);
    const map = document.querySelector('[data-chart="near-expiry"]');
    if (map) {
      map.dataset.lang = figures.lang;
      window.DaruTraceMaps.drawProvinceMap(map, figures.near_expiry, figures.words.near_expiry)
        .then((chart) => charts.push(chart));
    }
  }
  document.addEventListener("DOMContentLoaded", draw);
  document.addEventListener("htmx:afterSettle", (event) => {
    if (event.target.id === "indicator-results") draw();
  });
  window.addEventListener("resize", () => charts.forEach((chart) => chart.resize()));
})();

// The batch page's map: packs per province, drawn by ECharts over the vendored map of Iran's
// provinces. The numbers come from the page's <script type="application/json"> block (no inline
// script: the CSP allows only files from here).
(() => {
  "use strict";
  function draw(container) {
    const data = JSON.parse(document.getElementById("batch-map-data").textContent);
    const labels = Object.fromEntries(data.map((d) => [d.name, d.label]));
    const persian = container.dataset.lang === "fa";
    const digits = (n) => n.toLocaleString(persian ? "fa-IR" : "en-US");
    fetch(container.dataset.geo, { credentials: "same-origin" })
      .then((response) => response.json())
      .then((geo) => {
        echarts.registerMap("iran", geo);
        const names = Object.fromEntries(
          geo.features.map((f) => [f.properties.name, persian ? f.properties.name_fa : f.properties.name]),
        );
        const chart = echarts.init(container, null, { renderer: "canvas" });
        const most = Math.max(1, ...data.map((d) => d.value));
        chart.setOption({
          // Plain-text tooltips: HTML ones set style attributes, which the CSP refuses.
          tooltip: {
            trigger: "item",
            renderMode: "richText",
            formatter: (p) => `${labels[p.name] || names[p.name] || p.name}: ${digits(p.value || 0)}`,
          },
          visualMap: {
            min: 0, max: most, left: persian ? "right" : "left", bottom: 10, calculable: true,
            inRange: { color: ["#e8f1fb", "#1f5fa8"] },
            formatter: (v) => digits(Math.round(v)),
          },
          series: [{
            name: container.dataset.series,
            type: "map",
            map: "iran",
            roam: false,
            nameMap: names,
            label: { show: false },
            emphasis: { label: { show: true } },
            data: data.map((d) => ({ name: persian ? names[d.name] || d.label : d.name, value: d.value })),
          }],
        });
        container.dataset.drawn = String(geo.features.length);
        window.addEventListener("resize", () => chart.resize());
      });
  }
  document.addEventListener("DOMContentLoaded", () => {
    const container = document.getElementById("batch-map");
    if (container && window.echarts) draw(container);
  });
})();

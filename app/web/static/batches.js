// The batch page's map: packs per province (province-map.js draws it). The numbers come from
// the page's <script type="application/json"> block (no inline script: the CSP allows only
// files from here).
(() => {
  "use strict";
  document.addEventListener("DOMContentLoaded", () => {
    const container = document.getElementById("batch-map");
    if (!container || !window.echarts) return;
    const data = JSON.parse(document.getElementById("batch-map-data").textContent);
    window.DaruTraceMaps.drawProvinceMap(container, data, container.dataset.series)
      .then((chart) => window.addEventListener("resize", () => chart.resize()));
  });
})();

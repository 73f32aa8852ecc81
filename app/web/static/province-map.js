// Iran's 31 provinces as an ECharts map, shared by the pages that draw one (batch, indicators):
// the vendored GeoJSON is fetched and registered once; the map shows a value per province, with
// plain-text tooltips (HTML ones set style attributes, which the CSP refuses).
(() => {
  "use strict";
  let geography = null;
  function loadGeography(url) {
    geography = geography || fetch(url, { credentials: "same-origin" })
      .then((response) => response.json())
      .then((geo) => { echarts.registerMap("iran", geo); return geo; });
    return geography;
  }
  // data: [{name: the feature's English name, label: shown name, value}]; the container carries
  // data-geo (the GeoJSON's address) and data-lang; afterwards data-drawn = how many provinces.
  function drawProvinceMap(container, data, seriesName) {
    const persian = container.dataset.lang === "fa";
    const digits = (n) => n.toLocaleString(persian ? "fa-IR" : "en-US");
    const labels = Object.fromEntries(data.map((d) => [d.name, d.label]));
    return loadGeography(container.dataset.geo).then((geo) => {
      const names = Object.fromEntries(
        geo.features.map((f) => [f.properties.name, persian ? f.properties.name_fa : f.properties.name]),
      );
      const chart = echarts.getInstanceByDom(container) || echarts.init(container, null, { renderer: "canvas" });
      const most = Math.max(1, ...data.map((d) => d.value));
      chart.setOption({
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
          name: seriesName,
          type: "map",
          map: "iran",
          roam: false,
          nameMap: names,
          label: { show: false },
          emphasis: { label: { show: true } },
          data: data.map((d) => ({ name: persian ? names[d.name] || d.label : d.name, value: d.value })),
        }],
      }, true);
      container.dataset.drawn = String(geo.features.length);
      return chart;
    });
  }
  window.DaruTraceMaps = { drawProvinceMap };
})();

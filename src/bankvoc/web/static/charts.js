/* BankVOC charts: draws the figures the page already shows in its tables, with ECharts
   (installed from npm at set-up and served from /static/vendor; never a CDN).
   No inline script: the data comes in <script type="application/json"> blocks, named by each
   chart's data-source attribute. A click on a bar, slice or point follows its drill-down link. */
(function () {
  "use strict";

  var PALETTE = ["#0a58a8", "#c8a24a", "#1f6b3a", "#a11d1d", "#6d4bb3", "#0e7c86",
                 "#b4541a", "#526072", "#7a9cc6", "#d97fa3"];
  var FONT = getComputedStyle(document.body).fontFamily;

  function readJson(id) {
    var block = document.getElementById(id);
    if (!block) { return null; }
    try { return JSON.parse(block.textContent || "null"); } catch (e) { return null; }
  }

  function follow(url) {
    if (url) { window.location.assign(url); }
  }

  function shareOption(data) {
    return {
      color: PALETTE,
      textStyle: { fontFamily: FONT },
      aria: { enabled: true },
      tooltip: { trigger: "item", formatter: "{b}: {c} ({d}%)" },
      legend: { type: "scroll", orient: "vertical", right: 0, top: "middle",
                textStyle: { fontSize: 12 } },
      series: [{
        type: "pie", radius: ["42%", "70%"], center: ["35%", "50%"], avoidLabelOverlap: true,
        label: { show: false }, labelLine: { show: false },
        emphasis: { label: { show: true, fontWeight: "bold" } },
        data: data.items.map(function (item) {
          return { name: item.name, value: item.value, url: item.url,
                   cursor: item.url ? "pointer" : "default" };
        })
      }]
    };
  }

  function trendOption(data) {
    return {
      color: ["#0a58a8", "#c8a24a"],
      textStyle: { fontFamily: FONT },
      aria: { enabled: true },
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { left: 48, right: 48, top: 36, bottom: 28 },
      xAxis: { type: "category", data: data.months },
      yAxis: [
        { type: "value", name: data.count_axis, minInterval: 1 },
        { type: "value", name: data.rate_axis, min: 0, max: 100, splitLine: { show: false } }
      ],
      series: [
        { type: "bar", name: data.complaints.name, data: data.complaints.values,
          barMaxWidth: 28, urls: data.complaints.urls },
        { type: "line", name: data.on_time.name, yAxisIndex: 1, data: data.on_time.values,
          connectNulls: false, symbolSize: 8, urls: data.on_time.urls }
      ]
    };
  }

  /* The contact centre's days: calls as bars, the service level as a line against its
     target in force (a dashed line). */
  function contactTrendOption(data) {
    return {
      color: ["#9aa7b8", "#0a58a8"],
      textStyle: { fontFamily: FONT },
      aria: { enabled: true },
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { left: 48, right: 48, top: 36, bottom: 28 },
      xAxis: { type: "category", data: data.days },
      yAxis: [
        { type: "value", name: data.count_axis, minInterval: 1 },
        { type: "value", name: data.rate_axis, min: 0, max: 100, splitLine: { show: false } }
      ],
      series: [
        { type: "bar", name: data.volume.name, data: data.volume.values, barMaxWidth: 18 },
        { type: "line", name: data.service_level.name, yAxisIndex: 1,
          data: data.service_level.values, connectNulls: false, symbolSize: 5,
          /* no dashed line when the targets in force set no service level */
          markLine: data.target.value === null ? undefined : {
                      silent: true, symbol: "none", lineStyle: { type: "dashed", color: "#a11d1d" },
                      label: { position: "insideEndTop",
                               formatter: data.target.name + " " + data.target.value + "%" },
                      data: [{ yAxis: data.target.value }] } }
      ]
    };
  }

  function errorBar(params, api) {
    var x = api.value(0), low = api.value(1), high = api.value(2);
    var top = api.coord([x, high]), bottom = api.coord([x, low]);
    var half = api.size([1, 0])[0] * 0.12;
    var style = { stroke: "#18212d", lineWidth: 2 };
    return {
      type: "group",
      children: [
        { type: "line", shape: { x1: top[0], y1: top[1], x2: bottom[0], y2: bottom[1] }, style: style },
        { type: "line", shape: { x1: top[0] - half, y1: top[1], x2: top[0] + half, y2: top[1] }, style: style },
        { type: "line", shape: { x1: bottom[0] - half, y1: bottom[1], x2: bottom[0] + half, y2: bottom[1] }, style: style }
      ]
    };
  }

  function effectOption(data) {
    var last = data.categories.length - 1;
    var did = data.did;
    var good = did.value !== null && (did.value < 0) === (data.better === "lower");
    var blank = data.categories.map(function () { return ""; });
    return {
      color: ["#0a58a8", "#9aa7b8", good ? "#1f6b3a" : "#b4541a"],
      textStyle: { fontFamily: FONT },
      aria: { enabled: true },
      tooltip: { trigger: "item" },
      legend: { top: 0, data: [data.pilot.name, data.comparison.name, did.name] },
      grid: { left: 52, right: 16, top: 48, bottom: 28 },
      /* The estimate and its interval sit on a second, hidden axis of the same categories,
         so they are centred on theirs while the before/after bars stand side by side. */
      xAxis: [
        { type: "category", data: data.categories },
        { type: "category", data: blank, show: false }
      ],
      yAxis: { type: "value" },
      series: [
        { type: "bar", name: data.pilot.name, data: data.pilot.values.concat([null]),
          barMaxWidth: 26 },
        { type: "bar", name: data.comparison.name,
          data: data.comparison.values.concat([null]), barMaxWidth: 26 },
        { type: "bar", name: did.name, xAxisIndex: 1, barMaxWidth: 26,
          data: blank.map(function (_, i) { return i === last ? did.value : null; }) },
        { type: "custom", name: did.interval, xAxisIndex: 1, renderItem: errorBar, z: 10,
          encode: { x: 0, y: [1, 2] },
          tooltip: { formatter: function () {
            return did.interval + ": [" + fmt(did.low) + ", " + fmt(did.high) + "]";
          } },
          data: (did.low === null || did.high === null) ? [] : [[last, did.low, did.high]] }
      ]
    };
  }

  /* One line per series over the months, and the target as a dashed line when one holds
     for all of them (the service-data page). */
  function linesOption(data) {
    var series = data.series.map(function (item) {
      return { type: "line", name: item.name, data: item.values, connectNulls: false,
               symbolSize: 7 };
    });
    if (data.target !== null && data.target !== undefined && series.length) {
      series[0].markLine = {
        silent: true, symbol: "none", lineStyle: { type: "dashed", color: "#a11d1d" },
        label: { formatter: data.target_name + " " + data.target },
        data: [{ yAxis: data.target }]
      };
    }
    return {
      color: PALETTE,
      textStyle: { fontFamily: FONT },
      aria: { enabled: true },
      tooltip: { trigger: "axis" },
      legend: { type: "scroll", top: 0 },
      grid: { left: 56, right: 72, top: 40, bottom: 28 },
      xAxis: { type: "category", data: data.months },
      yAxis: { type: "value", scale: Boolean(data.scale) },
      series: series
    };
  }

  function fmt(value) {
    return value === null || value === undefined ? "—" : Number(value).toFixed(2);
  }

  function draw(element, option) {
    var chart = window.echarts.init(element, null, { renderer: "canvas" });
    chart.setOption(option);
    chart.on("click", function (params) {
      if (params.data && params.data.url) { follow(params.data.url); return; }
      var urls = option.series[params.seriesIndex] && option.series[params.seriesIndex].urls;
      if (urls) { follow(urls[params.dataIndex]); }
    });
    element.setAttribute("data-drawn", "true");
    return chart;
  }

  function start() {
    if (!window.echarts) { return; }
    var charts = [];
    var elements = document.querySelectorAll("[data-chart]");
    Array.prototype.forEach.call(elements, function (element) {
      var data = readJson(element.getAttribute("data-source"));
      if (!data) { return; }
      var kind = element.getAttribute("data-chart");
      if (kind === "share" && data.share) {
        if (!data.share.items.length) { return; }
        charts.push(draw(element, shareOption(data.share)));
      } else if (kind === "trend" && data.trend) {
        charts.push(draw(element, trendOption(data.trend)));
      } else if (kind === "lines") {
        var wanted = element.getAttribute("data-id");
        var chosen = data.filter(function (item) { return item.id === wanted; })[0];
        if (chosen) { charts.push(draw(element, linesOption(chosen))); }
      } else if (kind === "contact-trend" && data.contact_trend) {
        charts.push(draw(element, contactTrendOption(data.contact_trend)));
      } else if (kind === "effect") {
        var id = element.getAttribute("data-id");
        var found = data.filter(function (item) { return item.id === id; })[0];
        if (found) { charts.push(draw(element, effectOption(found))); }
      }
    });
    window.addEventListener("resize", function () {
      charts.forEach(function (chart) { chart.resize(); });
    });
  }

  /* The period picker shows the fields of the kind chosen (all of them without script). */
  function periodPicker() {
    var form = document.querySelector("[data-period-form]");
    if (!form) { return; }
    var kind = form.querySelector("[data-period-kind]");
    function show() {
      Array.prototype.forEach.call(form.querySelectorAll("[data-for-kind]"), function (field) {
        field.hidden = field.getAttribute("data-for-kind") !== kind.value;
      });
    }
    kind.addEventListener("change", show);
    show();
  }

  function ready() {
    periodPicker();
    start();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", ready);
  } else {
    ready();
  }
}());

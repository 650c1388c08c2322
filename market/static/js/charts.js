/*
 * Draws the statistics charts with Apache ECharts (vendored in /static/vendor/echarts).
 *
 * Each chart container carries its data as JSON in a data-chart attribute (the CSP forbids inline
 * script); the spec formats are described in market/stats/sections.py. Tooltips use ECharts'
 * richText mode, drawn on the canvas, because its HTML tooltips carry inline style attributes
 * that the CSP (style-src 'self') would block. Without JavaScript the tables below the charts remain.
 */
(function () {
  "use strict";

  var PALETTE = ["#0d6efd", "#fd7e14", "#198754", "#6f42c1", "#dc3545", "#20c997", "#ffc107", "#6c757d"];

  function formatNumber(value) {
    if (typeof value !== "number") {
      return value;
    }
    return value.toLocaleString("zh-CN", { maximumFractionDigits: 2 });
  }

  function base() {
    return {
      color: PALETTE,
      aria: { enabled: true },
      animation: false,
      tooltip: { renderMode: "richText", valueFormatter: formatNumber },
      legend: { top: 0 },
      grid: { left: 16, right: 16, top: 48, bottom: 8, containLabel: true }
    };
  }

  function valueAxis(name, integer, position, gridLines) {
    // counts get whole-number ticks; money may have fractions
    return { type: "value", name: name, position: position, minInterval: integer ? 1 : 0, splitLine: { show: gridLines } };
  }

  function combo(spec) {
    var option = base();
    var longLabels = spec.categories.some(function (c) { return String(c).length > 4; });
    option.tooltip.trigger = "axis";
    option.xAxis = {
      type: "category",
      data: spec.categories,
      axisLabel: { interval: 0, rotate: longLabels || spec.categories.length > 12 ? 30 : 0 }
    };
    option.yAxis = spec.axes.map(function (axis, i) {
      return valueAxis(axis.name, axis.integer, i === 0 ? "left" : "right", i === 0);
    });
    option.series = spec.series.map(function (s) {
      return { name: s.name, type: s.kind, yAxisIndex: s.axis, data: s.data };
    });
    return option;
  }

  function hbar(spec) {
    var option = base();
    option.tooltip.trigger = "axis";
    // one value axis per series, named by its unit (万元 at the bottom, 件 on top): counts and amounts
    // never share a scale
    option.xAxis = spec.series.map(function (s, i) {
      var axis = valueAxis(s.unit || s.name, s.integer, i === 0 ? "bottom" : "top", i === 0);
      axis.nameLocation = "end";
      return axis;
    });
    option.yAxis = { type: "category", data: spec.categories, inverse: true };
    option.series = spec.series.map(function (s, i) {
      return { name: s.name, type: "bar", xAxisIndex: i, data: s.data };
    });
    option.grid.top = 64;
    return option;
  }

  function pie(spec) {
    var option = base();
    option.tooltip.trigger = "item";
    option.series = [{
      name: spec.series_name,
      type: "pie",
      radius: ["35%", "65%"],
      top: 32,
      data: spec.data,
      label: { formatter: "{b}\n{d}%" }
    }];
    return option;
  }

  function funnel(spec) {
    var option = base();
    option.tooltip.trigger = "item";
    option.series = [{
      name: spec.series_name,
      type: "funnel",
      sort: "none",
      top: 40,
      bottom: 8,
      minSize: "8%",
      data: spec.data,
      // every stage labelled inside its band with its Chinese name and count (the spec's text)
      label: {
        show: true,
        position: "inside",
        color: "#fff",
        textBorderColor: "rgba(0, 0, 0, 0.6)",
        textBorderWidth: 2,
        formatter: function (p) { return (p.data && p.data.text) || (p.name + "：" + formatNumber(p.value)); }
      },
      labelLayout: { hideOverlap: false }
    }];
    return option;
  }

  var BUILDERS = { combo: combo, hbar: hbar, pie: pie, funnel: funnel };

  function draw() {
    if (!window.echarts) {
      return;
    }
    var charts = [];
    document.querySelectorAll("[data-chart]").forEach(function (el) {
      var spec;
      try {
        spec = JSON.parse(el.getAttribute("data-chart"));
      } catch (err) {
        return;
      }
      var build = BUILDERS[spec.type];
      if (!build) {
        return;
      }
      var chart = window.echarts.init(el, null, { renderer: "canvas" });
      chart.setOption(build(spec));
      el.setAttribute("data-chart-drawn", "true");
      charts.push(chart);
    });
    window.addEventListener("resize", function () {
      charts.forEach(function (chart) { chart.resize(); });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
}());

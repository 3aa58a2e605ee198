/* The trends as charts people read: Plotly (it ships with Dash, served by the app itself),
   with axes, units, the target as a labelled line; hover on /sup, large type and no hover on
   the wall. One look for every screen and language: the words come from the page's catalogue,
   numbers from the page's locale.
   A chart's element carries data-tick, so the screens' patcher (a_core.js) leaves Plotly's
   own DOM alone; `draw` redraws only when the trend itself changed. */
(function () {
  "use strict";
  const cb = (window.callboard = window.callboard || {});
  const SRC = "/_dash-component-suites/plotly/package_data/plotly.min.js";
  const COLOR = { line: "#60a5fa", target: "#f59e0b", answered: "#1e40af", abandoned: "#b91c1c",
    grid: "rgba(148,163,184,.18)", text: "#cbd5e1", good: "#22c55e", warn: "#f59e0b", bad: "#ef4444", none: "#94a3b8" };
  let loading = null;

  function load() {
    if (window.Plotly) return Promise.resolve(window.Plotly);
    if (!loading) {
      loading = new Promise(function (resolve, reject) {
        const s = document.createElement("script");
        s.src = SRC;
        s.onload = function () { resolve(window.Plotly); };
        s.onerror = function () { loading = null; reject(new Error("plotly did not load")); };
        document.head.appendChild(s);
      });
    }
    return loading;
  }

  /* The chart's element: the patcher keeps it while `key` stays (data-tick). */
  function box(id, key, cls) {
    return '<div class="chart ' + cb.esc(cls || "") + '" id="' + cb.esc(id) + '" data-tick="chart ' + cb.esc(key) + '"></div>';
  }

  function figure(trend, opts) {
    const pts = (trend && trend.points) || [];
    const x = pts.map(function (p) { return p.start; });
    const sl = pts.map(function (p) { return p.service_level.value; });
    const pct = new Intl.NumberFormat(cb.lang, { style: "percent", maximumFractionDigits: 0 });
    const slName = cb.w("common.chart.service_level");
    const data = [];
    if (opts.bars) {
      data.push({ type: "bar", name: cb.w("common.chart.answered"), x: x, y: pts.map(function (p) { return p.answered; }),
        yaxis: "y2", marker: { color: COLOR.answered }, hovertemplate: "%{y}<extra>%{fullData.name}</extra>" });
      data.push({ type: "bar", name: cb.w("common.chart.abandoned"), x: x, y: pts.map(function (p) { return p.abandoned; }),
        yaxis: "y2", marker: { color: COLOR.abandoned }, hovertemplate: "%{y}<extra>%{fullData.name}</extra>" });
    }
    // an agent or a team has no service level of its own: then the calls alone, no empty axis
    const hasSl = !opts.bars || sl.some(function (v) { return v !== null && v !== undefined; });
    if (hasSl) data.push({ type: "scatter", mode: "lines+markers", name: slName, x: x, y: sl, connectgaps: false,
      line: { color: COLOR.line, width: opts.big ? 4 : 2 },
      marker: { size: opts.big ? 9 : 6, color: pts.map(function (p) { return COLOR[p.service_level.level] || COLOR.none; }) },
      text: sl.map(function (v) { return v === null || v === undefined ? "" : pct.format(v); }),
      hovertemplate: "%{x} · %{text}<extra>" + cb.esc(slName) + "</extra>" });
    const shapes = [], notes = [];
    if (hasSl && trend && trend.target !== null && trend.target !== undefined) {
      shapes.push({ type: "line", xref: "paper", x0: 0, x1: 1, yref: "y", y0: trend.target, y1: trend.target,
        line: { color: COLOR.target, width: opts.big ? 3 : 2, dash: "dash" } });
      notes.push({ xref: "paper", x: 0, xanchor: "left", yref: "y", y: trend.target, yanchor: "bottom",
        text: cb.esc(cb.w("common.chart.target", { v: pct.format(trend.target) })), showarrow: false,
        font: { color: COLOR.target, size: opts.font }, bgcolor: "rgba(15,23,42,.75)" });
    }
    if (opts.compact) {
      // a short tile (a portrait TV, a 4:3 screen): the day's line and the target only, as a
      // sparkline; axes' type would leave no height for the line itself
      return { data: data, layout: {
        paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)", showlegend: false,
        margin: { l: 2, r: 2, t: 4, b: 4 }, hovermode: false,
        xaxis: { type: "category", visible: false },
        yaxis: { range: [0, 1.05], visible: false, fixedrange: true },
        shapes: shapes } };
    }
    const layout = {
      paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)",
      font: { color: COLOR.text, size: opts.font, family: "inherit" },
      margin: { l: opts.font * 3.4, r: opts.bars ? opts.font * 3 : opts.font * 0.8, t: opts.font * 0.6, b: opts.font * 2 },
      showlegend: !!opts.bars, legend: { orientation: "h", x: 1, xanchor: "right", y: 1.02, yanchor: "bottom" },
      barmode: "stack", bargap: 0.15, hovermode: opts.hover ? "x unified" : false,
      xaxis: { type: "category", gridcolor: COLOR.grid, tickfont: { size: opts.font }, nticks: opts.big ? 4 : 9,
        tickangle: 0, automargin: true },
      // the service level's axis is in per cent and the legend (or the tile's label) names it
      yaxis: { range: [0, 1.05], tickformat: ".0%", visible: hasSl,
        tickvals: [0, 0.5, 1], gridcolor: COLOR.grid, tickfont: { size: opts.font }, zeroline: false, fixedrange: true },
      shapes: shapes, annotations: notes,
    };
    if (opts.bars) {
      layout.yaxis2 = { overlaying: "y", side: "right", rangemode: "tozero", showgrid: false, fixedrange: true, tickformat: "d",
        title: { text: cb.w("common.chart.calls"), font: { size: opts.font } }, tickfont: { size: opts.font } };
      layout.legend.traceorder = "normal";
    }
    return { data: data, layout: layout };
  }

  /* Draw `trend` into the element `id` (made by `box`) when it changed or the size did.
     opts: {big: the wall's large type, no hover; bars: answered and abandoned per interval;
     hover: values on hover}. */
  function draw(id, trend, opts) {
    const el = document.getElementById(id);
    if (!el) return;
    const o = Object.assign({ big: false, bars: false, hover: false }, opts || {});
    o.font = o.big ? Math.max(16, Math.round(window.innerHeight * 0.022)) : 12;
    const W = el.clientWidth, H = el.clientHeight;
    // axes need about six lines of their type; below that the chart is a sparkline
    o.compact = H < o.font * 6;
    const sig = cb.lang + "|" + el.dataset.tick + "|" + W + "x" + H + "|" + JSON.stringify(trend || null);
    if (el.__sig === sig) return;
    if (W < 80 || H < 24) {
      // no room even for a sparkline: none, rather than Plotly's default 700 x 450 spilling
      // over the screen
      el.__sig = sig;
      if (window.Plotly && el.__key) { window.Plotly.purge(el); el.__key = null; }
      return;
    }
    load().then(function (Plotly) {
      if (el.__sig === sig) return;
      const redo = el.__key !== el.dataset.tick;
      el.__sig = sig;
      el.__key = el.dataset.tick;
      const f = figure(trend, o);
      f.layout.width = W;
      f.layout.height = H;
      // sized by the screen's own render on resize (the size is part of the signature)
      const config = { displayModeBar: false, responsive: false, staticPlot: !o.hover, locale: cb.lang };
      if (redo) Plotly.purge(el);
      Plotly.react(el, f.data, f.layout, config);
    }).catch(function () { /* the next render tries again */ });
  }

  cb.charts = { box: box, draw: draw, figure: figure, load: load };
})();

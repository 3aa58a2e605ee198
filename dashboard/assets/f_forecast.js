/* Today against its forecast (docs/FORECAST.md). /sup: a Plotly chart of the chosen queue
   (forecast, offered so far, reforecast; agents required vs scheduled) in its own region under
   the queues, which the page's patches never touch (Plotly owns that DOM). The wall: one line
   under the header, "today: 3,120 calls forecast, 8 % above so far; 11:00–12:00 short 4
   agents". Both read /api/v1/forecast once a minute: a forecast moves by the quarter hour. */
(function () {
  "use strict";
  const cb = (window.callboard = window.callboard || {});
  const esc = function (s) { return cb.esc(s); };
  const EVERY_MS = 60000;
  let wallData = null, wallTimer = null;
  let supQueue = null, supData = null, supFigure = null, supTimer = null;

  function hhmm(iso) {
    const opts = { hour: "2-digit", minute: "2-digit", hour12: false };
    if (cb.timezone) opts.timeZone = cb.timezone;
    try { return new Date(iso).toLocaleTimeString(cb.lang, opts); } catch (e) { return iso.slice(11, 16); }
  }

  // the day in one line: the total forecast, how far above or below it the day runs, the
  // shortest hour to come
  function line(total) {
    if (!total || total.forecast_total === null || total.forecast_total === undefined) return "";
    const parts = [cb.w("wall.forecast.total", { n: cb.fmt(Math.round(total.forecast_total), "count") })];
    if (total.ratio !== null && total.ratio !== undefined) {
      const off = total.ratio - 1;
      const pct = cb.fmt(Math.abs(off), "percent");
      parts.push(Math.abs(off) < 0.005 ? cb.w("wall.forecast.on") : cb.w(off > 0 ? "wall.forecast.above" : "wall.forecast.below", { pct: pct }));
    }
    const s = total.short;
    const rest = s ? cb.w(s.agents === 1 ? "wall.forecast.short_one" : "wall.forecast.short", { from: hhmm(s.start), to: hhmm(s.end), n: cb.fmt(s.agents, "count") })
      : cb.w("wall.forecast.covered");
    return parts.join(", ") + "; " + rest;
  }

  async function loadWall(page) {
    const q = page.board.name && page.board.name !== "default" ? "?board=" + encodeURIComponent(page.board.name) : "";
    try {
      wallData = await (await cb.get("/api/v1/forecast" + q)).json();
      cb.render();
    } catch (e) { /* the next round */ }
  }

  async function loadSup(queue) {
    const q = encodeURIComponent(queue);
    try {
      const [data, fig] = await Promise.all([
        cb.get("/api/v1/forecast?queue=" + q).then(function (r) { return r.json(); }),
        cb.get("/api/v1/forecast/figure?queue=" + q + "&lang=" + encodeURIComponent(cb.lang)).then(function (r) { return r.json(); }),
      ]);
      if (queue !== supQueue) return; // the choice moved on meanwhile
      supData = data;
      supFigure = fig;
      drawSup();
    } catch (e) { /* the next round */ }
  }

  async function drawSup() {
    const region = document.getElementById("r-forecast");
    if (!region || !supData) return;
    const q = supData.queues[0];
    region.querySelector(".fc-queue").textContent = supQueue;
    region.querySelector(".fc-line").textContent = line(Object.assign({}, supData.total, { short: q.short }));
    const chart = region.querySelector("#forecast-chart");
    const none = region.querySelector(".fc-none");
    none.hidden = q.method !== null;
    chart.hidden = q.method === null;
    if (q.method === null) return;
    const Plotly = await cb.charts.load(); // the one copy of the page (f_charts.js)
    Plotly.react(chart, supFigure.data, supFigure.layout, { displayModeBar: false, responsive: true });
  }

  cb.forecast = {
    line: line,
    wall: function (page) {
      if (page.board.tiles.indexOf("forecast") < 0) return "";
      if (!wallTimer) {
        loadWall(page);
        wallTimer = setInterval(function () { if (!cb.stale) loadWall(page); }, EVERY_MS);
      }
      const text = wallData ? line(wallData.total) : "";
      return text ? '<div class="wall-forecast" id="wall-forecast">' + esc(text) + "</div>" : "";
    },
    sup: function (state) {
      const t = state.center && state.center.view;
      const anchor = document.getElementById("r-queues");
      if (!t || !anchor) return;
      let region = document.getElementById("r-forecast");
      if (!region) {
        region = document.createElement("section");
        region.id = "r-forecast";
        region.className = "panel";
        region.innerHTML = '<div class="panel-head"><span>' + esc(cb.w("sup.forecast.title")) +
          ' · <b class="fc-queue"></b></span></div><div class="fc-line"></div>' +
          '<div class="hint fc-none" hidden>' + esc(cb.w("sup.forecast.none")) + "</div>" +
          '<div id="forecast-chart" class="forecast-chart"></div>';
        anchor.insertAdjacentElement("afterend", region);
      }
      const queue = (cb.sup && cb.sup.selection.queue) || Object.keys(t.queues).sort()[0] || null;
      if (!queue) return;
      if (queue !== supQueue) {
        supQueue = queue;
        loadSup(queue);
      }
      if (!supTimer) supTimer = setInterval(function () { if (!cb.stale && supQueue) loadSup(supQueue); }, EVERY_MS);
    },
  };
})();

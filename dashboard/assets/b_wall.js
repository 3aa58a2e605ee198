/* /wall and /wall/NAME: the floor's TV. Huge figures, no clicks, pages through the board's
   queues by itself; every figure has its level as colour and as a glyph. */
(function () {
  "use strict";
  const cb = (window.callboard = window.callboard || {});
  cb.screens = cb.screens || {};
  const esc = function (s) { return cb.esc(s); };
  let pageNo = 0;
  let trends = {}, trendsAt = 0, trendsBusy = false;

  function fig(label, html, id) {
    return '<div class="fig"' + (id ? ' id="' + esc(id) + '"' : "") + '><div class="fig-v">' + html +
      '</div><div class="fig-l">' + esc(label) + "</div></div>";
  }

  // the center's agents by state: each agent once, so the four add up to the staffed figure
  // (a queue's tile counted an agent once per queue served: 55 on a call with 28 staffed)
  function agents(a) {
    const reasons = Object.entries(a.away_by_reason || {}).map(function (e) {
      return esc(cb.reason(e[0])) + " " + esc(cb.fmt(e[1], "count"));
    }).join(", ");
    const one = function (cls, icon, n, label) {
      return '<span class="st st-' + cls + '"><i>' + icon + "</i> " + esc(cb.fmt(n, "count")) +
        ' <small>' + esc(label) + "</small></span>";
    };
    return one("available", "●", a.available, cb.w("wall.available")) +
      one("on_call", "☎", a.on_call, cb.w("wall.on_call")) +
      one("wrap_up", "✎", a.wrap_up, cb.w("wall.wrap_up")) +
      one("away", "‖", a.away, cb.w("wall.away") + (reasons ? " (" + reasons + ")" : ""));
  }
  // a queue's own line: who could take its next call now (an agent serving several queues is
  // free for each of them; the states of all are counted once, in the header)
  function queueAgents(a) {
    return '<span class="st st-available"><i>●</i> ' + esc(cb.fmt(a.available, "count")) + " <small>" +
      esc(cb.w("wall.available")) + '</small></span><span class="st st-staffed">' +
      esc(cb.fmt(a.logged_in, "count")) + " <small>" + esc(cb.w("wall.serving")) + "</small></span>";
  }

  const WORST = { bad: 3, warn: 2, good: 1, none: 0 };
  function worst(levels) {
    let w = "none";
    for (const l of levels) if ((WORST[l] || 0) > WORST[w]) w = l;
    return w;
  }

  // "waiting N + M callbacks": callbacks wait apart from the callers on the line
  function callbacks(q) {
    const n = q.callbacks && q.callbacks.value;
    if (!n) return "";
    return '<span class="callbacks" id="callbacks-' + esc(q.key) + '">' +
      esc(n === 1 ? cb.w("wall.callbacks_one") : cb.w("wall.callbacks", { n: cb.fmt(n, "count") })) + "</span>";
  }

  function tile(q, tiles, view) {
    const has = function (t) { return tiles.indexOf(t) >= 0; };
    const recentLabel = cb.w("wall.sl_recent", { window: cb.w("common.window." + (q.recent_window || "30m")) });
    const rule = q.sl_target !== null && q.sl_target !== undefined
      ? cb.w("wall.sl_rule", { s: cb.fmt(q.sl_threshold_s, "count"), target: cb.fmt(q.sl_target, "percent") })
      : cb.w("wall.sl_rule_no_target", { s: cb.fmt(q.sl_threshold_s, "count") });
    const level = worst([q.waiting.level, q.service_level.level, q.service_level_recent.level, q.abandon_rate.level]);
    const main = [];
    if (has("waiting")) main.push(fig(cb.w("wall.waiting"), cb.cell(q.waiting, { id: "waiting-" + q.key }) + callbacks(q)));
    if (has("longest_wait")) main.push(fig(cb.w("wall.longest_wait"), cb.timer(q.longest, { id: "longest-" + q.key })));
    const figs = [];
    if (has("service_level")) figs.push(fig(cb.w("wall.sl_today"), cb.cell(q.service_level, { id: "sl-" + q.key })));
    if (has("service_level_recent") && q.recent_window) figs.push(fig(recentLabel, cb.cell(q.service_level_recent, { id: "slr-" + q.key })));
    if (has("asa")) figs.push(fig(cb.w("wall.asa"), cb.cell(q.asa, { id: "asa-" + q.key })));
    if (has("abandon_rate")) figs.push(fig(cb.w("wall.abandon_rate"), cb.cell(q.abandon_rate, { id: "abandon-" + q.key })));
    // figure tiles (app/screens/tiles.py): a metric under its short name, in the board's order
    tiles.forEach(function (t) {
      const f = (q.figures || {})[t];
      if (f) figs.push(fig(cb.w(f.label), cb.cell(f.cell, { id: "fig-" + t + "-" + q.key })));
    });
    return '<section class="tile lvl-' + level + '" id="tile-' + esc(q.key) + '">' +
      '<h2><span class="qname">' + esc(cb.name("queue", q.key)) + "</span>" + cb.glyph(level) + '<small>' + esc(rule) + "</small></h2>" +
      '<div class="main">' + main.join("") + "</div>" +
      '<div class="figs">' + figs.join("") + "</div>" +
      (has("agents") ? '<div class="agents" id="agents-' + esc(q.key) + '">' + queueAgents(q.agents) + "</div>" : "") +
      (has("trend") ? '<div class="trend"><span class="fig-l">' + esc(cb.w("wall.trend")) + "</span>" +
        cb.charts.box("trend-" + q.key, q.key, "wall-trend") + "</div>" : "") +
      "</section>";
  }

  function layout(n) {
    const wide = window.innerWidth / Math.max(1, window.innerHeight);
    let cols;
    if (wide < 0.9) cols = 1;                 // portrait
    else if (n <= 3) cols = n;
    else if (wide < 1.5) cols = 2;            // 4:3, 5:4
    else cols = Math.min(n, n <= 4 ? 2 : 3);  // 16:10, 16:9
    if (wide >= 1.5 && n === 4) cols = 4;
    return { cols: Math.max(1, cols), rows: Math.max(1, Math.ceil(n / Math.max(1, cols))) };
  }

  function render(state, page) {
    const root = document.getElementById("screen");
    const board = page.board;
    const t = state.center && state.center.view;
    const title = board.title || cb.w("wall.title");
    let head = '<header class="wall-head"><div class="title">' + esc(title) + "</div>";
    let body = "", foot = "";
    if (t && t.center) {
      const c = t.center;
      const recent = cb.w("wall.center_recent", { window: cb.w("common.window." + c.recent_window) });
      head += '<div class="center-figs">' +
        fig(cb.w("wall.center_sl"), cb.cell(c.service_level, { id: "center-sl" })) +
        (c.recent_window ? fig(recent, cb.cell(c.service_level_recent)) : "") +
        fig(cb.w("wall.answered"), cb.cell(c.answered, { glyph: false, id: "center-answered" })) +
        fig(cb.w("wall.abandoned"), cb.cell(c.abandon_rate)) +
        fig(cb.w("wall.waiting"), cb.cell(c.waiting, { id: "center-waiting" })) +
        "</div>" +
        '<div class="staffing" id="wall-staffing" title="' + esc(cb.w(c.projection_note || "common.no_projection")) + '">' +
        fig(cb.w("wall.staffed"), cb.cell(c.staffed, { id: "center-staffed" })) +
        fig(cb.w("wall.needed"), cb.cell(c.required, { glyph: false, id: "center-needed" })) +
        fig(cb.w(c.projection_note === "common.projection_queues_red" ? "wall.next_at_risk" : "wall.next"),
          cb.cell(c.projection, { id: "center-next" })) +
        "</div>";
    }
    head += '<div class="when"><div id="clock" data-tick="clock"></div><div id="freshness" data-tick="fresh" class="fresh wait"></div></div>' +
      (cb.sources ? cb.sources.behind(state, "wall") : "") + // a stale source (e_sources.js)
      (t && t.center ? '<div class="agents center-agents" id="center-agents" title="' + esc(cb.w("wall.agents_center")) + '">' +
        agents(t.center.agents) + "</div>" : "") + "</header>";
    if (!t) {
      body = '<div class="waiting-for-data">' + esc(cb.w("common.waiting_for_data")) + "</div>";
    } else {
      const names = (board.queues && board.queues.length ? board.queues : Object.keys(t.queues).sort())
        .filter(function (k) { return t.queues[k]; });
      if (!names.length) {
        body = '<div class="waiting-for-data">' + esc(cb.w("wall.no_queues")) + "</div>";
      } else {
        const per = board.per_page;
        const pages = Math.max(1, Math.ceil(names.length / per));
        const p = pageNo % pages;
        const shown = names.slice(p * per, p * per + per);
        const g = layout(shown.length);
        body = '<main class="tiles" style="grid-template-columns:repeat(' + g.cols + ',minmax(0,1fr));grid-template-rows:repeat(' + g.rows + ',minmax(0,1fr))">' +
          shown.map(function (k) { return tile(t.queues[k], board.tiles, t); }).join("") + "</main>";
        if (pages > 1) foot = '<footer class="pages">' + esc(cb.w("wall.page", { n: p + 1, of: pages })) + "</footer>";
      }
    }
    root.className = "wall theme-" + board.theme;
    // alerts (alerts.js): a banner under the header, in the flow: it moves the tiles, never covers them
    const alerts = '<div id="wall-alerts">' + cb.alerts.wall(state, page) + "</div>";
    const forecast = cb.forecast ? cb.forecast.wall(page) : ""; // f_forecast.js
    cb.patch(root, head + forecast + alerts + body + foot);
    cb.alerts.fitWall(document.getElementById("wall-alerts"));
    fitLabels(root);
    if (board.tiles.indexOf("trend") >= 0) {
      for (const el of root.querySelectorAll(".wall-trend")) {
        const key = el.dataset.tick.slice(6);
        cb.charts.draw(el.id, trends[key], { big: true });
      }
      // today's trends again once the server's clock has moved on a minute (a demo's runs
      // faster than the wall's; they were asked for every 5 real minutes)
      if (cb.clock && cb.now() - trendsAt >= 60000) loadTrends(page);
    }
  }

  /* The tiles' words (the queue's name and rule, a figure's label, who is free) as large as the
     header's (2.2 % of the screen's smaller side, readable from 5 m) but smaller than the
     figures they name, up to twice the size the tile's proportions give them; smaller until
     every label of every tile shows whole and a trend's chart keeps half
     its height and room for a sparkline (a chart with less room is not drawn anyway).
     A Russian label is longer than a Chinese one, so the size is found on the page, once per
     size of the tiles, language and queues shown. */
  const labels = { key: null };
  function fitLabels(root) {
    const tiles = root.querySelectorAll(".tile");
    const style = document.documentElement.style;
    if (!tiles.length) return;
    // the tiles' own size (the grid gives it; the words inside do not change it): a banner
    // above them (alerts, a source behind) or another screen size changes it
    const last = tiles[tiles.length - 1];
    const key = [cb.lang, tiles[0].clientWidth, tiles[0].clientHeight, last.clientWidth,
      last.clientHeight, [].map.call(tiles, function (t) { return t.id; }).join(",")].join("|");
    if (key === labels.key) return;
    labels.key = key;
    style.setProperty("--cb-lab", "1");
    const one = tiles[0].querySelector(".fig-l");
    if (!one) return;
    const base = parseFloat(getComputedStyle(one).fontSize);
    const value = tiles[0].querySelector(".figs .fig-v");
    // the header's size, and never as large as the figures they name
    const want = Math.min(0.022 * Math.min(window.innerWidth, window.innerHeight),
      value ? 0.8 * parseFloat(getComputedStyle(value).fontSize) : Infinity);
    const chartOf = function (t) { return t.querySelector(".trend .chart"); };
    const chart = [].map.call(tiles, function (t) {
      const c = chartOf(t);
      return c ? c.offsetHeight : 0;
    });
    function fits() {
      for (let i = 0; i < tiles.length; i++) {
        const t = tiles[i];
        if (t.scrollHeight > t.clientHeight + 1) return false;
        const c = chartOf(t);
        if (c && chart[i] >= 32 && c.offsetHeight < Math.max(0.5 * chart[i], 32)) return false;
        for (const el of t.querySelectorAll(".fig-l, h2 small")) {
          if (el.scrollWidth > el.clientWidth + 1) return false;
        }
      }
      return true;
    }
    // the largest size that fits, in steps of 0.05 between 0.6 and the wanted one, found by
    // halving (each try lays the page out again: a TV's browser is slow); below 1 only where a
    // label is cut even at the tile's own size (a long word in a big tile)
    const at = function (s) { style.setProperty("--cb-lab", String(s / 20)); return fits(); };
    let lo = 12, hi = Math.round(20 * Math.min(2, Math.max(1, want / base)));
    if (at(hi)) return;
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (at(mid)) lo = mid; else hi = mid;
    }
    at(lo);
  }

  async function loadTrends(page) {
    if (trendsBusy) return;
    trendsBusy = true;
    trendsAt = cb.clock ? cb.now() : 0; // the server's clock, once a heartbeat has told it
    try {
      const q = page.board.name && page.board.name !== "default" ? "?board=" + encodeURIComponent(page.board.name) : "";
      trends = await (await cb.get(cb.atPath("/api/v1/screens/wall/trends" + q))).json();
      cb.render();
    } catch (e) { /* the next round */ } finally { trendsBusy = false; }
  }

  cb.screens.wall = {
    init: function (page) {
      if (page.board.tiles.indexOf("trend") >= 0) {
        loadTrends(page);
        cb.momentListeners.push(function () { trends = {}; loadTrends(page); });
      }
      setInterval(function () { if (!cb.stale) { pageNo += 1; cb.render(); } }, page.board.rotation_s * 1000);
      window.addEventListener("resize", function () { cb.render(); });
      // a font that arrives after the first render (the Chinese one, say) changes every
      // label's width: the labels' size is found again
      if (document.fonts) {
        document.fonts.addEventListener("loadingdone", function () { labels.key = null; cb.render(); });
      }
    },
    render: render,
  };
})();

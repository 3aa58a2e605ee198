/* /sup: the supervisor. Above the fold: the queues and the live agent grid; beside them the
   drill-down (trend, contacts, adherence); below: teams and scorecards. Clicks choose a
   queue, a team or an agent; the trend, the agent grid and the contacts follow the choice. */
(function () {
  "use strict";
  const cb = (window.callboard = window.callboard || {});
  cb.screens = cb.screens || {};
  const esc = function (s) { return cb.esc(s); };
  const sel = { queue: null, team: null, agent: null };
  let drill = null, drillError = null, contactPage = 1, timeline = null, adherence = [];
  let rankOrder = [], rankedAt = 0, rankKeys = "";

  function th(keys) { return "<tr>" + keys.map(function (k) { return "<th>" + esc(cb.w(k)) + "</th>"; }).join("") + "</tr>"; }
  function panel(id, title, body, csv) {
    return '<section class="panel" id="panel-' + id + '"><div class="panel-head"><span>' + esc(title) + "</span>" +
      (csv ? '<button class="csv" data-csv="' + csv + '">' + esc(cb.w("sup.csv")) + "</button>" : "") + "</div>" + body + "</section>";
  }
  function pickAttrs(level, key) {
    return ' data-pick="' + level + '" data-key="' + esc(key) + '"' + (sel[level] === key ? ' aria-selected="true"' : "");
  }

  function merged(state, field) {
    const out = {};
    for (const [name, t] of Object.entries(state)) {
      if (name.startsWith("team:") && t && t.view) Object.assign(out, t.view[field] || {});
    }
    return out;
  }

  function queueTable(c) {
    const recent = Object.values(c.queues).some(function (q) { return q.recent_window; });
    const rows = Object.keys(c.queues).sort().map(function (k) {
      const q = c.queues[k];
      return '<tr class="pick"' + pickAttrs("queue", k) + "><td>" + esc(cb.name("queue", k)) + "</td><td>" + cb.cell(q.waiting) +
        "</td><td>" + cb.timer(q.longest) + "</td><td>" + cb.cell(q.service_level) + "</td>" +
        (recent ? "<td>" + cb.cell(q.service_level_recent) + "</td>" : "") + "<td>" + cb.cell(q.asa) + "</td><td>" + cb.cell(q.abandon_rate) +
        "</td><td>" + cb.cell(q.answered, { glyph: false }) + "</td><td>" + esc(q.agents.available + "/" + q.agents.logged_in) + "</td></tr>";
    }).join("");
    return '<table class="grid" id="table-queues"><thead>' + th(["sup.col.queue", "sup.col.waiting", "sup.col.longest",
      "sup.col.sl"].concat(recent ? ["sup.col.sl_recent"] : []).concat(["sup.col.asa", "sup.col.abandoned", "sup.col.answered", "sup.col.available"])) +
      "</thead><tbody>" + rows + "</tbody></table>";
  }

  function teamTable(state) {
    const teams = {};
    for (const [name, t] of Object.entries(state)) {
      if (name.startsWith("team:") && t && t.view && t.view.team) teams[t.view.team.key] = t.view.team;
    }
    const rows = Object.keys(teams).sort().map(function (k) {
      const t = teams[k];
      return '<tr class="pick"' + pickAttrs("team", k) + "><td>" + esc(cb.name("team", k)) + "</td><td>" + cb.cell(t.handled, { glyph: false }) +
        "</td><td>" + cb.cell(t.aht) + "</td><td>" + cb.cell(t.fcr) + "</td><td>" + cb.cell(t.csat) + "</td><td>" +
        cb.cell(t.occupancy) + "</td><td>" + cb.cell(t.adherence) + "</td></tr>";
    }).join("");
    return '<table class="grid" id="table-teams"><thead>' + th(["sup.col.team", "sup.col.handled", "sup.col.aht",
      "sup.col.fcr", "sup.col.csat", "sup.col.occupancy", "sup.col.adherence"]) + "</thead><tbody>" + rows + "</tbody></table>";
  }

  function agentGrid(agents) {
    const ids = Object.keys(agents).sort().filter(function (id) {
      const a = agents[id];
      return (!sel.team || a.team === sel.team) && (!sel.queue || (a.queues || []).indexOf(sel.queue) >= 0);
    });
    return '<div class="agent-grid" id="agent-grid">' + ids.map(function (id) {
      const a = agents[id];
      const st = cb.w("common.state." + (a.state || "none")) + (a.reason ? " · " + cb.reason(a.reason) : "");
      return '<div class="agent-tile state-' + esc(a.state || "none") + '"' + pickAttrs("agent", id) + ">" +
        '<div class="who">' + esc(a.name || id) + "</div><div class=\"st\">" + esc(st) + " " + cb.timer(a.in_state) + "</div>" +
        '<div class="small">' + cb.cell(a.handled, { glyph: false }) + " · " + cb.cell(a.aht, { glyph: false }) + "</div></div>";
    }).join("") + "</div>";
  }

  function ranked(cards) {
    const keys = Object.keys(cards).sort();
    const sig = keys.join(",");
    const every = cb.page.rank_every_s * 1000; // 0: ranked on every frame
    if (sig !== rankKeys || Date.now() - rankedAt >= every) {
      rankKeys = sig;
      rankedAt = Date.now();
      rankOrder = keys.filter(function (k) { return cards[k].meaningful && cards[k].score.value !== null; })
        .sort(function (a, b) { return cards[b].score.value - cards[a].score.value || (a < b ? -1 : 1); });
    }
    return rankOrder.filter(function (k) { return cards[k]; });
  }

  function scoreTable(cards) {
    const shown = function (k) { return !sel.team || cards[k].team === sel.team; };
    const order = ranked(cards).filter(shown);
    const rest = Object.keys(cards).sort().filter(function (k) { return order.indexOf(k) < 0 && shown(k); });
    const row = function (k, n) {
      const c = cards[k];
      const persp = ["efficiency", "quality", "customer", "employee"].map(function (p) { return cb.cell(c.perspectives[p], { glyph: false }); }).join(" · ");
      const notes = c.flags.map(function (f) { return cb.flag(f); });
      if (!c.meaningful) notes.push(cb.w("sup.not_meaningful"));
      if (c.no_quality_data) notes.push(cb.w("sup.no_quality"));
      return '<tr class="pick"' + pickAttrs("agent", k) + "><td>" + (n ? esc(n) : "") + "</td><td>" + esc(k) + "</td><td>" +
        (n ? cb.cell(c.score) : '<span class="v none">' + esc(cb.fmt(c.score.value, "score")) + "</span>") + "</td><td>" + persp +
        '</td><td class="flagcell">' + esc(notes.join(" · ")) + "</td></tr>";
    };
    return '<table class="grid" id="table-scorecards"><thead><tr><th>#</th>' +
      ["sup.col.agent", "sup.col.score", "sup.col.perspectives", "sup.col.flags"].map(function (k) { return "<th>" + esc(cb.w(k)) + "</th>"; }).join("") +
      "</tr></thead><tbody>" + order.map(function (k, i) { return row(k, i + 1); }).join("") +
      rest.map(function (k) { return row(k, 0); }).join("") + "</tbody></table>" +
      '<div class="note">' + esc(cb.w("sup.scorecards_note")) + "</div>";
  }

  // the chosen queue's, team's or agent's day per 15 minutes: calls as bars (answered,
  // abandoned), the service level as a line against its target; values on hover (f_charts.js)
  function trendBox(trend) {
    const key = trend ? trend.key : "";
    return '<div class="trend-chart" id="sup-trend" data-key="' + esc(key) + '">' +
      (trend && trend.points.length ? cb.charts.box("sup-trend-chart", key, "sup-chart")
        : '<div class="hint">' + esc(cb.w("sup.no_contacts")) + "</div>") + "</div>";
  }

  function contactsTable(c) {
    if (!c.rows.length) return '<div class="hint">' + esc(cb.w("sup.no_contacts")) + "</div>";
    const rows = c.rows.map(function (r) {
      return '<tr class="pick" data-contact="' + esc(r.call_id) + '"><td>' + esc(r.queued_at || "") + "</td><td>" + esc(r.queue ? cb.name("queue", r.queue) : "") +
        "</td><td>" + esc(cb.w("sup.outcome." + (r.outcome || "waiting"))) + "</td><td>" + cb.cell(r.wait) + "</td><td>" +
        esc(r.agent || "") + "</td><td>" + cb.cell(r.talk, { glyph: false }) + "</td><td>" + esc(r.ended_by ? cb.w("sup.ended_by." + r.ended_by) : "") +
        "</td><td>" + (r.transferred ? "⇄ " + esc(cb.w("sup.yes")) : "") + "</td><td>" + cb.cell(r.csat, { glyph: false }) + "</td><td>" +
        cb.cell(r.nps, { glyph: false }) + '</td><td class="notes">' + esc(r.notes || "") + "</td></tr>";
    }).join("");
    const pager = '<div class="pager"><button data-page="' + (c.page - 1) + '"' + (c.page <= 1 ? " disabled" : "") + ">" + esc(cb.w("sup.prev")) +
      "</button><span>" + esc(cb.w("sup.page", { n: c.page, of: c.pages, total: c.total })) + '</span><button data-page="' + (c.page + 1) + '"' +
      (c.page >= c.pages ? " disabled" : "") + ">" + esc(cb.w("sup.next")) + "</button></div>";
    return '<table class="grid" id="table-contacts"><thead>' + th(["sup.col.time", "sup.col.queue", "sup.col.outcome", "sup.col.wait",
      "sup.col.agent", "sup.col.talk", "sup.col.ended_by", "sup.col.transfer", "sup.col.csat", "sup.col.nps", "sup.col.notes"]) +
      "</thead><tbody>" + rows + "</tbody></table>" + pager;
  }

  function side() {
    const crumbs = [cb.w("sup.all")].concat(["queue", "team", "agent"].filter(function (k) { return sel[k]; }).map(function (k) { return cb.name(k, sel[k]); }));
    let html = '<div class="crumbs" id="crumbs">' + crumbs.map(esc).join(" › ") +
      (sel.queue || sel.team || sel.agent ? ' <button data-clear="1">' + esc(cb.w("sup.clear")) + "</button>" : "") + "</div>";
    html += '<div class="trend-box"><div class="panel-head"><span>' + esc(cb.w("sup.trend")) + "</span></div>" +
      trendBox(drill && drill.trend) + "</div>";
    html += '<div class="panel-head"><span>' + esc(cb.w("sup.contacts")) + ' <small>(' + esc(cb.timezone || "") + ')</small></span><button class="csv" data-csv="contacts">' + esc(cb.w("sup.csv")) + "</button></div>";
    html += '<div class="contacts-box">' + (drillError ? '<div class="hint">' + esc(drillError) + "</div>" : drill ? contactsTable(drill.contacts) : "") + "</div>";
    html += '<div class="panel-head"><span>' + esc(cb.w("sup.adherence")) + "</span></div>";
    html += '<div class="adherence" id="adherence">' + (adherence.length ? '<table class="grid"><thead>' +
      th(["sup.col.agent", "sup.col.planned", "sup.col.state", "sup.col.since"]) + "</thead><tbody>" +
      adherence.map(function (r) {
        return '<tr class="pick"' + pickAttrs("agent", r.agent) + "><td>" + esc(r.agent) + "</td><td>" + esc(r.planned) +
          (r.planned_until ? " → " + esc(r.planned_until) : "") + "</td><td>" + esc(cb.w("common.state." + (r.state || "none"))) +
          "</td><td>" + cb.timer(r.since) + "</td></tr>";
      }).join("") + "</tbody></table>" : '<div class="hint">' + esc(cb.w("sup.adherence_none")) + "</div>") + "</div>";
    return html;
  }

  // an event's particulars in words: "ended by: customer", "to queue sales", "CSAT 4"
  function details(data) {
    return Object.keys(data).sort().map(function (k) {
      let v = data[k];
      if (k === "ended_by") v = cb.w("sup.ended_by." + v);
      else if (k === "reason") v = cb.reason(v);
      else if (k === "to_queue") v = cb.name("queue", v);
      return cb.w("sup.event.detail." + k, { v: v });
    }).join(" · ");
  }

  function timelineHtml() {
    if (!timeline) return "";
    return '<div class="modal" id="timeline"><div class="modal-box"><div class="panel-head"><span>' +
      esc(cb.w("sup.timeline", { id: timeline.call_id })) + '</span><button data-close="1">' + esc(cb.w("sup.close")) + "</button></div>" +
      '<table class="grid"><tbody>' + timeline.events.map(function (e) {
        return "<tr><td>" + esc(e.at) + "</td><td>" + esc(cb.w("sup.event." + e.type)) + "</td><td>" +
          esc(e.queue ? cb.name("queue", e.queue) : "") + "</td><td>" + esc(e.agent || "") + "</td><td>" +
          esc(details(e.data || {})) + "</td></tr>";
      }).join("") + "</tbody></table></div></div>";
  }

  // regions patched on their own: a frame that changes one queue's figures leaves the agent
  // grid, the scorecards and the drill-down untouched
  const REGIONS = ["sup-head", "r-queues", "r-agents", "r-teams", "r-sources", "r-cards", "side", "r-modal"];
  function skeleton(root) {
    if (root.__skeleton) return;
    root.__skeleton = true;
    root.innerHTML = '<header class="sup-head" id="sup-head"></header><div class="replay-ctl" id="r-replay"></div>' +
      '<div class="sup-main"><div class="sup-left">' +
      '<div id="r-queues"></div><div id="r-agents"></div><div id="r-teams"></div><div id="r-sources"></div><div id="r-cards"></div></div>' +
      '<aside class="sup-side" id="side"></aside></div><div id="r-modal"></div>';
  }

  // the day's slider: the screen's day (its time zone) from midnight up to now; a moment
  // chosen replays it (a_core.js, cb.replayTo), the right end is live again
  let dragging = false;
  function hhmm(ms) {
    const opts = { hour: "2-digit", minute: "2-digit", hour12: false };
    if (cb.timezone) opts.timeZone = cb.timezone;
    return new Date(ms).toLocaleTimeString(cb.lang, opts);
  }
  function dayOf(state) {
    const m = state.center && state.center.meta;
    const w = m && m.windows && (m.windows.today || m.windows[m.default_window]);
    if (!w) return null;
    const from = cb.parseIso(w.from), day = from + 86400000;
    if (!cb.replaying) return [from, Math.min(day, cb.now())];
    return [from, cb.replaying.now ? Math.min(day, cb.parseIso(cb.replaying.now)) : day];
  }
  function slider(state) {
    const box = document.getElementById("r-replay");
    if (!box.__built) {
      box.__built = true;
      box.innerHTML = '<label for="replay-slider">' + esc(cb.w("common.replay_day")) + "</label>" +
        '<span class="edge" id="replay-from"></span><input type="range" id="replay-slider" step="60000">' +
        '<span class="edge" id="replay-to"></span><output id="replay-chosen" for="replay-slider"></output>';
      const input = box.querySelector("input");
      input.addEventListener("input", function () {
        dragging = true;
        box.querySelector("output").textContent = hhmm(Number(input.value));
      });
      input.addEventListener("change", function () {
        dragging = false;
        const chosen = Number(input.value);
        const live = cb.replaying && cb.replaying.now ? cb.parseIso(cb.replaying.now) : cb.now();
        if (chosen >= Number(input.max) && chosen >= live - 60000) {
          if (cb.replaying) cb.goLive(); // the right end: now
          return;
        }
        cb.replayTo(new Date(chosen).toISOString().replace(".000Z", "Z"));
      });
    }
    const day = dayOf(state);
    box.hidden = !day;
    if (!day || dragging) return;
    const input = box.querySelector("input");
    const value = cb.replaying ? cb.parseIso(cb.replaying.at) : day[1];
    input.min = String(day[0]);
    input.max = String(day[1]);
    input.value = String(value);
    box.querySelector("#replay-from").textContent = hhmm(day[0]);
    box.querySelector("#replay-to").textContent = hhmm(day[1]);
    box.querySelector("output").textContent = cb.replaying ? hhmm(value) : "";
    box.classList.toggle("replaying", !!cb.replaying);
  }

  function render(state) {
    const root = document.getElementById("screen");
    root.className = "sup";
    skeleton(root);
    slider(state);
    const t = state.center && state.center.view;
    let head = '<div class="title">' + esc(cb.w("common.brand")) + " · " + esc(cb.w("sup.title")) + "</div>";
    if (t && t.center) {
      const c = t.center;
      head += '<div class="center-line" id="center-line">' + esc(cb.w("sup.center_today")) + ": " + cb.cell(c.service_level, { id: "sup-center-sl" }) + " " +
        esc(cb.w("sup.sl")) + " · " + cb.cell(c.answered, { glyph: false }) + " " + esc(cb.w("wall.answered")) + " · " +
        cb.cell(c.abandon_rate) + " " + esc(cb.w("wall.abandoned")) + " · " + cb.cell(c.waiting) + " " + esc(cb.w("sup.waiting_now")) + "</div>";
    }
    if (cb.sources) head += cb.sources.mark(state); // a stale source (e_sources.js)
    head += '<div class="when"><span id="clock" data-tick="clock"></span> <span id="freshness" data-tick="fresh" class="fresh wait"></span></div>';
    const html = { "sup-head": head, "r-sources": cb.sources ? cb.sources.panel(state) : "" };
    if (!t) {
      html["r-queues"] = '<div class="waiting-for-data">' + esc(cb.w("common.waiting_for_data")) + "</div>";
    } else {
      const agents = merged(state, "agents"), cards = merged(state, "cards");
      html["r-queues"] = panel("queues", cb.w("sup.queues"), queueTable(t), "queues");
      html["r-agents"] = panel("agents", cb.w("sup.agents") + (sel.team ? " · " + cb.name("team", sel.team) : "") + (sel.queue ? " · " + cb.name("queue", sel.queue) : ""), agentGrid(agents), "agents");
      html["r-teams"] = panel("teams", cb.w("sup.teams"), teamTable(state), "teams");
      html["r-cards"] = panel("scorecards", cb.w("sup.scorecards"), scoreTable(cards), "scorecards");
      html.side = side();
      html["r-modal"] = timelineHtml();
    }
    for (const id of REGIONS) cb.patch(document.getElementById(id), html[id] || "");
    if (drill && drill.trend && drill.trend.points.length) cb.charts.draw("sup-trend-chart", drill.trend, { bars: true, hover: true });
    follow(state);
    // alerts (alerts.js): their own panel above the queues, with Acknowledge
    const alerts = document.getElementById("r-alerts") || document.getElementById("r-queues").insertAdjacentElement(
      "beforebegin", Object.assign(document.createElement("div"), { id: "r-alerts" }));
    cb.patch(alerts, t ? cb.alerts.sup(state, cb.page) : "");
    if (cb.forecast) cb.forecast.sup(state); // today against its forecast (f_forecast.js)
  }

  // the contacts and the adherence list are asked for again whenever the figures beside them
  // change (a new frame of the center or a team: the grid's own changes), at most one request
  // of each at a time; they used to wait a minute and contradict the grid meanwhile
  let seen = null, asking = false, again = false;
  function follow(state) {
    const mark = Object.keys(state).filter(function (k) { return k === "center" || k.startsWith("team:"); })
      .sort().map(function (k) { const m = state[k] && state[k].view && state[k].view.meta; return m ? m.computed_at : ""; })
      .join("|");
    if (mark === seen) return;
    const first = seen === null;
    seen = mark;
    if (!first) refresh(); // init() asks once at the start
  }
  // at most one round every few seconds: a busy floor sends frames several times a second,
  // and the tab must stay light (tests/e2e: under 15 % busy)
  const GAP_MS = 5000;
  let askedAt = 0;
  function refresh() {
    if (asking) { again = true; return; }
    const wait = askedAt + GAP_MS - Date.now();
    if (wait > 0) { asking = true; setTimeout(function () { asking = false; refresh(); }, wait); return; }
    asking = true;
    askedAt = Date.now();
    Promise.all([loadDrill(), loadAdherence()]).finally(function () {
      asking = false;
      if (again) { again = false; refresh(); }
    });
  }

  async function loadDrill() {
    const q = new URLSearchParams({ page: String(contactPage) });
    for (const k of ["queue", "team", "agent"]) if (sel[k]) q.set(k, sel[k]);
    try {
      drill = await (await cb.get(cb.atPath("/api/v1/screens/sup/drill?" + q.toString()))).json();
      drillError = null;
    } catch (e) { drillError = e.message; }
    cb.render();
  }
  async function loadAdherence() {
    try { adherence = await (await cb.get(cb.atPath("/api/v1/screens/sup/adherence"))).json(); } catch (e) { /* next round */ }
    cb.render();
  }
  async function openContact(id) {
    try { timeline = await (await cb.get(cb.atPath("/api/v1/screens/sup/contacts/" + encodeURIComponent(id)))).json(); } catch (e) { timeline = null; }
    cb.render();
  }
  async function download(table) {
    const q = new URLSearchParams();
    if (table === "contacts") { if (sel.queue) q.set("queue", sel.queue); if (sel.agent) q.set("agent", sel.agent); }
    const r = await cb.get(cb.atPath("/api/v1/screens/sup/export/" + table + ".csv?" + q.toString()));
    const url = URL.createObjectURL(await r.blob());
    const a = document.createElement("a");
    a.href = url;
    a.download = "callboard-" + table + ".csv";
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(function () { URL.revokeObjectURL(url); }, 1000);
  }

  cb.sup = { selection: sel, clicks: 0 };
  cb.screens.sup = {
    init: function () {
      document.addEventListener("click", function (e) {
        cb.sup.clicks += 1;
        const el = e.target.closest("[data-pick],[data-contact],[data-page],[data-clear],[data-close],[data-csv]");
        if (!el) return;
        if (el.dataset.csv) { download(el.dataset.csv); return; }
        if (el.dataset.close) { timeline = null; cb.render(); return; }
        if (el.dataset.contact) { openContact(el.dataset.contact); return; }
        if (el.dataset.page) { contactPage = Number(el.dataset.page); loadDrill(); return; }
        if (el.dataset.clear) { sel.queue = sel.team = sel.agent = null; }
        else {
          const level = el.dataset.pick, key = el.dataset.key;
          sel[level] = sel[level] === key ? null : key;
          if (level !== "agent") sel.agent = null;
        }
        contactPage = 1;
        cb.render();
        loadDrill();
      });
      loadDrill();
      loadAdherence();
      cb.momentListeners.push(function () { drill = null; timeline = null; loadDrill(); loadAdherence(); });
      window.addEventListener("resize", function () { cb.render(); }); // the chart's width
    },
    render: render,
  };
})();

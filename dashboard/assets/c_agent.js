/* /agent/<id>: the agent's own widget, 360 x 480, speaking to the agent. */
(function () {
  "use strict";
  const cb = (window.callboard = window.callboard || {});
  cb.screens = cb.screens || {};
  const esc = function (s) { return cb.esc(s); };
  let plan = null; // the planned activity now (a break's length and end), from the schedule
  let flagsOpen = false;
  let helpOpen = false;
  let lastState = null;

  function me() { return decodeURIComponent(window.location.pathname.slice(7)); }

  async function loadPlan() {
    try {
      plan = await (await cb.get(cb.atPath("/api/v1/screens/agent/" + encodeURIComponent(me()) + "/plan"))).json();
    } catch (e) { plan = null; }
    cb.render();
  }

  function breakLine(a) {
    if (!plan || plan.activity === "productive" || a.state !== "away") return "";
    const start = cb.parseIso(plan.start), end = cb.parseIso(plan.end);
    const planned = (end - start) / 1000;
    const over = cb.now() > end;
    // the time left (or over) ticks in the browser like every timer
    const mark = "\u0001";
    const text = esc(cb.w(over ? "agent.break_over" : "agent.break", {
      // the plan's length in minutes ("15 min"): as m:ss it read as a time of day
      activity: cb.reason(plan.activity), planned: Math.round(planned / 60) + " " + cb.w("unit.minutes.short"), left: mark, over: mark,
    }));
    // the ticker's mark differs between the two: the patcher keeps an element whose mark is
    // unchanged, and the countdown left at 0:00 stood where "over by" should count
    const span = over
      ? '<span class="v timer bad" data-tick="over ' + esc(plan.end) + '" data-since="' + esc(plan.end) + '" data-steps="[]" data-base="bad"><span class="n"></span></span>'
      : '<span class="v countdown" data-tick="left ' + esc(plan.end) + '" data-until="' + esc(plan.end) + '"></span>';
    return '<div class="break" id="agent-break">' + text.replace(mark, span) + "</div>";
  }

  function render(state, page) {
    const root = document.getElementById("screen");
    root.className = "agent";
    const t = state["agent:" + me()];
    const v = t && t.view;
    let html = '<header class="agent-head"><span class="agent-name">' + esc(me()) +
      '</span><span id="freshness" data-tick="fresh" class="fresh wait"></span></header>';
    if (!v || !v.agent) {
      cb.patch(root, html + (cb.sources ? cb.sources.behind(state, "agent") : "") + '<div class="waiting-for-data">' + esc(cb.w("common.waiting_for_data")) + "</div>");
      return;
    }
    const a = v.agent;
    if (a.state !== lastState) { lastState = a.state; loadPlan(); }
    html = '<header class="agent-head"><span class="agent-name">' + esc(a.name || a.key) +
      (a.team ? " · " + esc(cb.name("team", a.team)) : "") + '</span><span id="freshness" data-tick="fresh" class="fresh wait"></span></header>';
    if (cb.sources) html += cb.sources.behind(state, "agent"); // a stale source (e_sources.js)
    // a sentence per state ("you are in wrap-up", not "you are wrap-up"), in every language
    const said = cb.w("agent.you_are." + (a.state || "none")) + (a.reason ? " · " + cb.reason(a.reason) : "");
    html += '<div class="state state-' + esc(a.state || "none") + '" id="agent-state"><span>' +
      esc(said) + "</span>" + cb.timer(a.in_state, { id: "agent-in-state" }) + "</div>";
    html += breakLine(a);
    html += '<div id="agent-alerts">' + cb.alerts.agent(state, page, me()) + "</div>"; // alerts.js: the agent's own
    html += '<table class="kpis"><thead><tr><th>' + esc(cb.w("agent.head.kpi")) + "</th><th>" +
      esc(cb.w("agent.head.you")) + "</th><th>" + esc(cb.w("agent.head.team")) + "</th><th>" +
      esc(cb.w("agent.head.target")) + "</th></tr></thead><tbody>";
    for (const k of a.kpis) {
      const id = "agent-kpi-" + k.key.split(".").pop();
      html += "<tr><td>" + esc(cb.w(k.key)) + "</td><td>" + cb.cell(k.mine, { id: id }) + "</td><td>" +
        cb.cell(k.team, { glyph: false }) + '</td><td class="target">' + cb.cell(k.target, { glyph: false }) + "</td></tr>";
    }
    html += "</tbody></table>";
    const qs = Object.keys(v.queues || {});
    if (qs.length) {
      html += '<table class="queues"><thead><tr><th>' + esc(cb.w("agent.queues")) + "</th><th>" +
        esc(cb.w("agent.waiting")) + "</th><th>" + esc(cb.w("agent.longest")) + "</th></tr></thead><tbody>";
      for (const name of qs) {
        const q = v.queues[name];
        html += "<tr><td>" + esc(cb.name("queue", name)) + "</td><td>" + cb.cell(q.waiting, { id: "agent-waiting-" + name }) +
          "</td><td>" + cb.timer(q.longest) + "</td></tr>";
      }
      html += "</tbody></table>";
    }
    const c = v.card;
    if (c) {
      const chips = ["efficiency", "quality", "customer", "employee"].map(function (p) {
        const cell = c.perspectives[p];
        return '<span class="chip" title="' + esc(cb.w("agent.persp." + p + ".help")) + '">' +
          esc(cb.w("agent.persp." + p)) + " " + cb.cell(cell, { glyph: false }) + "</span>";
      }).join("");
      const n = c.flags.length;
      const notes = n === 0 ? cb.w("agent.no_notes") : n === 1 ? cb.w("agent.note") : cb.w("agent.notes", { n: n });
      html += '<div class="card" id="agent-scorecard"><div class="card-head"><span>' + esc(cb.w("agent.card")) +
        '</span><span class="score" id="agent-score">' + cb.cell(c.score) + (c.meaningful ? "" : " *") +
        '</span><button class="help-btn" data-act="help" aria-expanded="' + helpOpen + '">?</button></div>' +
        '<div class="chips">' + chips + "</div>" +
        '<button class="flags-line' + (n ? " has" : "") + '" id="agent-flags-line" data-act="flags" aria-expanded="' + flagsOpen + '">' +
        (n ? "⚑ " : "") + esc(notes) + (n ? (flagsOpen ? " ▾" : " ▸") : "") + "</button></div>";
      const extra = [];
      if (!c.meaningful) extra.push(cb.w("agent.not_meaningful", { min: c.min_contacts }));
      if (c.no_quality_data) extra.push(cb.w("agent.no_quality"));
      if (c.fcr_pending) extra.push(cb.w("agent.fcr_so_far", { n: c.fcr_pending }));
      if (flagsOpen && n || helpOpen) {
        let pop = '<div class="pop" id="agent-pop"><button class="close" data-act="close">×</button>';
        if (flagsOpen) pop += '<ul class="flags" id="agent-flags">' + c.flags.map(function (f) { return "<li>" + esc(cb.flag(f)) + "</li>"; }).join("") + "</ul>";
        if (helpOpen) {
          pop += '<ul class="help">' + ["efficiency", "quality", "customer", "employee"].map(function (p) {
            return "<li>" + esc(cb.w("agent.persp." + p + ".help")) + "</li>";
          }).join("") + extra.map(function (x) { return "<li>" + esc(x) + "</li>"; }).join("") + "</ul>";
        }
        html += pop + "</div>";
      } else if (extra.length) {
        html += '<div class="card-note" id="agent-card-note">' + esc(extra[0]) + "</div>";
      }
    }
    cb.patch(root, html);
  }

  cb.screens.agent = {
    init: function () {
      document.addEventListener("click", function (e) {
        const b = e.target.closest("[data-act]");
        if (!b) return;
        const act = b.dataset.act;
        if (act === "flags") { flagsOpen = !flagsOpen; helpOpen = false; }
        if (act === "help") { helpOpen = !helpOpen; flagsOpen = false; }
        if (act === "close") { flagsOpen = false; helpOpen = false; }
        cb.render();
      });
      setInterval(function () { if (!cb.stale && !cb.replaying) loadPlan(); }, 60000);
      cb.momentListeners.push(function () { plan = null; lastState = null; });
    },
    render: render,
  };
})();

/* Rendering the screens in the browser from the live state (clientside callbacks). */
(function () {
  "use strict";
  const cb = (window.callboard = window.callboard || {});
  const STALE_MS = 12000; // heartbeats come every 5 s: two missed and the board says so

  function h(type, props, children) {
    const p = Object.assign({}, props || {});
    if (children !== undefined) p.children = children;
    // Dash names html components with a capital: Div, Span, Table, Tr, ...
    return { type: type.charAt(0).toUpperCase() + type.slice(1), namespace: "dash_html_components", props: p };
  }
  function pct(x) { return x === null || x === undefined ? "–" : Math.round(x * 100) + "%"; }
  function num(x, d) { return x === null || x === undefined ? "–" : Number(x).toFixed(d || 0); }
  function mmss(s) {
    if (s === null || s === undefined || isNaN(s)) return "–";
    s = Math.max(0, Math.floor(s));
    const h_ = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
    const two = function (v) { return (v < 10 ? "0" : "") + v; };
    return (h_ ? h_ + ":" + two(m) : m) + ":" + two(sec);
  }
  function since(iso) { return iso ? (cb.now() - Date.parse(iso)) / 1000 : null; }
  function clock() {
    const d = new Date(cb.now());
    const opts = { hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false };
    if (cb.timezone) opts.timeZone = cb.timezone;  // the center's time, not the browser's
    return d.toLocaleTimeString([], opts);
  }
  function slClass(sl, target) {
    if (sl === null || sl === undefined) return "none";
    const t = target || 0.8;
    return sl >= t ? "good" : sl >= t - 0.1 ? "warn" : "bad";
  }
  function freshness() {
    const age = cb.lastFrame ? (Date.now() - cb.lastFrame) / 1000 : null;
    const stale = !cb.connected || age === null || age * 1000 > STALE_MS;
    const text = cb.refused ? "refused: " + cb.refused
      : !cb.lastFrame ? "connecting…"
      : stale ? "STALE · no data for " + mmss(age) : "live · " + Math.round(age) + " s";
    return h("div", { className: "fresh " + (stale ? "stale" : "live"), id: "freshness" }, text);
  }
  function topic(data, name) { return data && data.topics ? data.topics[name] : undefined; }
  function scoreClass(x) { return x === null || x === undefined ? "none" : x >= 80 ? "good" : x >= 60 ? "warn" : "bad"; }
  function perspectives(card) {
    const p = card.perspectives || {};
    return ["efficiency", "quality", "customer", "employee"].map(function (k) {
      return h("span", { className: "persp " + scoreClass(p[k]) }, k.slice(0, 4) + " " + num(p[k]));
    });
  }

  // --- wallboard -------------------------------------------------------------------------
  const PAGE = 4, PAGE_S = 10;
  function wall(data, n) {
    const c = topic(data, "center");
    const header = h("div", { className: "wall-head" }, [
      h("div", { className: "brand" }, "callboard"),
      h("div", { className: "wall-center" }, c && c.center ? [
        h("span", {}, "today " + pct(c.center.service_level) + " in SL"),
        h("span", {}, num(c.center.answered) + " answered"),
        h("span", {}, pct(c.center.abandon_rate) + " abandoned"),
      ] : []),
      h("div", { className: "clock", id: "wall-clock" }, clock()),
      freshness(),
    ]);
    if (!c) return [header, h("div", { className: "waiting-for-data" }, "waiting for data…")];
    const queues = Object.keys(c.queues || {}).sort();
    const pages = Math.max(1, Math.ceil(queues.length / PAGE));
    const page = Math.floor((n || 0) / PAGE_S) % pages;
    const tiles = queues.slice(page * PAGE, page * PAGE + PAGE).map(function (name) {
      const q = c.queues[name] || {};
      const target = (q.targets || {}).service_level;
      const longest = q.oldest_waiting_at ? since(q.oldest_waiting_at) : null;
      const over = longest !== null && longest > (q.sl_threshold_s || 20);
      const abs = q.agents_by_state || {};
      return h("div", { className: "tile", id: "tile-" + name }, [
        h("div", { className: "tile-name" }, name),
        h("div", { className: "tile-main " + (over ? "bad" : q.waiting_now ? "warn" : "good") }, [
          h("div", { className: "big", id: "waiting-" + name }, num(q.waiting_now)),
          h("div", { className: "label" }, "waiting"),
        ]),
        h("div", { className: "tile-row" }, [
          h("div", { className: "mid " + (over ? "bad" : "") , id: "longest-" + name },
            longest === null ? "–" : mmss(longest)),
          h("div", { className: "label" }, "longest wait"),
        ]),
        h("div", { className: "tile-row" }, [
          h("div", { className: "mid " + slClass(q.service_level, target), id: "sl-" + name },
            pct(q.service_level)),
          h("div", { className: "label" }, "in " + num(q.sl_threshold_s) + " s today" +
            (target ? " · target " + pct(target) : "")),
        ]),
        h("div", { className: "tile-row" }, [
          h("div", { className: "mid", id: "available-" + name },
            num(abs.available || 0) + " / " + num(abs.logged_in || 0)),
          h("div", { className: "label" }, "agents available"),
        ]),
      ]);
    });
    const dots = pages > 1 ? h("div", { className: "pages" }, "page " + (page + 1) + " of " + pages)
      : null;
    const b = c.balances;
    const strip = b ? h("div", { className: "balances", id: "wall-balances" }, [
      h("span", { className: b.ninety_ninety.met ? "good" : "warn" },
        "90/90: FCR " + pct(b.ninety_ninety.fcr) + " · SL " + pct(b.ninety_ninety.service_level)),
      h("span", {}, "speed " + mmss(b.efficiency_quality.aht_s) + " ↔ quality FCR " +
        pct(b.efficiency_quality.fcr) + " · QA " + num(b.efficiency_quality.qa_score)),
      h("span", {}, "staffed " + num(b.service_cost.agents_staffed) + " / needed " +
        num(b.service_cost.agents_required) + " · occupancy " + pct(b.service_cost.occupancy)),
      h("span", {}, "customers CSAT " + pct(b.customer_employee.csat) + " ↔ staff adherence " +
        pct(b.customer_employee.adherence)),
      h("span", {}, "SL now " + pct(b.now_future.service_level_now) + " → next " +
        pct(b.now_future.service_level_next)),
    ]) : null;
    return [header, strip, h("div", { className: "tiles" }, tiles), dots];
  }

  // --- agent widget ----------------------------------------------------------------------
  function agent(data, n) {
    const path = window.location.pathname;
    const me = decodeURIComponent(path.slice(7));
    const t = topic(data, "agent:" + me);
    if (!t || !t.agent) return [freshness(), h("div", { className: "waiting-for-data" }, "waiting for data…")];
    const a = t.agent, team = t.team || {};
    const inState = a.state_since ? since(a.state_since) : null;
    const rows = [
      ["handled", num(a.handled), num(team.handled)],
      ["AHT", mmss(a.aht_s), mmss(team.aht_s)],
      ["FCR", pct(a.fcr), pct(team.fcr)],
      ["CSAT", pct(a.csat), pct(team.csat)],
      ["QA", num(a.qa_score), num(team.qa_score)],
      ["occupancy", pct(a.occupancy), pct(team.occupancy)],
    ];
    const queues = Object.keys(t.queues || {}).sort().map(function (name) {
      const q = t.queues[name] || {};
      return h("tr", {}, [h("td", {}, name), h("td", { id: "agent-waiting-" + name }, num(q.waiting_now)),
        h("td", {}, q.oldest_waiting_at ? mmss(since(q.oldest_waiting_at)) : "–")]);
    });
    return [
      h("div", { className: "agent-head" }, [
        h("div", { className: "agent-name" }, (a.name || me) + (a.team ? " · " + a.team : "")),
        freshness(),
      ]),
      h("div", { className: "state state-" + (a.state || "none"), id: "agent-state" }, [
        h("span", {}, (a.state || "–").replace("_", " ") + (a.reason ? " · " + a.reason : "")),
        h("span", { className: "in-state", id: "agent-in-state" }, mmss(inState)),
      ]),
      h("table", { className: "kpis" }, [
        h("thead", {}, h("tr", {}, [h("th", {}, "today"), h("th", {}, "me"), h("th", {}, "team")])),
        h("tbody", {}, rows.map(function (r) {
          return h("tr", {}, [h("td", {}, r[0]), h("td", { id: "agent-kpi-" + r[0] }, r[1]), h("td", {}, r[2])]);
        })),
      ]),
      h("table", { className: "queues" }, [
        h("thead", {}, h("tr", {}, [h("th", {}, "my queues"), h("th", {}, "waiting"), h("th", {}, "longest")])),
        h("tbody", {}, queues),
      ]),
      t.scorecard ? h("div", { className: "card", id: "agent-scorecard" }, [
        h("div", { className: "card-head" }, [
          h("span", {}, "my scorecard"),
          h("span", { className: "score " + scoreClass(t.scorecard.score), id: "agent-score" },
            num(t.scorecard.score) + (t.scorecard.meaningful ? "" : " *")),
        ]),
        h("div", { className: "persps" }, perspectives(t.scorecard)),
        h("ul", { className: "flags", id: "agent-flags" },
          (t.scorecard.flags || []).map(function (f) { return h("li", {}, f); })),
      ]) : null,
    ];
  }

  // --- supervisor ------------------------------------------------------------------------
  // how long in a state before it turns amber, then red (seconds)
  const ESCALATE = { away: [900, 1800], wrap_up: [60, 180], on_call: [600, 1200], available: [1800, 3600] };
  function escalation(state, seconds) {
    const t = ESCALATE[state];
    if (!t || seconds === null) return "";
    return seconds >= t[1] ? " red" : seconds >= t[0] ? " amber" : "";
  }
  function pick(level, key, selected, cells) {
    return h("tr", { id: { type: "pick", level: level, key: key }, n_clicks: 0,
      className: "pick" + (selected ? " selected" : "") }, cells);
  }
  function table(name, head, rows) {
    return h("div", { className: "panel" }, [
      h("div", { className: "panel-head" }, [
        h("span", {}, name),
        h("button", { id: { type: "csv", table: name }, n_clicks: 0, className: "csv" }, "CSV"),
      ]),
      h("table", { className: "grid", id: "table-" + name }, [
        h("thead", {}, h("tr", {}, head.map(function (x) { return h("th", {}, x); }))),
        h("tbody", {}, rows),
      ]),
    ]);
  }
  function allAgents(data) {
    const out = {};
    const topics = (data && data.topics) || {};
    for (const [name, t] of Object.entries(topics)) {
      if (name.startsWith("team:") && t && t.agents) Object.assign(out, t.agents);
    }
    return out;
  }
  function sup(data, n, selection) {
    const c = topic(data, "center");
    const sel = selection || {};
    if (!c) return [freshness(), h("div", { className: "waiting-for-data" }, "waiting for data…")];
    const ce = c.center || {};
    const head = h("div", { className: "sup-head" }, [
      h("div", { className: "brand" }, "callboard · supervisor"),
      h("span", {}, "center today: " + pct(ce.service_level) + " SL · " + num(ce.answered) +
        " answered · " + pct(ce.abandon_rate) + " abandoned · " + num(ce.waiting_now) + " waiting"),
      h("span", { className: "clock" }, clock()),
      freshness(),
    ]);
    const queues = Object.keys(c.queues || {}).sort().map(function (name) {
      const q = c.queues[name] || {};
      const abs = q.agents_by_state || {};
      return pick("queue", name, sel.queue === name, [
        h("td", {}, name), h("td", {}, num(q.waiting_now)),
        h("td", {}, q.oldest_waiting_at ? mmss(since(q.oldest_waiting_at)) : "–"),
        h("td", { className: slClass(q.service_level, (q.targets || {}).service_level) }, pct(q.service_level)),
        h("td", {}, num(q.asa_s, 1)), h("td", {}, pct(q.abandon_rate)), h("td", {}, num(q.answered)),
        h("td", {}, num(abs.available || 0) + "/" + num(abs.logged_in || 0)),
      ]);
    });
    const teams = Object.keys(c.teams || {}).sort().map(function (name) {
      const t = c.teams[name] || {};
      return pick("team", name, sel.team === name, [
        h("td", {}, name), h("td", {}, num(t.handled)), h("td", {}, mmss(t.aht_s)), h("td", {}, pct(t.fcr)),
        h("td", {}, pct(t.csat)), h("td", {}, pct(t.occupancy)), h("td", {}, pct(t.adherence)),
      ]);
    });
    const agents = allAgents(data);
    const tiles = Object.keys(agents).sort().filter(function (id) {
      return !sel.team || agents[id].team === sel.team;
    }).map(function (id) {
      const a = agents[id];
      const secs = a.state_since ? since(a.state_since) : null;
      return h("div", { id: { type: "pick", level: "agent", key: id }, n_clicks: 0,
        className: "agent-tile state-" + (a.state || "none") + escalation(a.state, secs) +
          (sel.agent === id ? " selected" : "") }, [
        h("div", { className: "who" }, a.name || id),
        h("div", {}, (a.state || "–").replace("_", " ") + (a.reason ? " · " + a.reason : "")),
        h("div", { className: "in-state" }, mmss(secs)),
        h("div", { className: "small" }, num(a.handled) + " handled · AHT " + mmss(a.aht_s)),
      ]);
    });
    return [
      head,
      h("div", { className: "crumbs" }, "center" + (sel.queue ? " › " + sel.queue : "") +
        (sel.team ? " › " + sel.team : "") + (sel.agent ? " › " + sel.agent : "")),
      h("div", { className: "row" }, [
        table("queues", ["queue", "waiting", "longest", "SL", "ASA s", "abandoned", "answered", "avail."], queues),
        table("teams", ["team", "handled", "AHT", "FCR", "CSAT", "occupancy", "adherence"], teams),
      ]),
      scorePanel(data, sel),
      h("div", { className: "panel" }, [
        h("div", { className: "panel-head" }, [
          h("span", {}, "agents" + (sel.team ? " · " + sel.team : "")),
          h("button", { id: { type: "csv", table: "agents" }, n_clicks: 0, className: "csv" }, "CSV"),
        ]),
        h("div", { className: "agent-grid", id: "agent-grid" }, tiles),
      ]),
    ];
  }

  function allCards(data) {
    const out = {};
    for (const [name, t] of Object.entries((data && data.topics) || {})) {
      if (name.startsWith("team:") && t && t.scorecards) Object.assign(out, t.scorecards);
    }
    return out;
  }
  function scorePanel(data, sel) {
    const cards = Object.values(allCards(data)).filter(function (c) { return !sel.team || c.team === sel.team; });
    cards.sort(function (a, b) {
      return (a.meaningful === b.meaningful ? 0 : a.meaningful ? -1 : 1) || ((b.score || -1) - (a.score || -1));
    });
    const rows = cards.map(function (c) {
      return pick("agent", c.key, sel.agent === c.key, [
        h("td", {}, c.key), h("td", { className: scoreClass(c.score) }, num(c.score) + (c.meaningful ? "" : " *")),
        h("td", {}, perspectives(c)), h("td", { className: "flagcell" }, (c.flags || []).join(" · ")),
      ]);
    });
    return table("scorecards", ["agent", "score", "perspectives", "flags"], rows);
  }

  function contacts(rows, selection) {
    const sel = selection || {};
    if (!sel.agent && !sel.queue) return h("div", { className: "hint" }, "pick a queue or an agent to see their contacts");
    const body = (rows || []).map(function (r) {
      return h("tr", {}, [
        h("td", {}, r.call_id), h("td", {}, r.queue), h("td", {}, (r.queued_at || "").slice(11, 19)),
        h("td", {}, r.outcome || "waiting"), h("td", {}, num(r.wait_s)), h("td", {}, r.agent || "–"),
        h("td", {}, mmss(r.talk_s)), h("td", {}, mmss(r.acw_s)), h("td", {}, r.transferred ? "yes" : ""),
      ]);
    });
    return table("contacts", ["contact", "queue", "queued", "outcome", "wait s", "agent", "talk", "wrap-up", "transfer"], body);
  }

  // --- interactions ------------------------------------------------------------------------
  function pickSelection(clicks, selection) {
    const ctx = window.dash_clientside.callback_context;
    const id = ctx.triggered_id;
    if (!id || !ctx.triggered.length || !ctx.triggered[0].value) return window.dash_clientside.no_update;
    const sel = Object.assign({ queue: null, team: null, agent: null }, selection || {});
    if (id.level === "queue") { sel.queue = sel.queue === id.key ? null : id.key; sel.agent = null; }
    if (id.level === "team") { sel.team = sel.team === id.key ? null : id.key; sel.agent = null; }
    if (id.level === "agent") sel.agent = sel.agent === id.key ? null : id.key;
    return sel;
  }

  function toCsv(rows) {
    if (!rows.length) return "";
    const cols = Object.keys(rows[0]).filter(function (k) { return typeof rows[0][k] !== "object" || rows[0][k] === null; });
    const esc = function (v) {
      if (v === null || v === undefined) return "";
      const s = String(v);
      return /[",\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
    };
    return [cols.join(",")].concat(rows.map(function (r) { return cols.map(function (k) { return esc(r[k]); }).join(","); })).join("\n") + "\n";
  }
  function csv(clicks, live, contactRows) {
    const ctx = window.dash_clientside.callback_context;
    const id = ctx.triggered_id;
    if (!id || !ctx.triggered.length || !ctx.triggered[0].value) return window.dash_clientside.no_update;
    const c = topic(live, "center") || {};
    let rows = [];
    if (id.table === "queues") rows = Object.values(c.queues || {});
    if (id.table === "teams") rows = Object.values(c.teams || {});
    if (id.table === "agents") rows = Object.values(allAgents(live));
    if (id.table === "contacts") rows = contactRows || [];
    if (id.table === "scorecards") rows = Object.values(allCards(live)).map(function (c) {
      const flat = { agent: c.key, team: c.team, score: c.score, meaningful: c.meaningful,
                     contacts: c.contacts, flags: (c.flags || []).join("; ") };
      for (const [p, v] of Object.entries(c.perspectives || {})) flat[p] = v;
      return flat;
    });
    return { content: toCsv(rows), filename: "callboard-" + id.table + ".csv", type: "text/csv" };
  }

  // add to the renderer's object (it keeps a reference to it), never replace it
  window.dash_clientside = window.dash_clientside || {};
  window.dash_clientside.callboard = {
    wall: wall, agent: agent, sup: sup, contacts: contacts, pick: pickSelection, csv: csv,
  };
})();

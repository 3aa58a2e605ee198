/* Alerts on the screens: a banner for the wallboard (readable from 5 m, optional chime) and a
   list with an acknowledge button for /sup and the agent widget, from the `alerts` topic's data
   ({"active": [...], "meta": {...}}). Words come from the page's catalogue (cb.w, the same
   catalogue as every other word on the screen) and values are written by cb.fmt (a_core.js),
   as every figure on the screens: no words or number formats of its own. `wall`, `sup` and
   `agent` at the end give each screen its part as HTML from the page's live state (every
   alerts topic the page follows: app/screens/router.py adds those its token may see).
   Loaded on every page by Dash: it only defines functions and one click handler. */
(function () {
  "use strict";
  const cb = (window.callboard = window.callboard || {});
  const RANK = { critical: 0, warning: 1, info: 2 };
  // an alert's units as the screens' cells name them
  const UNIT = { ratio: "percent", seconds: "seconds", count: "count" };

  function t(key, params) { return cb.w(key, params); }
  function h(type, props, children) {
    const p = Object.assign({}, props || {});
    if (children !== undefined) p.children = children;
    return { type: type.charAt(0).toUpperCase() + type.slice(1), namespace: "dash_html_components", props: p };
  }
  function time(iso, opts) {
    if (!iso) return "";
    const o = { hour: "2-digit", minute: "2-digit", hour12: false };
    if (opts.timezone || cb.timezone) o.timeZone = opts.timezone || cb.timezone;
    return new Date(iso).toLocaleTimeString(opts.lang || cb.lang || [], o);
  }

  /* The alert's sentence ("waiting now is 7, above 2"): what is out; where it is stands
     beside it (the rule's name would only repeat the two). */
  function text(a) {
    const p = Object.assign({}, a.params || {});
    const unit = UNIT[p.unit] || "count";
    const key = "metric." + a.metric;
    const metric = t(key);
    p.metric = metric === key ? a.metric.replace(/_s$/, "").replace(/_/g, " ") : metric;
    p.value = cb.fmt(p.value !== undefined ? p.value : a.value, unit);
    p.threshold = cb.fmt(p.threshold !== undefined ? p.threshold : a.threshold, unit);
    if (p.minutes === undefined) p.minutes = 0;
    return t("alert." + a.code, p);
  }
  /* Where: "Queue billing" with the queue's, team's or agent's display name. */
  function where(a) {
    const parts = a.scope.split(":");
    const key = parts.slice(1).join(":");
    return t("alert.scope." + parts[0], { name: cb.name ? cb.name(parts[0], key) : key });
  }
  /* Most severe first; within a severity the alerts nobody has acknowledged yet, then the
     oldest. An acknowledgement just made on this page counts before the server's next frame. */
  function sorted(data) {
    const list = ((data && data.active) || []).map(function (a) {
      return local[a.id] && !a.acknowledged_at ? Object.assign({}, a, local[a.id]) : a;
    });
    list.sort(function (x, y) {
      return (RANK[x.severity] - RANK[y.severity]) || (!!x.acknowledged_at - !!y.acknowledged_at) ||
        String(x.raised_at).localeCompare(String(y.raised_at));
    });
    return list;
  }
  const local = {}; // id -> {acknowledged_by, acknowledged_at}: acknowledged here, not yet sent back

  /* Wallboard: the most severe alerts, huge; null when there is none. */
  function banner(data, opts) {
    opts = opts || {};
    const list = sorted(data);
    if (!list.length) return null;
    const shown = list.slice(0, opts.max || 2);
    const rows = shown.map(function (a) {
      return h("div", { className: "cb-alert-line cb-alert-" + a.severity + (a.acknowledged_at ? " cb-alert-acked" : ""), id: "cb-banner-" + a.id }, [
        h("span", { className: "cb-alert-where" }, where(a)),
        h("span", { className: "cb-alert-text" }, text(a)),
        a.acknowledged_at ? h("span", { className: "cb-alert-ackd" }, "✓ " + t("alert.acknowledged", { by: a.acknowledged_by, at: time(a.acknowledged_at, opts) })) : null,
      ].filter(Boolean));
    });
    // more than are shown: "+N" at the end of the last line (the /sup list has them all)
    if (list.length > shown.length) rows[rows.length - 1].props.children.push(h("span", { className: "cb-alert-more" }, "+" + (list.length - shown.length)));
    if (opts.sound) chime(list, opts);
    // someone has the worst alert in hand: the banner stays (the metric is still out) but calms
    const calm = list[0].acknowledged_at ? " cb-alert-calm" : "";
    return h("div", { className: "cb-alert-banner cb-alert-" + list[0].severity + calm, role: "alert" }, rows);
  }

  /* /sup and the agent widget: every alert, with who acknowledged it; `opts.ack` adds the
     Acknowledge button (supervisors and admins). */
  function list(data, opts) {
    opts = opts || {};
    const items = sorted(data);
    if (!items.length) return opts.compact ? null : h("div", { className: "cb-alert-list cb-alert-empty" }, t("alert.none"));
    return h("div", { className: "cb-alert-list" + (opts.compact ? " cb-alert-compact" : "") }, items.map(function (a) {
      const ack = a.acknowledged_at
        ? h("span", { className: "cb-alert-ackd" }, t("alert.acknowledged", { by: a.acknowledged_by, at: time(a.acknowledged_at, opts) }))
        : opts.ack ? h("button", { className: "cb-alert-ack", "data-alert-ack": String(a.id) }, t("alert.acknowledge")) : null;
      // the rule's name (in the page's language) on hover: the line itself says where and what
      return h("div", { className: "cb-alert-item cb-alert-" + a.severity + (a.acknowledged_at ? " cb-alert-acked" : ""), id: "cb-alert-" + a.id,
        title: cb.name("alert", a.name) }, [
        h("span", { className: "cb-alert-sev" }, t("alert.severity." + a.severity)),
        opts.compact ? null : h("span", { className: "cb-alert-where" }, where(a)),
        h("span", { className: "cb-alert-text" }, text(a)),
        opts.compact ? null : h("span", { className: "cb-alert-since" }, t("alert.since", { at: time(a.raised_at, opts) })),
        ack,
      ].filter(Boolean));
    }));
  }

  /* A short tone for alerts not seen before (warning and up). Browsers play sound only
     after a user gesture, or in kiosk mode (--autoplay-policy=no-user-gesture-required). */
  const heard = new Set();
  function chime(items, opts) {
    const fresh = items.filter(function (a) { return !heard.has(a.id) && RANK[a.severity] <= 1 && !a.acknowledged_at; });
    items.forEach(function (a) { heard.add(a.id); });
    if (!fresh.length || !(window.AudioContext || window.webkitAudioContext)) return false;
    try {
      const ctx = cb._audio || (cb._audio = new (window.AudioContext || window.webkitAudioContext)());
      const osc = ctx.createOscillator(), gain = ctx.createGain();
      osc.frequency.value = fresh.some(function (a) { return a.severity === "critical"; }) ? 880 : 660;
      gain.gain.value = (opts && opts.volume) || 0.2;
      osc.connect(gain); gain.connect(ctx.destination);
      osc.start(); osc.stop(ctx.currentTime + 0.4);
      return true;
    } catch (e) { return false; }
  }

  /* A Dash component dict as DOM (for pages that are not Dash layouts). */
  function dom(c) {
    if (c === null || c === undefined) return document.createTextNode("");
    if (typeof c !== "object") return document.createTextNode(String(c));
    if (Array.isArray(c)) { const f = document.createDocumentFragment(); c.forEach(function (x) { f.appendChild(dom(x)); }); return f; }
    const el = document.createElement(c.type.toLowerCase());
    Object.keys(c.props || {}).forEach(function (k) {
      if (k === "children") return;
      if (k === "className") el.className = c.props[k]; else el.setAttribute(k, c.props[k]);
    });
    el.appendChild(dom(c.props.children));
    return el;
  }

  /* Acknowledge: POST /api/v1/alerts/{id}/ack with the page's token (or cookie). */
  document.addEventListener("click", async function (e) {
    const button = e.target && e.target.closest ? e.target.closest("[data-alert-ack]") : null;
    if (!button) return;
    const token = new URLSearchParams(window.location.search).get("token");
    button.disabled = true;
    try {
      // the page's ?token= as a header; without one (the server trades it for a cookie) the
      // cookie goes by itself, accepted on a write only with the screens' own header
      const headers = { "X-Callboard-Screen": "1" };
      if (token) headers.Authorization = "Bearer " + token;
      const r = await fetch("/api/v1/alerts/" + button.getAttribute("data-alert-ack") + "/ack", {
        method: "POST", credentials: "same-origin", headers: headers,
      });
      const body = await r.json();
      if (!r.ok) throw new Error(body.detail || r.status);
      local[body.id] = { acknowledged_by: body.acknowledged_by, acknowledged_at: body.acknowledged_at };
      const done = document.createElement("span");
      done.className = "cb-alert-ackd";
      done.textContent = t("alert.acknowledged", { by: body.acknowledged_by, at: time(body.acknowledged_at, { lang: cb.lang }) });
      button.replaceWith(done);
      if (cb.render) cb.render(); // the screen's own list and banner say it too
    } catch (err) {
      button.disabled = false;
      button.title = String(err.message || err);
      button.classList.add("cb-alert-ack-failed");
    }
  });

  /* A Dash component dict as HTML (the screens patch HTML: a_core.js). */
  function esc(x) {
    return String(x).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }
  function html(c) {
    if (c === null || c === undefined) return "";
    if (typeof c !== "object") return esc(c);
    if (Array.isArray(c)) return c.map(html).join("");
    const tag = c.type.toLowerCase();
    let attrs = "";
    Object.keys(c.props || {}).forEach(function (k) {
      if (k !== "children") attrs += " " + (k === "className" ? "class" : k) + '="' + esc(c.props[k]) + '"';
    });
    return "<" + tag + attrs + ">" + html(c.props.children) + "</" + tag + ">";
  }

  // --- the screens' parts, from the page's live state --------------------------------------
  /* Every alert of the alerts topics the page follows (`alerts`, `alerts:team:T`,
     `alerts:agent:A`), once each. */
  function collect(state, only) {
    const seen = {}, out = [];
    Object.keys(state || {}).sort().forEach(function (name) {
      if (name !== "alerts" && name.indexOf("alerts:") !== 0) return;
      if (only && name !== only) return;
      ((state[name] && state[name].active) || []).forEach(function (a) {
        if (!seen[a.id]) { seen[a.id] = true; out.push(a); }
      });
    });
    return out;
  }
  function words(page) {
    return { lang: cb.lang, timezone: cb.timezone, ack: !!(page && page.ack) };
  }
  /* The wallboard's banner: the center's alerts and those of the board's queues (every queue
     when the board names none). `?sound=1` (or `sound = true` for the board) chimes. */
  const sized = { shape: null, key: null, done: null, max: 2 };
  function wall(state, page) {
    const board = (page && page.board) || {};
    const queues = board.queues || [];
    const items = collect(state, "alerts").filter(function (a) {
      const kind = a.scope.split(":")[0], name = a.scope.slice(kind.length + 1);
      return kind === "center" || (kind === "queue" && (!queues.length || queues.indexOf(name) >= 0));
    });
    const asked = new URLSearchParams(window.location.search).get("sound");
    const sound = asked === null ? !!board.sound : asked === "1" || asked === "true";
    const opts = Object.assign(words(page), { sound: sound });
    // a new size is found when the words or the screen's size change; whether a second alert
    // has room is asked again only when the alerts themselves change (a value that changes
    // every tick must not make the second line come and go)
    const list = sorted({ active: items });
    const shape = window.innerWidth + "x" + window.innerHeight + "|" + list.map(function (a) {
      return a.id + (a.acknowledged_at ? "+" : "");
    }).join("|");
    const key = shape + "|" + list.map(function (a) { return text(a); }).join("|");
    if (shape !== sized.shape) { sized.shape = shape; sized.max = 2; }
    if (key !== sized.key) { sized.key = key; sized.done = null; }
    return html(banner({ active: items }, Object.assign(opts, { max: sized.max })));
  }
  /* The banner's letters as big as the room allows: 7vh (about 75 px on a 1080p TV; 5.5vw on
     a portrait one) when it fits in 22% of the screen's height, smaller down to 4.5vh (about
     49 px) when a long sentence or a second alert needs the room; past that only the worst
     alert is shown, with "+1". The tiles keep the rest: waiting and longest wait stay big.
     Measured only when the alerts' words or the screen's size change. */
  function fitWall(box) {
    const el = box && box.querySelector(".cb-alert-banner");
    if (!el || sized.done === sized.key) return;
    const W = window.innerWidth, H = window.innerHeight;
    const big = Math.min(0.07 * H, 0.055 * W), small = Math.min(0.045 * H, 0.04 * W);
    const room = 0.22 * H;
    const root = document.documentElement.style;
    let size = big;
    root.setProperty("--cb-alert-size", size + "px");
    while (el.offsetHeight > room && size > small) {
      size = Math.max(small, size - 2);
      root.setProperty("--cb-alert-size", size + "px");
    }
    if (el.offsetHeight > room && sized.max > 1) {
      sized.max = 1; // the worst alert alone, at the size it can have
      root.setProperty("--cb-alert-size", big + "px");
      if (cb.render) cb.render();
      return;
    }
    sized.done = sized.key;
  }
  /* /sup: every alert the supervisor may see (center, queues, their teams and agents), with
     Acknowledge; a panel of its own, above the queues. */
  function sup(state, page) {
    const items = collect(state);
    return '<section class="panel cb-alert-panel" id="panel-alerts"><div class="panel-head"><span>' +
      esc(t("alert.title")) + (items.length ? " · " + items.length : "") + "</span></div>" +
      html(list({ active: items }, words(page))) + "</section>";
  }
  /* The agent widget: the agent's own alerts ("your break ends in 2 min"), one line each;
     nothing when there is none. */
  function agent(state, page, who) {
    return html(list({ active: collect(state, "alerts:agent:" + who) }, Object.assign(words(page), { compact: true })));
  }

  cb.alerts = {
    banner: banner, list: list, text: text, where: where, chime: chime, dom: dom, html: html,
    collect: collect, wall: wall, fitWall: fitWall, sup: sup, agent: agent, local: local,
  };
})();

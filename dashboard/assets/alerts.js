/* Alerts on the screens: a banner for the wallboard (readable from 5 m, optional chime) and a
   list with "Acknowledge" for /sup and the agent widget. Pure renderers from the `alerts`
   topic's data ({"active": [...], "meta": {...}}) to Dash component dicts, as render.js
   makes; words come from `opts.t(key, params)` (the screen's catalogue), English otherwise.
   Loaded on every page by Dash: it only defines functions and one click handler. */
(function () {
  "use strict";
  const cb = (window.callboard = window.callboard || {});
  const EN = {
    "alert.above": "{name}: {metric} is {value}, above {threshold}",
    "alert.below": "{name}: {metric} is {value}, below {threshold}",
    "alert.wrap_up_running": "Wrap-up running for {minutes} min",
    "alert.long_call": "On this call for {minutes} min",
    "alert.away_long": "Away for {minutes} min",
    "alert.available_long": "Available for {minutes} min",
    "alert.break_ending": "Your break ends in {minutes} min",
    "alert.severity.info": "Info",
    "alert.severity.warning": "Warning",
    "alert.severity.critical": "Critical",
    "alert.scope.center": "Center",
    "alert.scope.queue": "Queue {name}",
    "alert.scope.team": "Team {name}",
    "alert.scope.agent": "Agent {name}",
    "alert.acknowledge": "Acknowledge",
    "alert.acknowledged": "Acknowledged by {by} at {at}",
    "alert.since": "since {at}",
    "alert.none": "No active alerts",
  };
  const RANK = { critical: 0, warning: 1, info: 2 };

  function fill(text, params) {
    return text.replace(/\{(\w+)\}/g, function (m, k) {
      return params && params[k] !== undefined && params[k] !== null ? String(params[k]) : m;
    });
  }
  /* a metric without a catalogue entry: waiting_now -> "waiting now", aht_s -> "aht" */
  function plain(metric) { return metric.replace(/_s$/, "").replace(/_/g, " "); }
  function english(key, params) { return fill(EN[key] || key, params); }
  function h(type, props, children) {
    const p = Object.assign({}, props || {});
    if (children !== undefined) p.children = children;
    return { type: type.charAt(0).toUpperCase() + type.slice(1), namespace: "dash_html_components", props: p };
  }
  function value(x, unit, lang) {
    if (x === null || x === undefined) return "–";
    if (unit === "ratio") return new Intl.NumberFormat(lang, { style: "percent", maximumFractionDigits: 1 }).format(x);
    if (unit === "seconds") {
      const s = Math.round(x);
      return s < 60 ? s + " s" : Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
    }
    return new Intl.NumberFormat(lang, { maximumFractionDigits: 1 }).format(x);
  }
  function time(iso, opts) {
    if (!iso) return "";
    const o = { hour: "2-digit", minute: "2-digit", hour12: false };
    if (opts.timezone || cb.timezone) o.timeZone = opts.timezone || cb.timezone;
    return new Date(iso).toLocaleTimeString(opts.lang || [], o);
  }

  /* The alert's sentence, in the screen's words. */
  function text(a, opts) {
    opts = opts || {};
    const t = opts.t || english;
    const p = Object.assign({}, a.params || {});
    const unit = p.unit;
    const metric = t("metric." + a.metric);
    p.name = a.name;
    p.metric = metric === "metric." + a.metric ? plain(a.metric) : metric;
    p.value = value(p.value !== undefined ? p.value : a.value, unit, opts.lang);
    p.threshold = value(p.threshold !== undefined ? p.threshold : a.threshold, unit, opts.lang);
    return t("alert." + a.code, p);
  }
  function where(a, opts) {
    const t = (opts && opts.t) || english;
    const parts = a.scope.split(":");
    return t("alert.scope." + parts[0], { name: parts.slice(1).join(":") });
  }
  function sorted(data) {
    const list = ((data && data.active) || []).slice();
    list.sort(function (x, y) {
      return (RANK[x.severity] - RANK[y.severity]) || String(x.raised_at).localeCompare(String(y.raised_at));
    });
    return list;
  }

  /* Wallboard: the most severe alerts, huge; null when there is none. */
  function banner(data, opts) {
    opts = opts || {};
    const list = sorted(data);
    if (!list.length) return null;
    const shown = list.slice(0, opts.max || 2);
    const rows = shown.map(function (a) {
      return h("div", { className: "cb-alert-line cb-alert-" + a.severity + (a.acknowledged_at ? " cb-alert-acked" : "") }, [
        h("span", { className: "cb-alert-where" }, where(a, opts)),
        h("span", { className: "cb-alert-text" }, text(a, opts)),
      ]);
    });
    if (list.length > shown.length) rows.push(h("div", { className: "cb-alert-more" }, "+" + (list.length - shown.length)));
    if (opts.sound) chime(list, opts);
    return h("div", { className: "cb-alert-banner cb-alert-" + list[0].severity, role: "alert" }, rows);
  }

  /* /sup and the agent widget: every alert, with who acknowledged it; `opts.ack` adds the
     Acknowledge button (supervisors and admins). */
  function list(data, opts) {
    opts = opts || {};
    const t = opts.t || english;
    const items = sorted(data);
    if (!items.length) return h("div", { className: "cb-alert-list cb-alert-empty" }, t("alert.none"));
    return h("div", { className: "cb-alert-list" }, items.map(function (a) {
      const ack = a.acknowledged_at
        ? h("span", { className: "cb-alert-ackd" }, t("alert.acknowledged", { by: a.acknowledged_by, at: time(a.acknowledged_at, opts) }))
        : opts.ack ? h("button", { className: "cb-alert-ack", "data-alert-ack": String(a.id) }, t("alert.acknowledge")) : null;
      return h("div", { className: "cb-alert-item cb-alert-" + a.severity, id: "cb-alert-" + a.id }, [
        h("span", { className: "cb-alert-sev" }, t("alert.severity." + a.severity)),
        h("span", { className: "cb-alert-where" }, where(a, opts)),
        h("span", { className: "cb-alert-text" }, text(a, opts)),
        h("span", { className: "cb-alert-since" }, t("alert.since", { at: time(a.raised_at, opts) })),
        ack,
      ].filter(Boolean));
    }));
  }

  /* A short tone for alerts not seen before (warning and up). Browsers play sound only
     after a user gesture, or in kiosk mode (--autoplay-policy=no-user-gesture-required). */
  const heard = new Set();
  function chime(items, opts) {
    const fresh = items.filter(function (a) { return !heard.has(a.id) && RANK[a.severity] <= 1; });
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

  /* Acknowledge: POST /api/v1/alerts/{id}/ack with the page's token. */
  document.addEventListener("click", async function (e) {
    const button = e.target && e.target.closest ? e.target.closest("[data-alert-ack]") : null;
    if (!button) return;
    const token = new URLSearchParams(window.location.search).get("token");
    button.disabled = true;
    try {
      const r = await fetch("/api/v1/alerts/" + button.getAttribute("data-alert-ack") + "/ack", {
        method: "POST", headers: { Authorization: "Bearer " + token },
      });
      const body = await r.json();
      if (!r.ok) throw new Error(body.detail || r.status);
      const t = cb.alertsT || english;
      const done = document.createElement("span");
      done.className = "cb-alert-ackd";
      done.textContent = t("alert.acknowledged", { by: body.acknowledged_by, at: time(body.acknowledged_at, {}) });
      button.replaceWith(done);
    } catch (err) {
      button.disabled = false;
      button.title = String(err.message || err);
      button.classList.add("cb-alert-ack-failed");
    }
  });

  cb.alerts = { banner: banner, list: list, text: text, where: where, chime: chime, dom: dom, english: english };
})();

/* callboard screens, the shared part: the page's start (words, topics), the live feed, the
   server's clock, the data's age and staleness, writing values, and patching the DOM.
   The server sends views (values with their levels, codes for words); nothing here decides
   how good a value is. Loaded first (assets load in name order). */
(function () {
  "use strict";
  const cb = (window.callboard = window.callboard || {});
  cb.screens = cb.screens || {};
  cb.state = {};
  cb.words = {};
  cb.lang = "en";
  cb.clock = null; // {now, speed, received}: the server's clock from heartbeats
  cb.connected = false;
  cb.refused = null;
  cb.stale = false;

  // --- the token: the one place a page finds it. The server trades ?token= for an HttpOnly
  // cookie that the browser sends by itself; a token still in the address is sent as a header
  // (a page served by an older server). ---------------------------------------------------
  cb.token = function () {
    return new URLSearchParams(window.location.search).get("token");
  };
  cb.get = async function (path) {
    const headers = {};
    const token = cb.token();
    if (token) headers.Authorization = "Bearer " + token;
    const r = await fetch(path, { headers: headers, credentials: "same-origin" });
    if (!r.ok) {
      let detail = r.statusText;
      try { detail = (await r.json()).detail || detail; } catch (e) { /* not JSON */ }
      const err = new Error(detail);
      err.status = r.status;
      throw err;
    }
    return r;
  };

  // --- words and values ------------------------------------------------------------------
  cb.esc = function (s) {
    return String(s === null || s === undefined ? "" : s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  };
  // an away reason in the floor's words (reason.<r>); free text from the ACD as sent
  cb.reason = function (r) {
    const text = cb.words["reason." + r];
    return text === undefined ? r : text;
  };
  // a queue's, team's or alert rule's display name in the page's language (configured
  // `names`, through the page); the key where none is set
  cb.name = function (kind, key) {
    const names = (cb.page && cb.page.names && cb.page.names[kind]) || {};
    return names[key] || key;
  };
  cb.w = function (key, params) {
    let text = cb.words[key];
    if (text === undefined) text = key;
    if (params) {
      text = text.replace(/\{(\w+)\}/g, function (m, name) {
        return params[name] === undefined ? m : params[name];
      });
    }
    return text;
  };
  cb.duration = function (s) {
    if (s === null || s === undefined || isNaN(s)) return cb.w("common.none");
    s = Math.max(0, Math.floor(s));
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
    const two = function (v) { return (v < 10 ? "0" : "") + v; };
    return h ? h + ":" + two(m) + ":" + two(sec) : m + ":" + two(sec);
  };
  const nf = {};
  function numberFormat(opts) {
    const key = JSON.stringify(opts);
    if (!nf[key]) nf[key] = new Intl.NumberFormat(cb.lang, opts);
    return nf[key];
  }
  cb.fmt = function (value, unit) {
    if (value === null || value === undefined || (typeof value === "number" && !isFinite(value))) {
      return cb.w("common.none");
    }
    if (unit === "text" || typeof value === "string") return String(value);
    if (unit === "percent") return numberFormat({ style: "percent", maximumFractionDigits: 0 }).format(value);
    if (unit === "seconds") return cb.duration(value);
    if (unit === "nps") return numberFormat({ signDisplay: "always", maximumFractionDigits: 0 }).format(value);
    if (unit === "per_hour") return numberFormat({ maximumFractionDigits: 1, minimumFractionDigits: 1 }).format(value) + cb.w("common.unit.per_hour");
    return numberFormat({ maximumFractionDigits: 0 }).format(value);
  };
  // a value with its level: colour AND a glyph, so colour is never the only cue
  const GLYPH = { good: "✔", warn: "▲", bad: "✖", none: "" };
  cb.glyph = function (level) {
    return GLYPH[level] ? '<i class="glyph" aria-label="' + cb.esc(cb.w("common.level." + level)) +
      '">' + GLYPH[level] + "</i>" : "";
  };
  cb.cell = function (c, opts) {
    const o = opts || {};
    if (!c) return '<span class="v none">' + cb.w("common.none") + "</span>";
    const level = c.level || "none";
    return '<span class="v ' + level + '"' + (o.id ? ' id="' + cb.esc(o.id) + '"' : "") + ">" +
      '<span class="n">' + cb.esc(cb.fmt(c.value, c.unit)) + "</span>" +
      (o.glyph === false ? "" : cb.glyph(level)) + "</span>";
  };
  // a duration the browser ticks: since (server clock) and the level steps
  cb.timer = function (t, opts) {
    const o = opts || {};
    const id = o.id ? ' id="' + cb.esc(o.id) + '"' : "";
    if (!t || !t.since) return '<span class="v none"' + id + ">" + cb.w("common.none") + "</span>";
    // the same HTML every second: the ticker (tick) writes the duration and the level, and
    // the patcher leaves an element it ticks alone while its start is unchanged
    return '<span class="v timer ' + cb.esc(t.level || "none") + '"' + id + ' data-tick="' + cb.esc(t.since) +
      '" data-since="' + cb.esc(t.since) + '" data-steps="' + cb.esc(JSON.stringify(t.steps || [])) +
      '" data-base="' + cb.esc(t.level || "none") + '"><span class="n"></span></span>';
  };
  function levelAt(t, secs) {
    let level = t.level || "none";
    for (const s of t.steps || []) if (secs >= s.after_s) level = s.level;
    return level;
  }
  function parseIso(iso) {
    return Date.parse(String(iso).replace(/(\.\d{3})\d+/, "$1"));
  }
  cb.parseIso = parseIso;
  cb.flag = function (f) {
    const params = {};
    for (const [name, p] of Object.entries(f.params || {})) {
      params[name] = p.unit === "word" ? cb.w(p.value) : cb.fmt(p.value, p.unit);
    }
    return cb.w("flag." + f.code, params);
  };

  // --- the server's clock and the data's age -----------------------------------------------
  cb.now = function () {
    if (!cb.clock) return Date.now();
    return cb.clock.now + (Date.now() - cb.clock.received) * cb.clock.speed;
  };
  cb.computedAt = function () {
    let oldest = null;
    for (const t of Object.values(cb.state)) {
      const at = t && t.view && t.view.meta && t.view.meta.computed_at;
      if (!at) continue;
      const ms = parseIso(at);
      if (oldest === null || ms < oldest) oldest = ms;
    }
    return oldest;
  };
  cb.age = function () {
    const at = cb.computedAt();
    return at === null ? null : Math.max(0, (cb.now() - at) / 1000);
  };

  // --- patching the DOM: keep the nodes, change only what differs --------------------------
  function morphNode(from, to) {
    if (from.nodeType !== to.nodeType || from.nodeName !== to.nodeName) {
      from.replaceWith(to.cloneNode(true));
      return;
    }
    // what the ticker writes (timers, the clock, the data's age) is the ticker's
    if (from.nodeType === 1 && to.dataset.tick !== undefined && from.dataset.tick === to.dataset.tick) return;
    // a ticked element given another start: its text is written again at the next tick (the
    // text it showed for the old start could equal the new one's, and a replay's clock stands)
    if (from.nodeType === 1) from.__t = undefined;
    if (from.nodeType === 3) {
      if (from.nodeValue !== to.nodeValue) from.nodeValue = to.nodeValue;
      return;
    }
    if (from.nodeType !== 1) return;
    for (const a of Array.from(from.attributes)) {
      if (!to.hasAttribute(a.name) && a.name !== "open") from.removeAttribute(a.name);
    }
    for (const a of Array.from(to.attributes)) {
      if (from.getAttribute(a.name) !== a.value) from.setAttribute(a.name, a.value);
    }
    morphChildren(from, to);
  }
  function morphChildren(from, to) {
    const a = from.childNodes, b = Array.from(to.childNodes);
    for (let i = 0; i < b.length; i++) {
      if (i < a.length) morphNode(a[i], b[i]);
      else from.appendChild(b[i].cloneNode(true));
    }
    while (a.length > b.length) from.removeChild(from.lastChild);
  }
  const tpl = document.createElement("template");
  cb.patch = function (el, html) {
    if (!el) return;
    if (el.__html === html) return; // nothing changed: not even a parse
    el.__html = html;
    tpl.innerHTML = html;
    morphChildren(el, tpl.content);
  };

  // --- ticking: timers, the clock, the age; nothing else runs on a timer --------------------
  function tick() {
    const age = cb.age();
    const page = cb.page;
    const stale = cb.refused ? true : age === null ? !cb.connected && cb.everConnected : !!page && age > page.stale_after_s;
    cb.stale = stale;
    document.body.classList.toggle("stale", !!stale);
    const banner = document.getElementById("stale-banner");
    if (banner) {
      let text = "";
      if (cb.refused) {
        text = '<div class="big">' + cb.esc(cb.w("common.refused", { reason: cb.refused })) +
          '</div><div>' + cb.esc(cb.w("common.refused_help", { s: 10 })) + "</div>";
      } else if (stale) {
        text = '<div class="big">' + cb.esc(cb.w("common.stale_banner", { age: cb.duration(age || 0) })) +
          '</div><div>' + cb.esc(cb.w(cb.connected ? "common.stale_socket_up" : "common.stale_socket_down")) + "</div>";
      }
      cb.patch(banner, text);
      banner.hidden = !text;
    }
    const fresh = document.getElementById("freshness");
    if (fresh && cb.replaying) {
      const text = cb.w("common.replay", { at: cb.moment(cb.replaying.at) });
      if (fresh.textContent !== text) fresh.textContent = text;
      if (fresh.className !== "fresh replay") fresh.className = "fresh replay";
    } else if (fresh) {
      const text = age === null ? cb.w("common.connecting") : cb.w(stale ? "common.age" : "common.live", { age: cb.duration(age) });
      if (fresh.textContent !== text) fresh.textContent = text;
      const cls = "fresh " + (stale ? "stale" : age === null ? "wait" : "live");
      if (fresh.className !== cls) fresh.className = cls;
    }
    const clock = document.getElementById("clock");
    if (clock && cb.page) {
      const opts = { hour: "2-digit", minute: "2-digit", hour12: false };
      if (cb.timezone) opts.timeZone = cb.timezone;
      const text = new Date(cb.now()).toLocaleTimeString(cb.lang, opts);
      if (clock.textContent !== text) clock.textContent = text;
    }
    if (stale) return; // timers stop: a stale screen must not look alive
    for (const el of document.querySelectorAll("[data-since]")) {
      const secs = (cb.now() - parseIso(el.dataset.since)) / 1000;
      const steps = JSON.parse(el.dataset.steps || "[]");
      const level = levelAt({ level: el.dataset.base, steps: steps }, secs);
      const html = '<span class="n">' + cb.duration(secs) + "</span>" + cb.glyph(level);
      if (el.__t !== html) { el.__t = html; el.innerHTML = html; }
      const cls = "v timer " + level;
      if (el.className !== cls) el.className = cls;
    }
    for (const el of document.querySelectorAll("[data-until]")) {
      const text = cb.duration((parseIso(el.dataset.until) - cb.now()) / 1000);
      if (el.textContent !== text) el.textContent = text;
    }
  }

  // --- rendering: on data, at most once per animation frame --------------------------------
  let queued = false;
  cb.render = function () {
    if (queued) return;
    queued = true;
    requestAnimationFrame(function () {
      queued = false;
      const screen = cb.page && cb.screens[cb.page.screen];
      if (screen) screen.render(cb.state, cb.page);
      tick();
    });
  };

  function apply(state, patch) {
    if (patch === null || typeof patch !== "object" || Array.isArray(patch) || patch.__deleted__) {
      return patch;
    }
    const out = Object.assign({}, state && typeof state === "object" && !Array.isArray(state) ? state : {});
    for (const [key, value] of Object.entries(patch)) {
      if (value && typeof value === "object" && value.__deleted__) delete out[key];
      else out[key] = apply(out[key], value);
    }
    return out;
  }
  cb.apply = apply;

  // --- the live feed ---------------------------------------------------------------------
  const RETRY_REFUSED_MS = 10000;
  let backoff = 500;
  function connect() {
    if (cb.replaying) return; // a replay's clock is frozen: no live frame may override it
    const page = cb.page;
    const proto = window.location.protocol === "https:" ? "wss" : "ws";
    // the page's cookie stands for the token (the server traded ?token= for it); a token
    // still in the address (an older server) is passed on
    const token = cb.token();
    const url = proto + "://" + window.location.host + "/api/v1/live?topics=" +
      encodeURIComponent(page.topics.join(",")) + (token ? "&token=" + encodeURIComponent(token) : "");
    const ws = new WebSocket(url);
    const seq = {}; // topic -> the seq of the frame the page's state is at (patches name theirs)
    cb.socket = ws;
    ws.onopen = function () { cb.connected = true; cb.everConnected = true; backoff = 500; cb.render(); };
    ws.onmessage = function (m) {
      if (cb.socket !== ws) return; // a replay began: its frames stand
      const f = JSON.parse(m.data);
      if (f.topic === "_heartbeat") {
        cb.clock = { now: parseIso(f.data.now), speed: f.data.speed || 1, received: Date.now() };
        cb.timezone = f.data.timezone;
      } else if (f.kind === "snapshot") {
        cb.state[f.topic] = f.data;
        seq[f.topic] = f.seq;
      } else if (f.base !== undefined && seq[f.topic] !== f.base) {
        // a patch against a state this page does not hold: ask for the whole topic again
        ws.send(JSON.stringify({ snapshot: [f.topic] }));
        return;
      } else {
        cb.state[f.topic] = apply(cb.state[f.topic] || {}, f.data);
        seq[f.topic] = f.seq;
      }
      cb.refused = null;
      cb.render();
    };
    ws.onclose = function (e) {
      cb.connected = false;
      if (cb.socket !== ws) return; // closed on purpose (a replay began)
      if (e.code === 4401 || e.code === 4403) {
        // refused: say what to do, and try again (a new token may be set up meanwhile)
        cb.refused = e.reason || String(e.code);
        cb.render();
        setTimeout(start, RETRY_REFUSED_MS);
        return;
      }
      cb.render();
      setTimeout(connect, backoff);
      backoff = Math.min(backoff * 2, 5000);
    };
    ws.onerror = function () { ws.close(); };
  }

  // the page's start: words, topics and settings for this screen (same token rules as REST)
  async function start() {
    const screen = document.body.dataset.screen || cb.screenOf(window.location.pathname);
    const params = new URLSearchParams(window.location.search);
    const q = new URLSearchParams({ screen: screen.name });
    if (screen.board) q.set("board", screen.board);
    if (screen.agent) q.set("agent", screen.agent);
    if (params.get("lang")) q.set("lang", params.get("lang"));
    try {
      const r = await cb.get("/api/v1/screens/page?" + q.toString());
      cb.page = await r.json();
      cb.words = cb.page.words;
      cb.lang = cb.page.lang;
      document.documentElement.lang = cb.lang;
      cb.refused = null;
    } catch (e) {
      if (e.status === 401 || e.status === 403) {
        cb.refused = e.message;
        if (!Object.keys(cb.words).length) {
          try {
            const lang = params.get("lang") || navigator.language || "en";
            cb.words = await (await fetch("/api/v1/screens/words?lang=" + encodeURIComponent(lang))).json();
          } catch (err) { /* the keys show */ }
        }
        ensureBanner();
        tick();
        setTimeout(start, RETRY_REFUSED_MS);
        return;
      }
      setTimeout(start, 2000);
      return;
    }
    ensureBanner();
    const s = cb.screens[cb.page.screen];
    if (params.get("at")) cb.replaying = { at: params.get("at"), now: null, pending: true };
    if (s && s.init) s.init(cb.page);
    cb.render();
    if (cb.replaying) cb.replayTo(params.get("at"));
    else connect();
  }

  // --- replay: the screen as it was at a past moment (?at=RFC 3339) -----------------------
  // The server computes the moment's frames with the live code (GET /api/v1/screens/replay);
  // the clock stands still at the moment and no socket is open, so nothing live overrides it.
  // cb.replaying = {at, now (the server's clock), day (the screen's day: [from, to] ms)}.
  cb.replaying = null;
  cb.replayError = null;
  cb.momentListeners = []; // a screen's own reads (trends, contacts): asked again on a move
  cb.at = function () { return cb.replaying ? cb.replaying.at : null; };
  // a read at the screen's moment: `path` with &at= while replaying
  cb.atPath = function (path) {
    const at = cb.at();
    if (!at) return path;
    return path + (path.indexOf("?") >= 0 ? "&" : "?") + "at=" + encodeURIComponent(at);
  };
  // the moment in the screen's time zone and language, to the second
  cb.moment = function (iso) {
    const opts = { year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false };
    if (cb.timezone) opts.timeZone = cb.timezone;
    const ms = parseIso(iso);
    return isNaN(ms) ? String(iso) : new Date(ms).toLocaleString(cb.lang, opts);
  };
  function setAddress(at) {
    const url = new URL(window.location.href);
    if (at) url.searchParams.set("at", at); else url.searchParams.delete("at");
    window.history.replaceState(null, "", url.pathname + url.search + url.hash);
  }
  function moved() {
    for (const f of cb.momentListeners) f();
    replayBar();
    cb.render();
  }
  cb.replayTo = async function (at) {
    const screen = cb.screenOf(window.location.pathname);
    const q = new URLSearchParams({ screen: screen.name, at: at });
    if (screen.board) q.set("board", screen.board);
    if (screen.agent) q.set("agent", screen.agent);
    try {
      const body = await (await cb.get("/api/v1/screens/replay?" + q.toString())).json();
      if (cb.socket) { const ws = cb.socket; cb.socket = null; ws.close(); }
      cb.connected = false;
      cb.replaying = { at: body.at, now: body.now };
      cb.replayError = null;
      cb.timezone = body.timezone;
      cb.clock = { now: parseIso(body.at), speed: 0, received: Date.now() };
      cb.state = body.topics;
      setAddress(body.at);
      document.body.classList.add("replay");
    } catch (e) {
      cb.replayError = e.message;
      if (cb.replaying && cb.replaying.pending) cb.replaying = { at: at, now: null, failed: true };
    }
    moved();
  };
  cb.goLive = function () {
    cb.replaying = null;
    cb.replayError = null;
    cb.clock = null;
    cb.state = {};
    setAddress(null);
    document.body.classList.remove("replay");
    moved();
    connect();
  };
  // the mark on every screen: what is shown, and the way back to live
  function replayBar() {
    let bar = document.getElementById("replay-bar");
    if (!cb.replaying && !cb.replayError) { if (bar) bar.remove(); return; }
    if (!bar) {
      bar = document.createElement("div");
      bar.id = "replay-bar";
      bar.setAttribute("role", "status");
      document.body.appendChild(bar);
      bar.addEventListener("click", function (e) { if (e.target.closest("[data-live]")) cb.goLive(); });
    }
    let html = "";
    if (cb.replaying) html += '<span class="mark">◀◀ ' + cb.esc(cb.w("common.replay", { at: cb.moment(cb.replaying.at) })) + "</span>";
    if (cb.replayError) html += '<span class="error">' + cb.esc(cb.w("common.replay_failed", { reason: cb.replayError })) + "</span>";
    if (cb.replaying) html += '<button data-live="1">' + cb.esc(cb.w("common.replay_live")) + "</button>";
    cb.patch(bar, html);
  }
  cb.screenOf = function (path) {
    if (path.startsWith("/agent/")) return { name: "agent", agent: decodeURIComponent(path.slice(7)) };
    if (path === "/sup") return { name: "sup" };
    if (path.startsWith("/wall/")) return { name: "wall", board: decodeURIComponent(path.slice(6)) };
    return { name: "wall" };
  };
  function ensureBanner() {
    if (!document.getElementById("stale-banner")) {
      const b = document.createElement("div");
      b.id = "stale-banner";
      b.setAttribute("role", "alert");
      b.hidden = true;
      document.body.appendChild(b);
    }
  }

  window.addEventListener("load", function () {
    setInterval(tick, 1000);
    // Dash lays out the page's container; start once it is there
    const wait = setInterval(function () {
      if (document.getElementById("screen")) { clearInterval(wait); start(); }
    }, 50);
  });
})();

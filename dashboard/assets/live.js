/* The live feed of a screen: one websocket to /api/v1/live for the page's topics, patches
   merged into the state, pushed into the Dash store "live-store" for the clientside renderers.
   Reconnects by itself; the heartbeats carry the server's clock (a demo's clock runs faster). */
(function () {
  "use strict";
  const params = new URLSearchParams(window.location.search);
  const token = params.get("token");
  const cb = (window.callboard = window.callboard || {});
  cb.state = {};
  cb.clock = null;
  cb.lastFrame = 0;
  cb.connected = false;

  function apply(state, patch) {
    if (patch === null || typeof patch !== "object" || Array.isArray(patch) || patch.__deleted__) {
      return patch;
    }
    const out = Object.assign({}, state && typeof state === "object" ? state : {});
    for (const [key, value] of Object.entries(patch)) {
      if (value && typeof value === "object" && value.__deleted__) delete out[key];
      else out[key] = apply(out[key], value);
    }
    return out;
  }
  cb.apply = apply;

  cb.now = function () {
    if (!cb.clock) return Date.now();
    return cb.clock.now + (Date.now() - cb.clock.received) * cb.clock.speed;
  };

  let scheduled = false;
  function push() {
    if (scheduled) return;
    scheduled = true;
    setTimeout(function () {
      scheduled = false;
      const dc = window.dash_clientside;
      if (dc && dc.set_props) {
        dc.set_props("live-store", {
          data: { topics: flat(cb.state), connected: cb.connected, frames: cb.frames || 0 },
        });
      } else {
        push();
      }
    }, 100);
  }

  // Topics carry rows per window ({windows: {today: {...}, "30m": {...}}, meta}); the
  // screens read the default window's rows, with the topic's extras beside them.
  function flat(state) {
    const out = {};
    for (const [name, t] of Object.entries(state)) {
      const w = t && t.windows && t.meta ? t.windows[t.meta.default_window] : null;
      out[name] = w ? Object.assign({}, t, w) : t;
    }
    return out;
  }

  async function topics() {
    const path = window.location.pathname;
    if (path === "/wall") return ["center"];
    if (path.startsWith("/agent/")) return ["agent:" + decodeURIComponent(path.slice(7))];
    if (path === "/sup") {
      // the page's HttpOnly cookie authenticates (the server traded ?token= for it)
      const r = await fetch("/api/v1/me", token ? { headers: { Authorization: "Bearer " + token } } : {});
      const me = await r.json();
      return ["center"].concat((me.teams || []).map(function (t) { return "team:" + t; }));
    }
    return [];
  }

  let backoff = 500;
  async function connect() {
    let list = [];
    try {
      list = await topics();
    } catch (e) {
      setTimeout(connect, backoff);
      return;
    }
    if (!list.length) return;
    const proto = window.location.protocol === "https:" ? "wss" : "ws";
    const url = proto + "://" + window.location.host + "/api/v1/live?topics=" +
      encodeURIComponent(list.join(",")) + (token ? "&token=" + encodeURIComponent(token) : "");
    const ws = new WebSocket(url);
    cb.socket = ws;
    ws.onopen = function () { cb.connected = true; backoff = 500; push(); };
    ws.onmessage = function (m) {
      const f = JSON.parse(m.data);
      cb.lastFrame = Date.now();
      cb.frames = (cb.frames || 0) + 1;
      if (f.topic === "_heartbeat") {
        cb.clock = { now: Date.parse(f.data.now), speed: f.data.speed || 1, received: Date.now() };
        cb.timezone = f.data.timezone;
      } else if (f.kind === "snapshot") {
        cb.state[f.topic] = f.data;
      } else {
        cb.state[f.topic] = apply(cb.state[f.topic] || {}, f.data);
      }
      push();
    };
    ws.onclose = function (e) {
      cb.connected = false;
      push();
      if (e.code >= 4400 && e.code < 4500) { cb.refused = e.reason; return; }
      setTimeout(connect, backoff);
      backoff = Math.min(backoff * 2, 5000);
    };
    ws.onerror = function () { ws.close(); };
  }
  window.addEventListener("load", function () { setTimeout(connect, 50); });
})();

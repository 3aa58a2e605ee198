/* Source health on the screens.
   - /sup: the sources panel (the `sources` topic, supervisors and admins): per source its
     status, how long it has been silent against its limit, the newest event's time and age,
     events per minute, stored, duplicates, rejects, gaps, followed files' offsets and lag. A
     stale source stands out by colour AND by glyph and word, in its row and in the header.
   - /wall and /agent: a mark when the figures may be behind (the `feed` topic: only whether a
     source is stale and for how long; no source is named to a wallboard or an agent).
   d_sup.js, b_wall.js and c_agent.js call `cb.sources.*`; this file only renders. */
(function () {
  "use strict";
  const cb = (window.callboard = window.callboard || {});
  const esc = function (s) { return cb.esc(s); };

  // silences and ages are measured by the server when it computes the topic; between frames
  // they grow in the browser (silence on the real clock, an event's age on the server's clock,
  // which a demo runs faster)
  let seen = null, seenAt = 0;
  function elapsed(data) {
    if (data !== seen) { seen = data; seenAt = Date.now(); }
    return (Date.now() - seenAt) / 1000;
  }

  function bytes(n) {
    if (n === null || n === undefined) return cb.w("common.none");
    if (n < 1024) return cb.fmt(n, "count") + " B";
    if (n < 1024 * 1024) return cb.fmt(Math.round(n / 1024), "count") + " KB";
    return cb.fmt(Math.round(n / 1048576), "count") + " MB";
  }
  function rate(n) {
    if (n === null || n === undefined) return cb.w("common.none");
    return new Intl.NumberFormat(cb.lang, { maximumFractionDigits: 1 }).format(n);
  }
  // an event's time in the center's zone; with its date when it is a day old or more (an
  // import of last month's file), where the age alone would read as hours upon hours
  function eventTime(iso, age) {
    const opts = { hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false };
    if (cb.timezone) opts.timeZone = cb.timezone;
    if (age !== null && age >= 86400) {
      opts.year = "numeric"; opts.month = "2-digit"; opts.day = "2-digit"; delete opts.second;
      return new Date(cb.parseIso(iso)).toLocaleString(cb.lang, opts);
    }
    return new Date(cb.parseIso(iso)).toLocaleTimeString(cb.lang, opts);
  }
  function stale(data) {
    return ((data && data.sources) || []).filter(function (s) { return s.stale; });
  }

  function status(s) {
    if (s.stale) {
      return '<span class="src-status stale"><i class="glyph">✖</i> ' + esc(cb.w("sup.source.stale")) +
        (s.last_heard_at ? "" : " · " + esc(cb.w("sup.source.never"))) + "</span>";
    }
    if (s.max_silence_s === null || s.max_silence_s === undefined) {
      return '<span class="src-status unwatched">– ' + esc(cb.w("sup.source.unwatched")) + "</span>";
    }
    return '<span class="src-status live"><i class="glyph">✔</i> ' + esc(cb.w("sup.source.live")) + "</span>";
  }

  function positions(s) {
    const list = s.positions || [];
    if (!list.length) return cb.w("common.none");
    return list.map(function (p) {
      const at = p.offset === null || p.offset === undefined ? cb.w("common.none") : cb.fmt(p.offset, "count");
      return '<span title="' + esc(p.key || s.source) + '">' + esc(at) +
        (p.lag_bytes === null || p.lag_bytes === undefined ? "" : " · " + esc(bytes(p.lag_bytes))) + "</span>";
    }).join("<br>");
  }

  function row(s, dt) {
    const speed = (cb.clock && cb.clock.speed) || 1;
    const silent = s.silent_s === null || s.silent_s === undefined ? null : s.silent_s + dt;
    const age = s.age_s === null || s.age_s === undefined ? null : s.age_s + dt * speed;
    const old = age !== null && age >= 86400;
    const last = s.last_event_ts
      ? esc(eventTime(s.last_event_ts, age)) +
        (old ? "" : ' <small>' + esc(cb.w("sup.source.ago", { age: cb.duration(age) })) + "</small>")
      : esc(cb.w("sup.source.never"));
    const warn = function (n) { return '<td class="num' + (n ? " src-some" : "") + '">' + esc(cb.fmt(n, "count")) + "</td>"; };
    return '<tr class="src-row' + (s.stale ? " src-stale" : "") + '" data-source="' + esc(s.source) + '">' +
      '<td class="src-name">' + esc(s.source) + "</td><td>" + status(s) + '</td><td class="num">' +
      esc(silent === null ? cb.w("common.none") : cb.duration(silent)) + '</td><td class="num">' +
      esc(s.max_silence_s ? cb.duration(s.max_silence_s) : cb.w("common.none")) + "</td><td>" + last +
      '</td><td class="num">' + esc(rate(s.events_per_min)) + '</td><td class="num">' +
      esc(cb.fmt(s.inserted, "count")) + "</td>" + warn(s.duplicates) + warn(s.rejected) + warn(s.gaps) +
      '<td class="num">' + positions(s) + "</td></tr>";
  }

  const COLS = ["sup.col.source", "sup.col.status", "sup.col.silent", "sup.col.limit", "sup.col.last_event",
    "sup.col.per_min", "sup.col.stored", "sup.col.duplicates", "sup.col.rejected", "sup.col.gaps", "sup.col.position"];

  /* The /sup panel (the region d_sup.js gives it); "" until the topic has come. */
  function panel(state) {
    const data = state.sources;
    if (!data) return "";
    const dt = elapsed(data);
    const list = data.sources || [];
    const body = list.length
      ? '<table class="grid" id="table-sources"><thead><tr>' + COLS.map(function (k) { return "<th>" + esc(cb.w(k)) + "</th>"; }).join("") +
        "</tr></thead><tbody>" + list.map(function (s) { return row(s, dt); }).join("") + "</tbody></table>"
      : '<div class="hint">' + esc(cb.w("sup.sources_none")) + "</div>";
    const bad = stale(data).length > 0;
    return '<section class="panel src-panel' + (bad ? " src-bad" : "") + '" id="panel-sources"><div class="panel-head"><span>' +
      esc(cb.w("sup.sources")) + "</span></div>" + body + '<div class="note">' + esc(cb.w("sup.sources_note")) + "</div></section>";
  }

  /* The /sup header's mark: the stale sources by name, a link to the panel; "" when none. */
  function mark(state) {
    const names = stale(state.sources).map(function (s) { return s.source; });
    if (!names.length) return "";
    return '<a class="src-mark" id="sources-mark" href="#panel-sources" role="status"><i class="glyph">✖</i> ' +
      esc(cb.w("sup.sources_stale", { names: names.join(", ") })) + "</a>";
  }

  /* /wall and /agent: the figures may be behind (the `feed` topic); "" when all is well. */
  function behind(state, where) {
    const f = state.feed;
    if (!f || !f.stale) return "";
    let detail;
    if (f.silent_s !== null && f.silent_s !== undefined) {
      detail = f.silent_s >= 60 ? cb.w("common.feed.silent_min", { min: cb.fmt(Math.floor(f.silent_s / 60), "count") })
        : cb.w("common.feed.silent_s", { s: cb.fmt(f.silent_s, "count") });
    } else {
      detail = cb.w("common.feed.unheard");
    }
    return '<div class="feed-behind feed-' + esc(where) + '" id="feed-behind" role="status" title="' + esc(detail) + '">' +
      '<span class="feed-glyph" aria-hidden="true">⚠</span> <b>' + esc(cb.w("common.feed.title")) + "</b> " +
      '<span class="feed-detail">' + esc(detail) + "</span></div>";
  }

  cb.sources = { panel: panel, mark: mark, behind: behind };

  // the panel's silences and ages grow each second (only the panel is patched; nothing ticks
  // while the screen itself is stale: a stale screen must not look alive)
  setInterval(function () {
    if (cb.stale || !cb.page || cb.page.screen !== "sup" || !cb.state.sources) return;
    cb.patch(document.getElementById("r-sources"), panel(cb.state));
  }, 1000);
})();

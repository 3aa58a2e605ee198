/* /reports: reports of the past for supervisors and admins. A form (report, level, interval,
   days, with yesterday / last week / today), the table of the report's rows and totals with
   the previous period, its chart (a Plotly figure made on the server, drawn with the plotly.js
   Dash ships) and download buttons (CSV, XLSX, PDF). Every read goes through
   /api/v1/reports with the page's cookie. Inert on the other screens (Dash loads every asset). */
(function () {
  "use strict";
  if (!document.body || document.body.dataset.page !== "reports") return;
  const root = document.getElementById("reports");
  const lang = document.body.dataset.lang || "en";
  const tz = document.body.dataset.timezone || "UTC";
  const REPORTS = ["queues", "agents", "abandoned", "waits"];
  const LEVELS = {
    queues: ["center", "queue", "team", "agent"],
    agents: ["center", "team", "agent"],
    abandoned: ["center", "queue"],
    waits: ["center", "queue"],
  };
  const TEXT = ["key", "day", "start", "bucket", "queue", "customer", "left_at", "queued_at", "called_back_at"];
  const PERCENT = ["service_level", "abandon_rate", "transfer_rate", "fcr", "csat", "occupancy", "adherence"];
  const SECONDS = ["asa_s", "longest_wait_s", "aht_s", "logged_in_s", "t_available", "t_on_call", "t_wrap_up", "t_away", "break_s", "wait_s", "called_back_after_s"];
  let words = {};

  function w(key, params) {
    let text = words[key];
    if (text === undefined) return key;
    if (params) text = text.replace(/\{(\w+)\}/g, function (m, n) { return params[n] === undefined ? m : params[n]; });
    return text;
  }
  function esc(s) {
    return String(s === null || s === undefined ? "" : s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }
  function head(col) {
    const own = words["report.col." + col];
    if (own !== undefined) return own;
    if (col.indexOf("away:") === 0) {
      const r = col.slice(5);
      return w("report.col.away_reason", { reason: words["reason." + r] || r });
    }
    return words["metric." + col + ".short"] || col;
  }
  function duration(s) {
    s = Math.max(0, Math.round(s));
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
    return (h ? h + ":" + String(m).padStart(2, "0") : String(m)) + ":" + String(sec).padStart(2, "0");
  }
  function value(col, v) {
    if (v === null || v === undefined) return w("common.none");
    if (typeof v === "boolean") return v ? w("report.yes") : "";
    if (col === "left_at" || col === "queued_at" || col === "called_back_at") {
      try {
        return new Date(v).toLocaleString(lang, { timeZone: tz, hour12: false });
      } catch (e) { return v; }
    }
    if (typeof v !== "number") return String(v);
    if (PERCENT.indexOf(col) >= 0) return (v * 100).toFixed(0) + "%";
    if (SECONDS.indexOf(col) >= 0 || col.indexOf("away:") === 0) return duration(v);
    return v.toLocaleString(lang, { maximumFractionDigits: 1 });
  }
  function localDay(d) {
    const parts = new Intl.DateTimeFormat("en-CA", { timeZone: tz, year: "numeric", month: "2-digit", day: "2-digit" }).format(d);
    return parts; // YYYY-MM-DD
  }
  function shift(day, n) {
    const d = new Date(day + "T12:00:00Z");
    d.setUTCDate(d.getUTCDate() + n);
    return d.toISOString().slice(0, 10);
  }
  function ranges() {
    const today = localDay(new Date());
    const dow = (new Date(today + "T12:00:00Z").getUTCDay() + 6) % 7; // Monday 0
    const monday = shift(today, -dow);
    return {
      yesterday: [shift(today, -1), shift(today, -1)],
      last_week: [shift(monday, -7), shift(monday, -1)],
      today: [today, today],
    };
  }

  function params() {
    const f = document.getElementById("rp-form");
    const q = new URLSearchParams({
      from: f.from.value,
      to: f.to.value,
      by: f.by.value,
    });
    if (f.interval.value) q.set("interval", f.interval.value);
    q.set("lang", lang);
    return q;
  }

  function form() {
    const r = ranges().yesterday;
    const opts = function (list, key) {
      return list.map(function (v) { return '<option value="' + v + '">' + esc(key(v)) + "</option>"; }).join("");
    };
    root.innerHTML =
      '<header class="rp-head"><h1>' + esc(w("report.page.title")) + "</h1></header>" +
      '<form id="rp-form" class="rp-form">' +
      "<label>" + esc(w("report.page.report")) + ' <select name="report">' + opts(REPORTS, function (v) { return w("report.name." + v); }) + "</select></label>" +
      "<label>" + esc(w("report.page.by")) + ' <select name="by"></select></label>' +
      "<label>" + esc(w("report.page.interval")) + ' <select name="interval"><option value="">' + esc(w("report.daily")) + "</option>" +
      [15, 30, 60].map(function (n) { return '<option value="' + n + '">' + esc(w("report.interval_min", { n: n })) + "</option>"; }).join("") + "</select></label>" +
      "<label>" + esc(w("report.page.from")) + ' <input type="date" name="from" value="' + r[0] + '"></label>' +
      "<label>" + esc(w("report.page.to")) + ' <input type="date" name="to" value="' + r[1] + '"></label>' +
      '<span class="rp-quick">' + ["yesterday", "last_week", "today"].map(function (k) {
        return '<button type="button" data-range="' + k + '">' + esc(w("report.page.range." + k)) + "</button>";
      }).join("") + "</span>" +
      '<button type="submit" class="rp-show">' + esc(w("report.page.show")) + "</button>" +
      "</form>" +
      '<p id="rp-rule" class="rp-rule"></p>' +
      '<div class="rp-chart-head"><label>' + esc(w("report.page.metric")) + ' <select id="rp-metric"></select></label>' +
      '<span class="rp-downloads">' + ["csv", "xlsx", "pdf"].map(function (f) {
        return '<a class="rp-download" data-format="' + f + '" href="#">' + f.toUpperCase() + "</a>";
      }).join("") + "</span></div>" +
      '<div id="rp-chart" class="rp-chart"></div>' +
      '<div id="rp-status" class="rp-status"></div>' +
      '<div class="rp-table-wrap"><table id="rp-table" class="rp-table"></table></div>' +
      '<h2 class="rp-totals-title">' + esc(w("report.page.totals")) + "</h2>" +
      '<div class="rp-table-wrap"><table id="rp-totals" class="rp-table"></table></div>';
    const f = document.getElementById("rp-form");
    f.report.addEventListener("change", levels);
    f.addEventListener("submit", function (e) { e.preventDefault(); show(); });
    root.querySelectorAll("[data-range]").forEach(function (b) {
      b.addEventListener("click", function () {
        const span = ranges()[b.dataset.range];
        f.from.value = span[0];
        f.to.value = span[1];
        show();
      });
    });
    document.getElementById("rp-metric").addEventListener("change", chart);
    // a link may carry the choice: ?report=&by=&interval=&from=&to=
    const asked = new URLSearchParams(window.location.search);
    ["report", "interval", "from", "to"].forEach(function (k) {
      if (asked.get(k)) f[k].value = asked.get(k);
    });
    levels();
    if (asked.get("by")) f.by.value = asked.get("by");
    levels();
  }

  function levels() {
    const f = document.getElementById("rp-form");
    const chosen = f.by.value || "queue";
    const list = LEVELS[f.report.value];
    f.by.innerHTML = list.map(function (v) {
      return '<option value="' + v + '"' + (v === chosen ? " selected" : "") + ">" + esc(w("cli.by." + v)) + "</option>";
    }).join("");
    if (list.indexOf(chosen) < 0) f.by.value = list[Math.min(1, list.length - 1)];
    f.interval.disabled = ["abandoned", "waits"].indexOf(f.report.value) >= 0;
  }

  let current = null;

  async function show() {
    const f = document.getElementById("rp-form");
    const name = f.report.value;
    const status = document.getElementById("rp-status");
    status.textContent = w("report.page.loading");
    status.classList.remove("rp-error");
    const q = params();
    if (f.interval.disabled) q.delete("interval");
    try {
      const r = await fetch("/api/v1/reports/" + name + "?" + q.toString(), { credentials: "same-origin" });
      const body = await r.json();
      if (!r.ok) throw new Error(typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail));
      current = { name: name, query: q, report: body };
      status.textContent = body.rows.length ? "" : w("report.page.no_rows");
      document.getElementById("rp-rule").textContent = w("report.rule." + name);
      table(body);
      metrics(body);
      downloads();
      chart();
    } catch (e) {
      status.textContent = e.message;
      status.classList.add("rp-error");
    }
  }

  function columnsOf(report) {
    const cols = ["key"];
    const first = report.rows[0] || {};
    if ("day" in first) cols.push("day");
    if ("start" in first) cols.push("start");
    if (report.report === "abandoned" && report.by === "center") cols.push("queue");
    const reasons = {};
    report.rows.forEach(function (r) { Object.keys(r.away_by_reason || {}).forEach(function (k) { reasons[k] = 1; }); });
    report.columns.forEach(function (c) { if (c !== "away_by_reason" && cols.indexOf(c) < 0) cols.push(c); });
    Object.keys(reasons).sort().forEach(function (k) { cols.push("away:" + k); });
    return cols;
  }
  function cell(row, c) {
    return c.indexOf("away:") === 0 ? (row.away_by_reason || {})[c.slice(5)] || 0 : row[c];
  }

  function table(report) {
    const cols = columnsOf(report);
    const t = document.getElementById("rp-table");
    const rows = report.rows.slice(0, 2000);
    t.innerHTML = "<thead><tr>" + cols.map(function (c) { return '<th class="' + (TEXT.indexOf(c) >= 0 ? "txt" : "num") + '">' + esc(head(c)) + "</th>"; }).join("") + "</tr></thead><tbody>" +
      rows.map(function (r) {
        return "<tr>" + cols.map(function (c) { return '<td class="' + (TEXT.indexOf(c) >= 0 ? "txt" : "num") + '">' + esc(value(c, cell(r, c))) + "</td>"; }).join("") + "</tr>";
      }).join("") + "</tbody>";
    const tt = document.getElementById("rp-totals");
    const keys = Object.keys(report.totals);
    const tcols = ["key"].concat(cols.filter(function (c) { return TEXT.indexOf(c) < 0; }));
    let html = "<thead><tr>" + tcols.map(function (c) { return '<th class="' + (c === "key" ? "txt" : "num") + '">' + esc(head(c)) + "</th>"; }).join("") + "</tr></thead><tbody>";
    keys.forEach(function (k) {
      const row = report.totals[k];
      html += '<tr class="rp-total"><td class="txt">' + esc(k + " · " + w("report.total")) + "</td>" +
        tcols.slice(1).map(function (c) { return '<td class="num">' + esc(value(c, cell(row, c))) + "</td>"; }).join("") + "</tr>";
      if (row.previous && Object.keys(row.previous).length) {
        html += '<tr class="rp-prev"><td class="txt">' + esc(w("report.previous")) + "</td>" +
          tcols.slice(1).map(function (c) {
            const d = row.delta && row.delta[c];
            const arrow = typeof d === "number" && d !== 0 ? (d > 0 ? " ▲" : " ▼") : "";
            return '<td class="num">' + esc(value(c, cell(row.previous, c))) + '<small>' + arrow + "</small></td>";
          }).join("") + "</tr>";
      }
    });
    tt.innerHTML = html + "</tbody>";
  }

  function metrics(report) {
    const sel = document.getElementById("rp-metric");
    const list = report.report === "queues" || report.report === "agents"
      ? report.columns.filter(function (c) { return c !== "away_by_reason"; }) : [];
    const keep = sel.value;
    sel.innerHTML = list.map(function (c) { return '<option value="' + c + '">' + esc(head(c)) + "</option>"; }).join("");
    sel.disabled = !list.length;
    if (list.indexOf(keep) >= 0) sel.value = keep;
    else if (list.length) sel.value = report.report === "queues" ? "service_level" : "occupancy";
  }

  function downloads() {
    root.querySelectorAll(".rp-download").forEach(function (a) {
      const q = new URLSearchParams(current.query);
      q.set("format", a.dataset.format);
      a.href = "/api/v1/reports/" + current.name + "?" + q.toString();
      a.setAttribute("download", "");
    });
  }

  async function chart() {
    if (!current) return;
    const q = new URLSearchParams(current.query);
    const sel = document.getElementById("rp-metric");
    if (!sel.disabled && sel.value) q.set("metric", sel.value);
    try {
      const r = await fetch("/api/v1/reports/" + current.name + "/figure?" + q.toString(), { credentials: "same-origin" });
      if (!r.ok) return;
      const fig = await r.json();
      const Plotly = await window.callboard.charts.load(); // the one copy (f_charts.js)
      Plotly.react(document.getElementById("rp-chart"), fig.data, fig.layout, { displayModeBar: false, responsive: true });
    } catch (e) { /* the table stands without the chart */ }
  }

  async function start() {
    try {
      words = await (await fetch("/api/v1/screens/words?lang=" + encodeURIComponent(lang))).json();
    } catch (e) { /* the keys show */ }
    document.title = "callboard · " + w("report.page.title");
    form();
    show();
  }
  start();
})();

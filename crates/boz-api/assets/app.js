// Boz dashboard: actions through the JSON API (with the session's CSRF token), live updates
// from /api/events, the market bars and the performance charts. No inline scripts (CSP).
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="csrf-token"]');
  var csrf = meta ? meta.content : "";

  function flash(text, isError) {
    var f = document.getElementById("flash");
    if (!f) { return; }
    f.textContent = text;
    f.className = isError ? "error" : "";
    f.hidden = false;
  }

  // A JSON API call; resolves with the parsed body, rejects with the API's message.
  function api(method, url, body) {
    var headers = { "X-CSRF-Token": csrf };
    if (body !== undefined) { headers["Content-Type"] = "application/json"; }
    return fetch(url, {
      method: method, headers: headers, credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body)
    }).then(function (r) {
      return r.text().then(function (t) {
        var data = null;
        try { data = t ? JSON.parse(t) : null; } catch (e) { data = null; }
        if (!r.ok) {
          var msg = data && data.message ? data.message : ("HTTP " + r.status);
          if (data && data.context && data.context.field) { msg = data.context.field + ": " + msg; }
          if (r.status === 401) { location.href = "/login?next=" + encodeURIComponent(location.pathname + location.search); }
          throw new Error(msg);
        }
        return data;
      });
    });
  }

  // ---- sign-in
  var login = document.getElementById("login-form");
  if (login) {
    login.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var err = document.getElementById("login-error");
      err.hidden = true;
      fetch("/api/login", {
        method: "POST", headers: { "Content-Type": "application/json" }, credentials: "same-origin",
        body: JSON.stringify({ username: login.username.value, password: login.password.value })
      }).then(function (r) {
        if (r.ok) {
          return r.json().then(function (me) {
            var next = login.getAttribute("data-next") || "/";
            if (me && me.must_change_password) { next = "/settings#password"; }
            location.href = next.charAt(0) === "/" && next.charAt(1) !== "/" ? next : "/";
          });
        }
        return r.json().then(function (b) { throw new Error(b.message || ("HTTP " + r.status)); });
      }).catch(function (e) { err.textContent = e.message; err.hidden = false; });
    });
  }

  // ---- market bars (widths from data-w: no inline styles under the CSP)
  function bars(root) {
    root.querySelectorAll(".bar[data-w]").forEach(function (b) {
      var w = Math.max(0, Math.min(100, parseFloat(b.getAttribute("data-w")) || 0));
      b.style.width = (w * 0.85) + "%";
    });
  }

  // ---- queue countdowns
  var loadedAt = Date.now();
  function countdowns() {
    document.querySelectorAll(".countdown[data-seconds-left]").forEach(function (c) {
      var left = parseInt(c.getAttribute("data-seconds-left"), 10) - Math.floor((Date.now() - loadedAt) / 1000);
      if (left <= 0) { c.textContent = "expired"; return; }
      var m = Math.floor(left / 60), s = left % 60;
      c.textContent = (m > 0 ? m + " min " : "") + s + " s left";
    });
  }
  setInterval(countdowns, 1000);

  // ---- actions (delegated: they survive live swaps)
  document.addEventListener("click", function (ev) {
    var t = ev.target.closest("[data-action]");
    if (!t) { return; }
    var action = t.getAttribute("data-action");
    if (action === "approve") { return; } // the form's submit handles it
    ev.preventDefault();
    var done = function (msg) { return function () { flash(msg); refresh(); }; };
    var fail = function (e) { flash(e.message, true); };
    if (action === "logout") {
      api("POST", "/api/logout").then(function () { location.href = "/login"; }, fail);
    } else if (action === "halt") {
      var reason = window.prompt("Why halt trading?", "halted from the dashboard");
      if (reason === null) { return; }
      api("POST", "/api/trading-state/halt", { reason: reason }).then(done("Trading halted"), fail);
    } else if (action === "resume") {
      api("POST", "/api/trading-state/resume").then(done("Trading resumed"), fail);
    } else if (action === "reject") {
      api("POST", "/api/queue/" + encodeURIComponent(t.getAttribute("data-id")) + "/reject", { reason: "rejected from the dashboard" })
        .then(done("Rejected"), fail);
    } else if (action === "disconnect") {
      if (!window.confirm("Delete the stored Kalshi key?")) { return; }
      api("DELETE", "/api/kalshi").then(function () { location.reload(); }, fail);
    }
  });

  document.addEventListener("submit", function (ev) {
    var f = ev.target;
    if (f.classList.contains("decide")) {
      ev.preventDefault();
      var body = {};
      if (f.limit_price.value.trim() !== "") { body.limit_price = f.limit_price.value.trim(); }
      api("POST", "/api/queue/" + encodeURIComponent(f.getAttribute("data-id")) + "/approve", body)
        .then(function (o) { flash("Approved: order " + (o && o.status ? o.status : "sent")); refresh(); },
              function (e) { flash(e.message, true); });
    } else if (f.id === "settings-form") {
      ev.preventDefault();
      var out = {}, err = document.getElementById("settings-error");
      err.hidden = true;
      f.querySelectorAll("[name]").forEach(function (i) {
        var kind = i.getAttribute("data-kind"), v = i.value;
        if (kind === "bool") { out[i.name] = i.checked; }
        else if (kind === "number") { out[i.name] = Number(v); }
        else if (kind === "list") { out[i.name] = v.split(",").map(function (s) { return s.trim(); }).filter(Boolean); }
        else if (kind === "json") { try { out[i.name] = JSON.parse(v); } catch (e) { out[i.name] = v; } }
        else { out[i.name] = v; }
      });
      api("PUT", "/api/settings", out).then(function () { flash("Settings saved"); },
        function (e) { err.textContent = e.message; err.hidden = false; });
    } else if (f.id === "password-form") {
      ev.preventDefault();
      var perr = document.getElementById("password-error");
      perr.hidden = true;
      api("POST", "/api/password", { current_password: f.current_password.value, new_password: f.new_password.value })
        .then(function () { location.href = "/login"; }, function (e) { perr.textContent = e.message; perr.hidden = false; });
    } else if (f.id === "kalshi-form") {
      ev.preventDefault();
      var kerr = document.getElementById("kalshi-error");
      kerr.hidden = true;
      var send = function (pem) {
        api("POST", "/api/kalshi", { api_key_id: f.api_key_id.value.trim(), private_key: pem, environment: f.environment.value })
          .then(function () { location.reload(); }, function (e) { kerr.textContent = e.message; kerr.hidden = false; });
      };
      var file = f.key_file.files && f.key_file.files[0];
      if (file) {
        var rd = new FileReader();
        rd.onload = function () { send(String(rd.result)); };
        rd.readAsText(file);
      } else { send(f.private_key.value); }
      f.private_key.value = "";
    }
  });

  // ---- performance charts (uPlot, vendored)
  function charts() {
    var island = document.getElementById("chart-data");
    if (!island || typeof uPlot === "undefined") { return; }
    var data = JSON.parse(island.textContent);
    var width = function (el) { return Math.max(280, el.clientWidth || 600); };
    var pnl = document.getElementById("pnl-chart");
    if (pnl && data.pnl.length) {
      pnl.innerHTML = "";
      var xs = data.pnl.map(function (d) { return Date.parse(d[0] + "T00:00:00Z") / 1000; });
      var ys = data.pnl.map(function (d) { return d[1]; });
      new uPlot({ width: width(pnl), height: 240, series: [{}, { label: "P&L ($)", stroke: "#0b61d8", width: 2 }],
        scales: { x: { time: true } } }, [xs, ys], pnl);
    } else if (pnl) { pnl.textContent = "No settled trades yet."; }
    var cal = document.getElementById("calibration-chart");
    if (cal && data.calibration.length) {
      cal.innerHTML = "";
      var pts = data.calibration.slice().sort(function (a, b) { return a[0] - b[0]; });
      var fx = pts.map(function (p) { return p[0]; });
      new uPlot({ width: width(cal), height: 260,
        scales: { x: { time: false, range: [0, 1] }, y: { range: [0, 1] } },
        series: [{ label: "model said" },
          { label: "won", stroke: "#e08a00", width: 2, points: { show: true, size: 8 } },
          { label: "perfect", stroke: "#999", dash: [4, 4] }] },
        [fx, pts.map(function (p) { return p[1]; }), fx], cal);
    } else if (cal) { cal.textContent = "No settled trades yet."; }
  }

  // ---- live updates: refetch this page and swap its content when its data changed
  var live = document.getElementById("live");
  function refresh() {
    if (!live) { return; }
    fetch(location.href, { credentials: "same-origin" }).then(function (r) {
      if (r.redirected || !r.ok) { return null; }
      return r.text();
    }).then(function (html) {
      if (!html) { return; }
      var doc = new DOMParser().parseFromString(html, "text/html");
      var fresh = doc.getElementById("live");
      if (!fresh) { return; }
      // keep what the user is typing
      if (live.contains(document.activeElement) && document.activeElement.tagName === "INPUT") { return; }
      live.innerHTML = fresh.innerHTML;
      loadedAt = Date.now();
      init(live);
    });
  }
  function init(root) { bars(root); countdowns(); charts(); }
  init(document);

  var topics = live ? (live.getAttribute("data-live") || "").split(/\s+/).filter(Boolean) : [];
  if (topics.length && window.EventSource) {
    var es = new EventSource("/api/events");
    var timer = null;
    topics.forEach(function (t) {
      es.addEventListener(t, function () {
        clearTimeout(timer);
        timer = setTimeout(refresh, 200);
      });
    });
    es.addEventListener("hello", function () { document.body.setAttribute("data-live-connected", "1"); });
  }
})();

// poolpilot dashboard: live updates by server-sent events, elapsed times,
// the rollback form. No dependency, no external request.
(function () {
  'use strict';
  var body = document.body;
  var id = body.getAttribute('data-run');
  if (!id) { return; }
  var base = '/api/runs/' + encodeURIComponent(id);
  var skew = Date.parse(body.getAttribute('data-now')) - Date.now();
  var conn = document.getElementById('conn');
  var lastId = '';
  var es = null;
  var finished = false;
  var live = body.getAttribute('data-live') === 'true';

  function setConn(text, cls) {
    if (conn.textContent !== text) { conn.textContent = text; }
    conn.className = 'conn ' + cls;
  }
  function fmt(ms) {
    if (ms < 0) { ms = 0; }
    var s = Math.round(ms / 1000), h = Math.floor(s / 3600), m = Math.floor(s / 60) % 60;
    s = s % 60;
    var p = function (n) { return (n < 10 ? '0' : '') + n; };
    if (h > 0) { return h + 'h' + p(m) + 'm' + p(s) + 's'; }
    if (m > 0) { return m + 'm' + p(s) + 's'; }
    return s + 's';
  }
  function tick() {
    var now = Date.now() + skew;
    document.querySelectorAll('[data-since]').forEach(function (el) {
      el.textContent = fmt(now - Date.parse(el.getAttribute('data-since')));
    });
    document.querySelectorAll('[data-until]').forEach(function (el) {
      el.textContent = fmt(Date.parse(el.getAttribute('data-until')) - now);
    });
  }

  function replace(sec, html) {
    var el = document.getElementById('sec-' + sec);
    if (!el) { return; }
    var active = document.activeElement;
    var focusId = active && el.contains(active) ? active.id : '';
    el.innerHTML = html;
    if (focusId) {
      var again = document.getElementById(focusId);
      if (again) { again.focus(); }
    }
  }

  function onRun(m) {
    skew = Date.parse(m.now) - Date.now();
    body.setAttribute('data-state', m.state);
    var fs = document.getElementById('rb-fields');
    if (fs) { fs.disabled = !m.rollback_enabled; }
    if (m.final) {
      finished = true;
      setConn(live ? 'run ended: ' + m.state : 'read from the evidence folder', 'done');
      if (es) { es.close(); }
    }
  }

  function connect() {
    if (finished) { return; }
    var url = base + '/events' + (lastId ? '?last_event_id=' + encodeURIComponent(lastId) : '');
    es = new EventSource(url);
    es.onopen = function () { setConn('live', 'ok'); };
    es.onerror = function () {
      if (finished) { return; }
      if (es.readyState === EventSource.CLOSED) {
        setConn('disconnected, retrying…', 'warn');
        setTimeout(connect, 3000);
      } else {
        setConn('reconnecting…', 'warn');
      }
    };
    es.addEventListener('section', function (e) {
      lastId = e.lastEventId || lastId;
      var m = JSON.parse(e.data);
      replace(m.id, m.html);
      tick();
    });
    es.addEventListener('timeline', function (e) {
      lastId = e.lastEventId || lastId;
      var m = JSON.parse(e.data);
      var ol = document.getElementById('timeline');
      if (m.reset) { ol.innerHTML = ''; }
      ol.insertAdjacentHTML('afterbegin', m.html);
    });
    es.addEventListener('run', function (e) {
      lastId = e.lastEventId || lastId;
      onRun(JSON.parse(e.data));
    });
  }

  var form = document.getElementById('rb-form');
  if (form) {
    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      var status = document.getElementById('rb-status');
      var tok = document.getElementById('rb-token');
      var reason = document.getElementById('rb-reason').value.trim();
      var by = document.getElementById('rb-by').value.trim();
      if (!tok.value || !reason) {
        status.textContent = 'The admin token and a reason are required.';
        (tok.value ? document.getElementById('rb-reason') : tok).focus();
        return;
      }
      status.textContent = 'Sending the rollback request…';
      fetch(base + '/rollback', {
        method: 'POST',
        headers: { 'Authorization': 'Bearer ' + tok.value, 'Content-Type': 'application/json' },
        body: JSON.stringify({ by: by, reason: reason }),
        credentials: 'omit', cache: 'no-store'
      }).then(function (res) {
        return res.json().catch(function () { return {}; }).then(function (j) {
          if (res.ok) {
            tok.value = '';
            status.textContent = 'Rollback requested by ' + j.by + ': ' + j.message + '.';
          } else {
            status.textContent = 'Refused (' + res.status + '): ' + (j.error || res.statusText);
          }
        });
      }).catch(function (err) {
        status.textContent = 'The request failed: ' + err + '. Check the connection and try again.';
      });
    });
  }

  tick();
  setInterval(tick, 1000);
  connect();
})();

// The agent's status page. Live updates come over one long response (GET status/stream: a JSON
// line per new sample, and the header every few seconds), read with fetch so the token travels as
// a bearer header, never in a URL or a cookie (it lives in this tab's sessionStorage only). The
// stream is closed while the tab is hidden and reopened from the newest sample seen when shown;
// older history comes from metrics/range with a step.
(function () {
  'use strict';

  var TOKEN_KEY = 'tfo-agent.api-token';
  /** The range picker: seconds shown, and the bucket width asked of metrics/range (none: every sample). */
  var RANGES = {
    '10m': { seconds: 600, label: 'last 10 minutes, live' },
    '1h': { seconds: 3600, step: 10, label: 'last hour, 10 s means' },
    '24h': { seconds: 86400, step: 120, label: 'last 24 hours, 2 min means' },
    '7d': { seconds: 7 * 86400, step: 900, label: 'last 7 days, 15 min means' },
  };
  var PERCENT = { unit: '%', max: 100 };
  /** Every chart, declared once: which sample fields it draws. */
  var CHARTS = [
    { id: 'cpu', title: 'CPU busy, all CPUs', scale: PERCENT, series: [{ field: 'cpu_total', label: 'total' }] },
    { id: 'cores', title: 'CPU busy per core', scale: PERCENT, perCore: true },
    { id: 'memory', title: 'Memory and swap used', scale: PERCENT, series: [{ field: 'mem_percent', label: 'memory' }, { field: 'swap_percent', label: 'swap' }] },
    { id: 'load', title: 'Load average', scale: { unit: '' }, series: [{ field: 'load1', label: '1 min' }, { field: 'load5', label: '5 min' }, { field: 'load15', label: '15 min' }] },
    { id: 'network', title: 'Network', scale: { unit: 'B/s' }, series: [{ field: 'net_rx_bps', label: 'receive' }, { field: 'net_tx_bps', label: 'transmit' }] },
    { id: 'disk', title: 'Disk', scale: { unit: 'B/s' }, series: [{ field: 'disk_read_bps', label: 'read' }, { field: 'disk_write_bps', label: 'write' }] },
    { id: 'rootfs', title: 'Root file system used', scale: PERCENT, series: [{ field: 'root_fs_used_percent', label: 'used' }] },
  ];

  var state = {
    token: sessionStorage.getItem(TOKEN_KEY) || '',
    range: '10m',
    intervalMs: 1000,
    /** Samples (10 min) or buckets (history) on the charts, oldest first. */
    points: [],
    newest: undefined,
    /** The agent's clock minus this browser's, from the last status (ms). */
    clockOffsetMs: 0,
    /** The agent's version and uptime as the last status said, and when it came. */
    agent: {},
    /** The open live stream's AbortController; undefined while none is open. */
    stream: undefined,
    /** The wait before the next reconnect or reload. */
    retry: undefined,
    /** Failed attempts in a row, for the backoff. */
    failures: 0,
    /** The chosen range is on the charts; from then on only the stream updates them. */
    loaded: false,
    updates: 0,
    generation: 0,
  };
  /** The agent's backoff (page/backoff.js): the n-th wait lies in [step/2, step), step doubling from 1 s to 30 s. */
  var BACKOFF = { initialMs: 1000, maxMs: 30000, random: Math.random };
  var charts = {};
  var $ = function (id) { return document.getElementById(id); };

  // ---- formatting ----------------------------------------------------------------------------

  function bytes(value, suffix, short) {
    if (value === null || value === undefined || !isFinite(value)) return '–';
    var units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    var i = 0;
    var v = Math.abs(value);
    while (v >= 1024 && i < units.length - 1) { v /= 1024; i += 1; }
    var digits = v >= (short ? 10 : 100) || i === 0 ? 0 : 1;
    return (value < 0 ? '-' : '') + v.toFixed(digits) + ' ' + units[i] + (suffix || '');
  }

  function number(value) {
    return typeof value === 'number' && isFinite(value) ? value.toLocaleString('en-US') : '–';
  }

  function formatValue(unit, value) {
    if (value === null || value === undefined || !isFinite(value)) return '–';
    if (unit === 'B/s') return bytes(value, '/s');
    if (unit === '%') return value.toFixed(1) + ' %';
    return value.toFixed(2);
  }

  function duration(seconds) {
    if (typeof seconds !== 'number' || !isFinite(seconds)) return '–';
    var s = Math.max(0, Math.round(seconds));
    if (s < 60) return s + ' s';
    if (s < 3600) return Math.floor(s / 60) + ' min ' + (s % 60) + ' s';
    if (s < 86400) return Math.floor(s / 3600) + ' h ' + Math.floor((s % 3600) / 60) + ' min';
    return Math.floor(s / 86400) + ' d ' + Math.floor((s % 86400) / 3600) + ' h';
  }

  function clock(at) {
    if (at === undefined || at === null) return '';
    var d = new Date(at);
    return isNaN(d.getTime()) ? '' : d.toLocaleTimeString();
  }

  function setText(id, text, tone) {
    var el = $(id);
    el.textContent = text;
    if (tone !== undefined) el.className = tone;
  }

  // ---- requests ------------------------------------------------------------------------------

  function Unauthorized() {}

  /** A data request with the token; rejects with Unauthorized on a 401, with an Error naming the path otherwise. */
  function send(path, accept, signal) {
    var headers = { Accept: accept };
    if (state.token) headers.Authorization = 'Bearer ' + state.token;
    return fetch(path, { headers: headers, cache: 'no-store', credentials: 'omit', redirect: 'error', signal: signal }).then(function (res) {
      if (res.status === 401) throw new Unauthorized();
      if (!res.ok) {
        return res.json().catch(function () { return {}; }).then(function (body) {
          throw new Error(path.split('?')[0] + ': HTTP ' + res.status + (body && body.error ? ' (' + body.error + ')' : ''));
        });
      }
      return res;
    });
  }

  function request(path) {
    return send(path, 'application/json').then(function (res) { return res.json(); });
  }

  // ---- header --------------------------------------------------------------------------------

  function showStatus(status) {
    var host = status.host || {};
    var agent = status.agent || {};
    var exp = status.export || {};
    setText('hostname', host.hostname || '(unknown host)');
    document.title = (host.hostname || 'host') + ' · tfo-agent';
    var os = [host.os_id ? host.os_id + (host.os_version_id ? ' ' + host.os_version_id : '') : '', host.os_system ? host.os_system + ' ' + (host.os_release || '') : '', host.architecture || '']
      .filter(Boolean).join(' · ');
    setText('fact-os', os || '–');
    var cores = host.cpu_logical_cores ? host.cpu_logical_cores + ' logical' + (host.cpu_physical_cores && host.cpu_physical_cores !== host.cpu_logical_cores ? ', ' + host.cpu_physical_cores + ' physical' : '') + ' cores' : '';
    setText('fact-cpu', [host.cpu_model, cores].filter(Boolean).join(' · ') || '–');
    setText('fact-memory', host.memory_total_bytes ? bytes(host.memory_total_bytes) + ' total' : '–');
    state.agent = { version: agent.version, uptimeS: agent.uptime_s, at: Date.now() };
    showAgent();
    setText('fact-agent-id', agent.id || '–');

    var last = exp.last;
    var exportText;
    var exportTone = '';
    if (!exp.target) exportText = 'no export (exporter.otlp.enabled is false)';
    else if (!last) exportText = exp.target + ' · no export yet';
    else if (last.ok) { exportText = exp.target + ' · delivered ' + clock(last.at); exportTone = 'ok'; }
    else { exportText = exp.target + ' · not delivered (' + (last.reason || 'failed') + ') ' + clock(last.at); exportTone = 'bad'; }
    setText('fact-export', exportText, exportTone);

    var buffer = status.buffer;
    if (!buffer) setText('fact-buffer', 'off', '');
    else if (!buffer.backlog_batches) setText('fact-buffer', 'empty' + (buffer.memory_fallback ? ' (in memory: the file could not be used)' : ''), buffer.memory_fallback ? 'warn' : '');
    else {
      setText('fact-buffer', number(buffer.backlog_batches) + ' batches · ' + number(buffer.backlog_points) + ' points · oldest ' + duration(buffer.oldest_age_seconds), 'warn');
    }

    var hb = status.heartbeat;
    if (!hb || !hb.enabled) setText('fact-heartbeat', 'off', '');
    else if (hb.lastAttemptAt === undefined) setText('fact-heartbeat', 'not sent yet', '');
    else if (hb.lastSuccessAt !== undefined && hb.lastSuccessAt >= hb.lastAttemptAt) setText('fact-heartbeat', 'delivered ' + clock(hb.lastSuccessAt) + ' · ' + number(hb.sent) + ' sent', 'ok');
    else setText('fact-heartbeat', 'failed ' + clock(hb.lastAttemptAt) + (hb.lastError ? ': ' + hb.lastError : ''), 'bad');

    var level = agent.status === 'ok' ? 'ok' : agent.status === 'degraded' ? 'bad' : 'warn';
    var badge = $('agent-status');
    badge.textContent = agent.status || 'unknown';
    badge.dataset.level = level;

    var counts = status.accounting;
    setText('count-exported', counts ? number(counts.exported) : '–');
    setText('count-spilled', counts ? number(counts.spilled) : '–');
    setText('count-replayed', counts ? number(counts.replayed) : '–');
    setText('count-dropped', counts ? number(counts.dropped) : '–');
    setText('count-backlog', counts ? number(counts.in_backlog) : '–');

    if (status.api && status.api.collect_interval_ms > 0) state.intervalMs = Math.max(100, status.api.collect_interval_ms);
    var agentTime = Date.parse(status.time);
    if (!isNaN(agentTime)) state.clockOffsetMs = agentTime - Date.now();
  }

  /** The agent's version and uptime, counted on between status lines (they come when the header changes). */
  function showAgent() {
    var agent = state.agent;
    var up = typeof agent.uptimeS === 'number' ? agent.uptimeS + (Date.now() - agent.at) / 1000 : undefined;
    setText('fact-agent', (agent.version ? 'v' + agent.version : '') + (up !== undefined ? ' · up ' + duration(up) : ''));
  }

  // ---- charts --------------------------------------------------------------------------------

  function cssVar(name) {
    return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  }

  function seriesColor(index, count) {
    if (count <= 4) return cssVar('--series-' + (index + 1));
    var dark = window.matchMedia('(prefers-color-scheme: dark)').matches;
    return 'hsl(' + Math.round((index * 360) / count) + ', 70%, ' + (dark ? 65 : 42) + '%)';
  }

  function coreCount(points) {
    var n = 0;
    for (var i = 0; i < points.length; i += 1) n = Math.max(n, (points[i].cpu_per_core || []).length);
    return n;
  }

  function seriesOf(def, points) {
    if (!def.perCore) return def.series;
    var out = [];
    for (var core = 0, n = coreCount(points); core < n; core += 1) out.push({ core: core, label: 'cpu' + core });
    return out;
  }

  /** Seconds between two points beyond which the line breaks (the agent was not running). */
  function gapSeconds() {
    var range = RANGES[state.range];
    return 3 * (range.step || state.intervalMs / 1000);
  }

  /** uPlot's columns: times, then one array per series; a null point where the data has a gap. */
  function columns(def, series, points) {
    var data = [[]];
    series.forEach(function () { data.push([]); });
    var gap = gapSeconds();
    points.forEach(function (p, i) {
      if (i > 0 && p.ts_unix - points[i - 1].ts_unix > gap) {
        data[0].push(points[i - 1].ts_unix + gap / 3);
        for (var g = 1; g < data.length; g += 1) data[g].push(null);
      }
      data[0].push(p.ts_unix);
      series.forEach(function (s, k) {
        var v = s.core !== undefined ? (p.cpu_per_core || [])[s.core] : p[s.field];
        data[k + 1].push(typeof v === 'number' ? v : null);
      });
    });
    return data;
  }

  function span() {
    return RANGES[state.range].seconds;
  }

  function buildChart(def, series, data) {
    var holder = charts[def.id] && charts[def.id].holder;
    if (!holder) {
      var figure = document.createElement('figure');
      figure.className = 'chart';
      figure.dataset.chart = def.id;
      var caption = document.createElement('figcaption');
      var title = document.createElement('span');
      title.textContent = def.title;
      var latest = document.createElement('span');
      latest.className = 'latest';
      caption.appendChild(title);
      caption.appendChild(latest);
      holder = document.createElement('div');
      holder.className = 'plot';
      figure.appendChild(caption);
      figure.appendChild(holder);
      $('charts').appendChild(figure);
    }
    if (charts[def.id] && charts[def.id].plot) charts[def.id].plot.destroy();
    var fg = cssVar('--muted');
    var grid = cssVar('--grid');
    var unit = def.scale.unit;
    var axisValues = function (u, values) { return values.map(function (v) { return unit === 'B/s' ? bytes(v, '/s', true) : unit === '%' ? v + '%' : String(v); }); };
    var plot = new uPlot({
      width: Math.max(200, holder.clientWidth),
      height: 170,
      // A key to the colours; the values are in the caption, and under the cursor.
      legend: { show: series.length <= 16, live: false },
      cursor: { drag: { x: false, y: false } },
      scales: {
        x: { time: true, range: function (u, min, max) { var end = max === null || max === undefined ? Date.now() / 1000 : max; return [end - span(), end]; } },
        y: { range: def.scale.max ? [0, def.scale.max] : function (u, min, max) { return [0, max > 0 ? max * 1.15 : 1]; } },
      },
      axes: [
        { stroke: fg, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } },
        { stroke: fg, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 }, size: unit === 'B/s' ? 74 : 50, values: axisValues },
      ],
      series: [{}].concat(series.map(function (s, i) {
        return { label: s.label, stroke: seriesColor(i, series.length), width: def.perCore ? 1 : 1.5, points: { show: false }, value: function (u, v) { return formatValue(unit, v); } };
      })),
    }, data, holder);
    charts[def.id] = { def: def, plot: plot, holder: holder, seriesCount: series.length };
  }

  function drawCharts() {
    var points = state.points;
    CHARTS.forEach(function (def) {
      var series = seriesOf(def, points);
      var data = columns(def, series, points);
      var chart = charts[def.id];
      if (!chart || !chart.plot || chart.seriesCount !== series.length) buildChart(def, series, data);
      else chart.plot.setData(data);
      var newest = points[points.length - 1];
      var text = '';
      if (newest) {
        text = def.perCore
          ? perCoreText(newest.cpu_per_core || [])
          : series.map(function (s) { return (series.length > 1 ? s.label + ' ' : '') + formatValue(def.scale.unit, newest[s.field]); }).join(' · ');
      }
      charts[def.id].holder.parentNode.querySelector('.latest').textContent = text;
    });
  }

  function perCoreText(cores) {
    if (cores.length <= 4) return cores.map(function (v, core) { return 'cpu' + core + ' ' + formatValue('%', v); }).join(' · ');
    return cores.length + ' cores, busiest ' + formatValue('%', Math.max.apply(null, cores));
  }

  function rebuildCharts() {
    Object.keys(charts).forEach(function (id) { if (charts[id].plot) { charts[id].plot.destroy(); charts[id].plot = undefined; } });
    drawCharts();
  }

  /** Keeps points within the shown span of the newest one. */
  function trim() {
    var newest = state.points[state.points.length - 1];
    if (!newest) return;
    var oldest = newest.ts_unix - span();
    var drop = 0;
    while (drop < state.points.length && state.points[drop].ts_unix < oldest) drop += 1;
    if (drop > 0) state.points.splice(0, drop);
  }

  // ---- the live stream ----------------------------------------------------------------------

  function message(text, kind) {
    var el = $('message');
    el.textContent = text;
    el.dataset.kind = kind || '';
  }

  /** The header's word on the live feed: live, paused (tab hidden), down (reconnecting). */
  function setFeed(kind, text) {
    document.body.dataset.feed = kind;
    var badge = $('feed');
    badge.textContent = text || kind;
    badge.dataset.level = kind === 'live' ? 'ok' : kind === 'down' ? 'bad' : 'unknown';
  }

  function closeStream() {
    clearTimeout(state.retry);
    state.retry = undefined;
    if (state.stream) state.stream.abort();
    state.stream = undefined;
  }

  /** The agent's time now, in unix seconds. */
  function agentNow() {
    return (Date.now() + state.clockOffsetMs) / 1000;
  }

  function retryIn(what, err, then) {
    state.failures += 1;
    var wait = window.tfoBackoffDelay(BACKOFF, state.failures);
    setFeed('down', 'live feed down');
    message(what + ': ' + (err && err.message ? err.message : String(err)) + ' · retrying in ' + Math.ceil(wait / 1000) + ' s', 'error');
    state.retry = setTimeout(then, wait);
  }

  function updated() {
    state.updates += 1;
    document.body.dataset.updates = String(state.updates);
    message('Live · updated ' + new Date().toLocaleTimeString() + ' · a sample every ' + state.intervalMs / 1000 + ' s' + (state.range === '10m' ? '' : ' (charts: ' + RANGES[state.range].label + ')'));
  }

  /** The lines of one read: status lines update the header, sample lines the live charts. */
  function receive(lines) {
    var live = state.range === '10m';
    var samples = 0;
    var any = false;
    lines.forEach(function (line) {
      if (line === '') return;
      var item = JSON.parse(line);
      any = true;
      if (item.status) showStatus(item.status);
      else if (item.sample && live && (state.newest === undefined || item.sample.ts_unix > state.newest)) {
        state.points.push(item.sample);
        state.newest = item.sample.ts_unix;
        samples += 1;
      }
    });
    if (!any) return;
    showAgent();
    state.failures = 0;
    setFeed('live');
    if (live && (samples > 0 || !state.loaded)) {
      trim();
      drawCharts();
    }
    state.loaded = true;
    updated();
  }

  function readStream(reader, controller) {
    var decoder = new TextDecoder();
    var pending = '';
    function next() {
      return reader.read().then(function (chunk) {
        if (chunk.done || state.stream !== controller) return;
        pending += decoder.decode(chunk.value, { stream: true });
        var end = pending.lastIndexOf('\n');
        if (end >= 0) {
          var lines = pending.slice(0, end).split('\n');
          pending = pending.slice(end + 1);
          receive(lines);
        }
        return next();
      });
    }
    return next();
  }

  /**
   * Opens the live stream: on the 10-minute view from the newest sample on the charts (the agent
   * sends what came after it first), or the whole window when there is none; on the longer views
   * for the header only. Nothing while the tab is hidden.
   */
  function openStream() {
    closeStream();
    if (document.hidden) return setFeed('paused');
    var live = state.range === '10m';
    var since = !live ? undefined : state.newest !== undefined ? state.newest : agentNow() - span();
    var controller = new AbortController();
    state.stream = controller;
    send('status/stream' + (since === undefined ? '' : '?since=' + since), 'application/x-ndjson', controller.signal).then(function (res) {
      return readStream(res.body.getReader(), controller);
    }).then(function () {
      if (state.stream === controller) throw new Error('the agent ended the stream');
    }).catch(function (err) {
      if (state.stream !== controller) return;
      state.stream = undefined;
      if (err instanceof Unauthorized) return askForToken(true);
      retryIn('Live feed down', err, openStream);
    });
  }

  /** Loads the chosen range whole (the header, then metrics/range for the longer views), then opens the stream. */
  function load() {
    closeStream();
    var generation = (state.generation += 1);
    state.loaded = false;
    var range = RANGES[state.range];
    $('range-note').textContent = range.label;
    return request('status').then(function (status) {
      if (generation !== state.generation) return;
      showStatus(status);
      authorized();
      if (state.range === '10m') return openStream();
      var path = 'metrics/range?seconds=' + range.seconds + '&step=' + range.step + 's';
      return request(path).then(function (points) {
        if (generation !== state.generation) return;
        state.points = points;
        state.newest = undefined;
        state.loaded = true;
        drawCharts();
        updated();
        openStream();
      });
    }).catch(function (err) {
      if (generation !== state.generation) return;
      if (err instanceof Unauthorized) return askForToken(true);
      if (document.hidden) return;
      retryIn('Agent not reachable', err, load);
    });
  }

  // ---- the token -----------------------------------------------------------------------------

  function askForToken(refused) {
    closeStream();
    state.generation += 1;
    document.body.dataset.state = 'auth';
    $('auth').hidden = false;
    var note = $('auth-message');
    if (refused && state.token) {
      note.textContent = 'The agent refused this token (HTTP 401 Unauthorized). Check api.token on the host and enter it again.';
      note.dataset.kind = 'refused';
    } else {
      note.textContent = 'This agent asks for its API token before it shows any data.';
      note.dataset.kind = 'ask';
    }
    state.token = '';
    sessionStorage.removeItem(TOKEN_KEY);
    $('agent-status').textContent = 'token needed';
    $('agent-status').dataset.level = 'warn';
    setFeed('paused', 'not connected');
    message('');
    $('auth-token').focus();
  }

  function authorized() {
    if (document.body.dataset.state === 'live') return;
    document.body.dataset.state = 'live';
    $('auth').hidden = true;
    if (state.token) sessionStorage.setItem(TOKEN_KEY, state.token);
    // The charts measure their width once the section is shown.
    rebuildCharts();
  }

  $('auth-form').addEventListener('submit', function (event) {
    event.preventDefault();
    var input = $('auth-token');
    state.token = input.value.trim();
    input.value = '';
    // Kept in sessionStorage only once the agent accepts it (authorized).
    if (state.token) {
      state.failures = 0;
      load();
    }
  });

  // ---- range picker, visibility, colours, size -----------------------------------------------

  Array.prototype.forEach.call(document.querySelectorAll('[data-range]'), function (button) {
    button.addEventListener('click', function () {
      state.range = button.dataset.range;
      Array.prototype.forEach.call(document.querySelectorAll('[data-range]'), function (b) { b.setAttribute('aria-pressed', String(b === button)); });
      state.points = [];
      state.newest = undefined;
      load();
    });
  });

  // Hidden: the stream is closed (nothing is sent to a tab nobody sees). Shown: reopened, and the
  // agent first sends the samples taken meanwhile, so the charts join up.
  document.addEventListener('visibilitychange', function () {
    if (document.hidden) {
      closeStream();
      if (document.body.dataset.state === 'live') setFeed('paused');
      return;
    }
    if (document.body.dataset.state === 'auth') return;
    state.failures = 0;
    if (state.loaded) openStream();
    else load();
  });

  window.matchMedia('(prefers-color-scheme: dark)').addEventListener('change', rebuildCharts);

  var resizing;
  window.addEventListener('resize', function () {
    clearTimeout(resizing);
    resizing = setTimeout(function () {
      Object.keys(charts).forEach(function (id) {
        var c = charts[id];
        if (c.plot) c.plot.setSize({ width: Math.max(200, c.holder.clientWidth), height: 170 });
      });
    }, 150);
  });

  /** For scripts and the browser console: the uPlot instances by chart id, and the update count. */
  window.tfoStatusPage = {
    charts: function () {
      var out = {};
      Object.keys(charts).forEach(function (id) { out[id] = charts[id].plot; });
      return out;
    },
    state: state,
  };

  load();
})();

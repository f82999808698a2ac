// The built-in dashboard: one HTML page with inline CSS and JS (no front-end build), which
// polls the data URL and draws the lag chart as inline SVG. Kept as a TS string so the
// Nest build ships it without asset configuration. The inline script uses no template
// literals, so this file can hold it in a String.raw without escaping.
import { niceTicks } from './chart-ticks';

export interface DashboardPageOptions {
  /** Absolute path of the JSON the page polls (GET /dashboard/data). */
  dataUrl: string;
  /** Poll period of the page. */
  pollMs: number;
  /** Shown in the title bar. */
  title: string;
}

/** JSON for a <script> block: `<` escaped so no value can close the script element. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c');
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

export function renderDashboardPage(options: DashboardPageOptions): string {
  // Replacer functions: a `$` in a value must not be read as a replacement pattern.
  return PAGE.replace('__TITLE__', () => escapeHtml(options.title))
    .replace('__CONFIG__', () => scriptJson(options))
    .replace('__NICE_TICKS__', () => niceTicks.toString());
}

const PAGE = String.raw`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>__TITLE__</title>
<style>
  :root { --ok:#2e7d32; --warn:#f9a825; --stall:#ef6c00; --stop:#c62828; --err:#6a1b9a; --fg:#1d232a; --muted:#5f6b7a; --line:#dde3ea; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: #f5f7fa; }
  header { display: flex; flex-wrap: wrap; gap: 16px; align-items: baseline; padding: 12px 20px; background: #fff; border-bottom: 1px solid var(--line); }
  header h1 { font-size: 18px; margin: 0; }
  header .meta { color: var(--muted); }
  main { padding: 16px 20px; display: grid; gap: 16px; }
  .tiles { display: grid; grid-template-columns: repeat(auto-fit, minmax(170px, 1fr)); gap: 12px; }
  .tile { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px; }
  .tile .label { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
  .tile .value { font-size: 24px; font-weight: 600; font-variant-numeric: tabular-nums; }
  .tile .sub { color: var(--muted); font-size: 12px; min-height: 1.4em; }
  section { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 12px; }
  section h2 { font-size: 15px; margin: 0 0 8px; display: flex; gap: 12px; align-items: center; }
  .toggle button { font: inherit; padding: 2px 8px; border: 1px solid var(--line); background: #fff; cursor: pointer; }
  .toggle button[aria-pressed="true"] { background: var(--fg); color: #fff; }
  svg { width: 100%; height: 280px; display: block; }
  .legend { display: flex; flex-wrap: wrap; gap: 12px; font-size: 12px; color: var(--muted); }
  .legend span::before { content: ""; display: inline-block; width: 10px; height: 10px; margin-right: 4px; background: var(--c); border-radius: 2px; }
  table { width: 100%; border-collapse: collapse; font-variant-numeric: tabular-nums; }
  th, td { text-align: right; padding: 6px 8px; border-bottom: 1px solid var(--line); }
  th:first-child, td:first-child, td.reason, th.reason, td.owner, th.owner { text-align: left; }
  td.reason { color: var(--muted); font-size: 12px; max-width: 420px; }
  .status { display: inline-block; min-width: 56px; text-align: center; padding: 2px 8px; border-radius: 10px; color: #fff; font-weight: 600; font-size: 12px; }
  .status-OK { background: var(--ok); } .status-WARN { background: var(--warn); color: #1d232a; } .status-STALL { background: var(--stall); }
  .status-STOP { background: var(--stop); } .status-ERR { background: var(--err); }
  #errors { display: none; background: #fdecea; color: #611a15; border: 1px solid #f5c6cb; border-radius: 6px; padding: 8px 12px; }
  #stale { color: var(--stop); font-weight: 600; }
  .barbox { width: 160px; height: 10px; background: #eef1f5; border-radius: 3px; overflow: hidden; }
  .barfill { height: 10px; }
</style>
</head>
<body>
<header>
  <h1>Consumer lag: <span id="group">…</span></h1>
  <span class="meta">state <b id="group-state">…</b> · members <b id="group-members">…</b> · group status <span id="group-status" class="status">…</span></span>
  <span class="meta">updated <span id="updated">never</span> <span id="stale"></span></span>
</header>
<main>
  <div id="errors" role="alert"></div>
  <div class="tiles">
    <div class="tile"><div class="label">Total lag</div><div class="value" id="total-lag">–</div><div class="sub">messages not yet consumed</div></div>
    <div class="tile"><div class="label">Max lag</div><div class="value" id="max-lag-seconds">–</div><div class="sub">oldest unconsumed message</div></div>
    <div class="tile"><div class="label">Throughput</div><div class="value" id="throughput">–</div><div class="sub" id="throughput-sub">events/s consumed</div><svg id="throughput-spark" data-testid="throughput-spark" viewBox="0 0 160 30" preserveAspectRatio="none" style="height:30px"></svg></div>
    <div class="tile"><div class="label">Dead-lettered</div><div class="value" id="dead-lettered">–</div><div class="sub" id="dead-lettered-sub"></div></div>
    <div class="tile"><div class="label">Apply latency p50</div><div class="value" id="latency-p50">–</div><div class="sub">event occurred → applied</div></div>
    <div class="tile"><div class="label">Apply latency p99</div><div class="value" id="latency-p99">–</div><div class="sub" id="latency-sub"></div></div>
    <div class="tile"><div class="label">Mappings</div><div class="value" id="mappings">–</div><div class="sub" id="mappings-sub"></div></div>
  </div>
  <section>
    <h2>Lag per partition <span class="toggle" role="group"><button id="show-offsets" aria-pressed="true">messages</button><button id="show-seconds" aria-pressed="false">seconds</button></span></h2>
    <svg id="lag-chart" data-testid="lag-chart" viewBox="0 0 900 280" preserveAspectRatio="none" role="img" aria-label="lag per partition over time"></svg>
    <div class="legend" id="legend"></div>
  </section>
  <section id="sources-panel">
    <h2>Throughput by source <span class="meta" id="sources-sub"></span></h2>
    <table data-testid="sources">
      <thead><tr><th>source</th><th>instances</th><th>consumed/s</th><th>applied/s</th></tr></thead>
      <tbody id="sources"></tbody>
    </table>
  </section>
  <section id="outcomes-panel">
    <h2>Invalidations per second by outcome <span class="meta" id="outcomes-sub"></span></h2>
    <table data-testid="outcomes">
      <thead><tr><th>outcome</th><th>keys/s</th><th class="bar"></th></tr></thead>
      <tbody id="outcomes"></tbody>
    </table>
  </section>
  <section id="purges-panel">
    <h2>Purges per second by outcome <span class="meta" id="purges-sub"></span></h2>
    <table data-testid="purges">
      <thead><tr><th>outcome</th><th>purges/s</th><th class="reason">per target</th><th class="bar"></th></tr></thead>
      <tbody id="purges"></tbody>
    </table>
  </section>
  <section id="families-panel">
    <h2>Hit rate per key family <span class="meta" id="families-sub"></span></h2>
    <table data-testid="families">
      <thead><tr><th>family</th><th>reads/s</th><th>hit rate</th><th>from L1</th><th class="bar"></th></tr></thead>
      <tbody id="families"></tbody>
    </table>
  </section>
  <section>
    <h2>Partitions</h2>
    <table>
      <thead><tr><th>topic</th><th>partition</th><th>committed</th><th>end</th><th>lag</th><th>lag s</th><th>status</th><th class="owner">consumer</th><th class="reason">why</th></tr></thead>
      <tbody id="partitions"></tbody>
    </table>
  </section>
</main>
<script>
(function () {
  var CONFIG = __CONFIG__;
  var niceTicks = __NICE_TICKS__;
  var COLORS = ['#1565c0', '#d81b60', '#00897b', '#6d4c41', '#5e35b1', '#f4511e', '#3949ab', '#7cb342', '#8e24aa', '#00acc1'];
  var history = { at: [], series: {} };
  var throughput = { at: [], eventsPerSecond: [] };
  var lastAt = null;
  var historyMs = 600000;
  var mode = 'lag';
  var lastUpdate = 0;

  var nf = new Intl.NumberFormat('en-US');
  function num(v) { return v === null || v === undefined ? '–' : nf.format(v); }
  function secs(v) {
    if (v === null || v === undefined) return '–';
    if (v === 0) return '0 s';
    if (v < 1) return (v * 1000).toFixed(v < 0.01 ? 2 : 1) + ' ms';
    if (v < 120) return v.toFixed(1) + ' s';
    if (v < 7200) return (v / 60).toFixed(1) + ' min';
    return (v / 3600).toFixed(1) + ' h';
  }
  function rate(v) { return typeof v !== 'number' ? '–' : (v < 10 ? v.toFixed(2) : v.toFixed(0)); }
  function text(id, value) { document.getElementById(id).textContent = value; }
  function setStatus(el, status) { el.className = 'status status-' + status; el.textContent = status; }
  function el(tag, cls, content) { var e = document.createElement(tag); if (cls) e.className = cls; if (content !== undefined) e.textContent = content; return e; }

  function merge(data) {
    historyMs = data.historyMs;
    var h = data.history;
    var keys = Object.keys(history.series);
    for (var i = 0; i < h.at.length; i++) {
      history.at.push(h.at[i]);
      keys.forEach(function (k) { history.series[k].lag.push(null); history.series[k].lagSeconds.push(null); });
    }
    h.series.forEach(function (s) {
      var k = s.topic + ' [' + s.partition + ']';
      if (!history.series[k]) {
        var pad = history.at.length - h.at.length;
        history.series[k] = { lag: new Array(pad).fill(null), lagSeconds: new Array(pad).fill(null) };
        for (var j = 0; j < h.at.length; j++) { history.series[k].lag.push(null); history.series[k].lagSeconds.push(null); }
      }
      var base = history.at.length - h.at.length;
      for (var n = 0; n < h.at.length; n++) { history.series[k].lag[base + n] = s.lag[n]; history.series[k].lagSeconds[base + n] = s.lagSeconds[n]; }
    });
    var t = data.invalidator.throughput;
    for (var m = 0; m < t.at.length; m++) { throughput.at.push(t.at[m]); throughput.eventsPerSecond.push(t.eventsPerSecond[m]); }
    var oldest = data.now - historyMs;
    var drop = 0;
    while (drop < history.at.length && history.at[drop] < oldest) drop++;
    if (drop > 0) {
      history.at.splice(0, drop);
      Object.keys(history.series).forEach(function (k) { history.series[k].lag.splice(0, drop); history.series[k].lagSeconds.splice(0, drop); });
    }
    while (throughput.at.length && throughput.at[0] < oldest) { throughput.at.shift(); throughput.eventsPerSecond.shift(); }
    if (h.at.length) lastAt = h.at[h.at.length - 1];
  }

  // The x axis covers the data seen so far (at least a minute), up to the kept history.
  function chartSpan(now) {
    var first = history.at.length ? history.at[0] : now;
    return Math.min(historyMs, Math.max(60000, now - first));
  }

  function drawChart(now) {
    var svg = document.getElementById('lag-chart');
    var W = 900, H = 280, L = 60, R = 10, T = 10, B = 24;
    var field = mode === 'lag' ? 'lag' : 'lagSeconds';
    var keys = Object.keys(history.series).sort();
    var max = 0;
    keys.forEach(function (k) { history.series[k][field].forEach(function (v) { if (v !== null && v > max) max = v; }); });
    var ticks = niceTicks(max, mode === 'lag');
    max = ticks[ticks.length - 1];
    var span = chartSpan(now);
    var t0 = now - span;
    function x(t) { return L + (W - L - R) * (t - t0) / span; }
    function y(v) { return T + (H - T - B) * (1 - v / max); }
    var NS = 'http://www.w3.org/2000/svg';
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    function line(x1, y1, x2, y2, color) { var l = document.createElementNS(NS, 'line'); l.setAttribute('x1', x1); l.setAttribute('y1', y1); l.setAttribute('x2', x2); l.setAttribute('y2', y2); l.setAttribute('stroke', color); svg.appendChild(l); }
    function label(xp, yp, s, anchor) { var t = document.createElementNS(NS, 'text'); t.setAttribute('x', xp); t.setAttribute('y', yp); t.setAttribute('font-size', '11'); t.setAttribute('fill', '#5f6b7a'); t.setAttribute('text-anchor', anchor); t.textContent = s; svg.appendChild(t); }
    ticks.forEach(function (v) { line(L, y(v), W - R, y(v), '#dde3ea'); label(L - 6, y(v) + 4, mode === 'lag' ? num(v) : secs(v), 'end'); });
    label(L, H - 6, '-' + (span < 120000 ? Math.round(span / 1000) + ' s' : Math.round(span / 60000) + ' min'), 'start');
    label(W - R, H - 6, 'now', 'end');
    var legend = document.getElementById('legend');
    legend.textContent = '';
    keys.forEach(function (k, i) {
      var color = COLORS[i % COLORS.length];
      var values = history.series[k][field];
      var segment = [];
      function flush() {
        if (segment.length === 0) return;
        var p = document.createElementNS(NS, 'polyline');
        p.setAttribute('points', segment.join(' '));
        p.setAttribute('fill', 'none'); p.setAttribute('stroke', color); p.setAttribute('stroke-width', '2');
        p.setAttribute('data-series', k);
        svg.appendChild(p);
        segment = [];
      }
      for (var n = 0; n < history.at.length; n++) {
        if (values[n] === null || history.at[n] < t0) { flush(); continue; }
        segment.push(x(history.at[n]).toFixed(1) + ',' + y(values[n]).toFixed(1));
      }
      flush();
      var item = el('span', null, k); item.style.setProperty('--c', color); legend.appendChild(item);
    });
  }

  function drawSpark(now) {
    var svg = document.getElementById('throughput-spark');
    var NS = 'http://www.w3.org/2000/svg';
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    var max = 0;
    throughput.eventsPerSecond.forEach(function (v) { if (v !== null && v > max) max = v; });
    if (max <= 0) max = 1;
    var pts = [];
    for (var i = 0; i < throughput.at.length; i++) {
      var v = throughput.eventsPerSecond[i];
      if (v === null) continue;
      pts.push((160 * (1 - (now - throughput.at[i]) / chartSpan(now))).toFixed(1) + ',' + (29 - 28 * v / max).toFixed(1));
    }
    if (pts.length === 0) return;
    var p = document.createElementNS(NS, 'polyline');
    p.setAttribute('points', pts.join(' '));
    p.setAttribute('fill', 'none'); p.setAttribute('stroke', '#1565c0'); p.setAttribute('stroke-width', '1.5');
    svg.appendChild(p);
  }

  function render(data) {
    var g = data.group;
    text('group', g.groupId);
    text('group-state', g.state);
    text('group-members', g.members === null ? 'unknown' : String(g.members.length));
    setStatus(document.getElementById('group-status'), g.status);
    text('total-lag', num(g.totalLag));
    text('max-lag-seconds', secs(g.maxLagSeconds));
    var inv = data.invalidator;
    var up = inv.sources.filter(function (s) { return s.up; }).length;
    text('throughput', rate(inv.figures.eventsConsumedPerSecond));
    text('throughput-sub', inv.sources.length === 0 ? 'no invalidator metrics configured' : 'events/s consumed · ' + up + '/' + inv.sources.length + ' instances up');
    text('dead-lettered', num(inv.figures.deadLettered));
    var reasons = Object.keys(inv.figures.deadLetteredByReason);
    text('dead-lettered-sub', (inv.figures.deadLetteredPerSecond === null ? '' : rate(inv.figures.deadLetteredPerSecond) + '/s over ' + inv.figures.windowSeconds + ' s') + (reasons.length ? ' · ' + reasons.map(function (r) { return r + ' ' + num(inv.figures.deadLetteredByReason[r]); }).join(', ') : ''));
    text('latency-p50', secs(inv.figures.applyLatencyP50Seconds));
    text('latency-p99', secs(inv.figures.applyLatencyP99Seconds));
    text('latency-sub', 'over the last ' + inv.figures.windowSeconds + ' s');
    text('mappings', num(data.mappings.count));
    text('mappings-sub', data.mappings.source === null ? 'not available' : 'from the ' + data.mappings.source);

    var errors = data.errors.concat(inv.sources.filter(function (s) { return !s.up && s.error; }).map(function (s) { return 'invalidator metrics ' + s.url + ': ' + s.error; }));
    var box = document.getElementById('errors');
    box.style.display = errors.length ? 'block' : 'none';
    box.textContent = errors.join(' · ');

    // Rows are updated in place (keyed by topic/partition), never rebuilt: no flicker, and
    // whatever someone is reading or selecting stays put.
    var body = document.getElementById('partitions');
    var keep = {};
    data.partitions.forEach(function (p, index) {
      var key = p.topic + '/' + p.partition;
      keep[key] = true;
      var tr = body.querySelector('tr[data-partition="' + CSS.escape(key) + '"]');
      if (!tr) {
        tr = el('tr');
        tr.setAttribute('data-partition', key);
        ['topic', 'partition', 'committed', 'end', 'lag', 'lag-seconds', 'state', 'owner', 'reason'].forEach(function (c) { tr.appendChild(el('td', c)); });
        tr.children[6].appendChild(el('span', 'status'));
      }
      if (body.children[index] !== tr) body.insertBefore(tr, body.children[index] || null);
      var td = tr.children;
      td[0].textContent = p.topic;
      td[1].textContent = String(p.partition);
      td[2].textContent = p.committedOffset === null ? 'none' : num(p.committedOffset);
      td[3].textContent = num(p.endOffset);
      td[4].textContent = num(p.lag);
      td[5].textContent = (p.lagSecondsMethod === 'lower-bound' ? '≥ ' : '') + secs(p.lagSeconds);
      var badge = td[6].firstChild; setStatus(badge, p.status); badge.title = p.statusReason;
      td[7].textContent = p.owner ? p.owner.clientId + ' @ ' + p.owner.host : '—';
      td[8].textContent = p.statusReason;
    });
    Array.prototype.slice.call(body.children).forEach(function (tr) { if (!keep[tr.getAttribute('data-partition')]) body.removeChild(tr); });
    renderReadSide(data);
    drawChart(data.now);
    drawSpark(data.now);
    lastUpdate = Date.now();
    text('updated', new Date(data.now).toLocaleTimeString());
  }

  function bar(fraction, color) {
    var outer = el('div', 'barbox');
    var inner = el('div', 'barfill');
    inner.style.width = Math.max(0, Math.min(1, fraction)) * 100 + '%';
    inner.style.background = color;
    outer.appendChild(inner);
    return outer;
  }
  function pct(v) { return v === null || v === undefined ? '–' : (v * 100).toFixed(1) + ' %'; }
  // Each row carries its key (e.g. data-family="product") and each cell its column
  // (data-column="reads"): stable hooks for scripts and the browser tests.
  function fillRows(id, attr, columns, rows) {
    var body = document.getElementById(id);
    while (body.firstChild) body.removeChild(body.firstChild);
    rows.forEach(function (cells) {
      var tr = el('tr');
      tr.setAttribute(attr, cells[0]);
      cells.forEach(function (c, i) { var td = el('td'); td.setAttribute('data-column', columns[i]); if (typeof c === 'string') td.textContent = c; else td.appendChild(c); tr.appendChild(td); });
      body.appendChild(tr);
    });
  }
  function purgeRank(outcome) { var i = ['purged', 'retried', 'failed', 'refused'].indexOf(outcome); return i < 0 ? 4 : i; }
  function renderReadSide(data) {
    // Published events ("events") and each CDC table ("cdc:<entity type>") separately.
    var sources = data.invalidator.figures.bySource || [];
    fillRows('sources', 'data-source', ['source', 'instances', 'consumed', 'applied'], sources.map(function (x) { return [x.source, String(x.instances), rate(x.consumedPerSecond), rate(x.appliedPerSecond)]; }));
    text('sources-sub', data.invalidator.sources.length === 0 ? 'no invalidator metrics configured' : 'over the last ' + data.invalidator.figures.windowSeconds + ' s');
    var outcomes = data.invalidator.keysPerSecondByOutcome || {};
    var names = Object.keys(outcomes).sort();
    var top = 0;
    names.forEach(function (n) { if (outcomes[n] > top) top = outcomes[n]; });
    fillRows('outcomes', 'data-outcome', ['outcome', 'rate', 'bar'], names.map(function (n) { return [n, rate(outcomes[n]), bar(top > 0 ? outcomes[n] / top : 0, '#1565c0')]; }));
    text('outcomes-sub', data.invalidator.sources.length === 0 ? 'no invalidator metrics configured' : (names.length ? 'over the last ' + data.invalidator.figures.windowSeconds + ' s' : 'no keys invalidated in the window'));
    // HTTP cache purges (invalidator_purges_total): purged and failed count events, retried attempts.
    var purges = data.invalidator.purges || { perSecondByOutcome: {}, byTarget: [] };
    var purgeOutcomes = Object.keys(purges.perSecondByOutcome).sort(function (a, b) { return purgeRank(a) - purgeRank(b) || (a < b ? -1 : a > b ? 1 : 0); });
    var purgeTop = 0;
    purgeOutcomes.forEach(function (n) { if (purges.perSecondByOutcome[n] > purgeTop) purgeTop = purges.perSecondByOutcome[n]; });
    fillRows('purges', 'data-outcome', ['outcome', 'rate', 'targets', 'bar'], purgeOutcomes.map(function (n) {
      var perTarget = purges.byTarget.filter(function (t) { return Object.prototype.hasOwnProperty.call(t.perSecondByOutcome, n); }).map(function (t) { return t.target + ' ' + rate(t.perSecondByOutcome[n]); }).join(' · ');
      var cells = [n, rate(purges.perSecondByOutcome[n]), perTarget || '–', bar(purgeTop > 0 ? purges.perSecondByOutcome[n] / purgeTop : 0, n === 'failed' || n === 'refused' ? '#c62828' : n === 'retried' ? '#f9a825' : '#2e7d32')];
      return cells;
    }));
    Array.prototype.forEach.call(document.getElementById('purges').children, function (tr) { tr.children[2].className = 'reason'; });
    text('purges-sub', data.invalidator.sources.length === 0 ? 'no invalidator metrics configured'
      : purges.byTarget.length === 0 ? (purgeOutcomes.length ? 'no purges yet (PURGE_TARGETS not set, or nothing purged)' : '')
      : purges.byTarget.length + ' target' + (purges.byTarget.length === 1 ? '' : 's') + ' · over the last ' + data.invalidator.figures.windowSeconds + ' s · purged, failed, refused: items; retried: attempts');
    var cache = data.cache || { sources: [], families: [], windowSeconds: 0 };
    fillRows('families', 'data-family', ['family', 'reads', 'hit-rate', 'l1-share', 'bar'], cache.families.map(function (f) { return [f.family, rate(f.readsPerSecond), pct(f.hitRate), pct(f.l1HitRate), bar(f.hitRate || 0, '#00897b')]; }));
    var upReaders = cache.sources.filter(function (s) { return s.up; }).length;
    text('families-sub', cache.sources.length === 0 ? 'no reader metrics configured (CACHE_METRICS_URLS)' : upReaders + '/' + cache.sources.length + ' readers up · over the last ' + cache.windowSeconds + ' s');
  }

  function tick() {
    var url = CONFIG.dataUrl + (lastAt === null ? '' : '?since=' + lastAt);
    fetch(url, { cache: 'no-store' })
      .then(function (r) { if (!r.ok) throw new Error('HTTP ' + r.status); return r.json(); })
      .then(function (data) { merge(data); render(data); text('stale', ''); })
      .catch(function (e) { text('stale', 'cannot reach the lag service (' + e.message + ')'); })
      .then(function () { setTimeout(tick, CONFIG.pollMs); });
  }
  function setMode(m) {
    mode = m;
    document.getElementById('show-offsets').setAttribute('aria-pressed', String(m === 'lag'));
    document.getElementById('show-seconds').setAttribute('aria-pressed', String(m === 'lagSeconds'));
    if (lastUpdate) drawChart(Date.now());
  }
  document.getElementById('show-offsets').onclick = function () { setMode('lag'); };
  document.getElementById('show-seconds').onclick = function () { setMode('lagSeconds'); };
  tick();
})();
</script>
</body>
</html>
`;

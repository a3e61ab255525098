// The live cluster page: reads GET /v1/cluster/health and GET /v1/cluster/nodes every second and
// draws the header, the nodes table and the per-app totals. REST JSON is protobuf's JSON mapping
// (proto/sockudo/controlplane/v1/cluster.proto): camelCase, int64 as strings, enums as names,
// default values left out. When the API answers 401 the page stops polling and shows a token
// form; the token is kept in sessionStorage (this tab only) until "forget token".
//
// Hooks for tests and scripts: #status[data-status] (HEALTHY, DEGRADED, UNAVAILABLE; UNREACHABLE
// while the API does not answer), #nodes tr[data-node-id][data-state],
// #apps tr[data-app-id], #error (the banner), #token-form / #token-input.
'use strict';

(() => {
  const TOKEN_KEY = 'sockudo-token';
  const POLL_MS = 1000;
  const REQUEST_TIMEOUT_MS = 5000;
  const MAX_NODE_PAGES = 20;

  const $ = (id) => document.getElementById(id);

  class Unauthorized extends Error {}

  // ---- formatting -------------------------------------------------------------------------
  const num = (v) => Number(v || 0);
  const fmtInt = (v) => num(v).toLocaleString('en-US');

  function fmtBytes(v) {
    let x = num(v);
    if (!x) return '–';
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let i = 0;
    while (x >= 1024 && i < units.length - 1) {
      x /= 1024;
      i++;
    }
    return `${i === 0 || x >= 100 ? Math.round(x) : x.toFixed(1)} ${units[i]}`;
  }

  function fmtDuration(seconds) {
    const s = Math.max(0, Math.floor(seconds));
    const d = Math.floor(s / 86400);
    const h = Math.floor((s % 86400) / 3600);
    const m = Math.floor((s % 3600) / 60);
    if (d) return `${d}d ${h}h`;
    if (h) return `${h}h ${m}m`;
    if (m) return `${m}m ${s % 60}s`;
    return `${s}s`;
  }

  function fmtAge(ms) {
    const v = num(ms);
    if (v < 10000) return `${(v / 1000).toFixed(1)} s ago`;
    return `${fmtDuration(v / 1000)} ago`;
  }

  // UUIDs are shortened like git hashes; other long ids keep their start.
  function shortId(id) {
    if (!id || id.length <= 12) return id || '';
    if (/^[0-9a-f]{8}-[0-9a-f]{4}-/i.test(id)) return id.slice(0, 8);
    return `${id.slice(0, 11)}…`;
  }

  const clock = (ms) => new Date(ms).toLocaleTimeString([], { hour12: false });

  function el(tag, props = {}, children = []) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(props)) {
      if (k === 'class') e.className = v;
      else if (k === 'text') e.textContent = v;
      else if (k.startsWith('data-')) e.setAttribute(k, v);
      else e[k] = v;
    }
    e.append(...children);
    return e;
  }

  // Writes only what changed, so a selection or a hover survives the next poll.
  function setText(e, text) {
    if (e.textContent !== text) e.textContent = text;
  }
  function setAttr(e, name, value) {
    if (value === null || value === undefined || value === '') {
      if (e.hasAttribute(name)) e.removeAttribute(name);
    } else if (e.getAttribute(name) !== value) {
      e.setAttribute(name, value);
    }
  }

  // ---- API --------------------------------------------------------------------------------
  async function api(path) {
    const headers = { accept: 'application/json' };
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (token) headers.authorization = `Bearer ${token}`;
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), REQUEST_TIMEOUT_MS);
    let r;
    try {
      r = await fetch(path, { headers, signal: abort.signal, cache: 'no-store' });
    } catch (e) {
      throw new Error(e.name === 'AbortError'
        ? `no answer within ${REQUEST_TIMEOUT_MS / 1000} s` : 'the control plane cannot be reached');
    } finally {
      clearTimeout(timer);
    }
    if (r.status === 401) throw new Unauthorized();
    let body = null;
    try {
      body = await r.json();
    } catch (_) {
      body = null;
    }
    if (!r.ok) {
      const message = body && body.error && body.error.message;
      throw new Error(`${path} answered ${r.status}${message ? `: ${message}` : ''}`);
    }
    return body || {};
  }

  async function listNodes() {
    const nodes = [];
    let pageToken = '';
    for (let page = 0; page < MAX_NODE_PAGES; page++) {
      const query = `?page_size=1000${pageToken ? `&page_token=${encodeURIComponent(pageToken)}` : ''}`;
      const r = await api(`/v1/cluster/nodes${query}`);
      nodes.push(...(r.nodes || []));
      pageToken = r.nextPageToken;
      if (!pageToken) break;
    }
    return nodes;
  }

  // ---- header -----------------------------------------------------------------------------
  function renderHealth(h) {
    const status = h.status || 'STATUS_UNSPECIFIED';
    const statusEl = $('status');
    setText(statusEl, status === 'STATUS_UNSPECIFIED' ? 'UNKNOWN' : status);
    setAttr(statusEl, 'data-status', status);
    setAttr(statusEl, 'title', h.busConnected ? 'bus connected' : 'bus not connected');
    setText($('adapter'), h.adapter || '–');
    for (const [id, value] of [['alive-count', h.aliveNodes], ['suspect-count', h.suspectNodes],
      ['dead-count', h.deadNodes]]) {
      setText($(id), String(value || 0));
      $(id).classList.toggle('zero', !value);
    }
    const leader = $('leader');
    setText(leader, h.leader ? shortId(h.leader) : 'none');
    setAttr(leader, 'title', h.leader || 'no alive node');
    setAttr(leader, 'data-node-id', h.leader || '');
    setText($('total-connections'), fmtInt(h.connections));
    setText($('total-channels'), fmtInt(h.channels));
    document.title = `${statusEl.textContent} · sockudo cluster`;
  }

  // ---- nodes table ------------------------------------------------------------------------
  const rowsById = new Map();
  const NODE_CELLS = ['id', 'state', 'address', 'version', 'uptime', 'connections', 'channels',
    'memory', 'heartbeat', 'notes'];
  const NUMERIC = new Set(['uptime', 'connections', 'channels', 'memory', 'heartbeat']);

  function makeNodeRow(id) {
    const tr = el('tr', { 'data-node-id': id, class: 'new' });
    for (const name of NODE_CELLS) tr.append(el('td', { class: `${name}${NUMERIC.has(name) ? ' num' : ''}` }));
    tr.cells[0].append(el('code'));
    tr.cells[1].append(el('span', { class: 'badge' }));
    setTimeout(() => tr.classList.remove('new'), 2500);
    return tr;
  }

  function fillNodeRow(tr, n) {
    const c = tr.cells;
    const state = n.state || 'STATE_UNSPECIFIED';
    setAttr(tr, 'data-state', state);
    setAttr(c[0], 'title', n.id);
    setText(c[0].firstChild, shortId(n.id));
    const badge = c[1].firstChild;
    setText(badge, state === 'STATE_UNSPECIFIED' ? 'UNKNOWN' : state);
    setAttr(badge, 'data-state', state);
    setAttr(badge, 'class', `badge ${state}`);
    setText(c[2], n.address || '–');
    setText(c[3], n.version || '–');
    setText(c[4], n.uptimeSeconds !== undefined || n.startTime ? fmtDuration(num(n.uptimeSeconds)) : '–');
    setAttr(c[4], 'title', n.startTime ? `started ${new Date(n.startTime).toLocaleString()}` : '');
    setText(c[5], fmtInt(n.connections));
    setAttr(c[5], 'title', n.presenceMembers ? `${fmtInt(n.presenceMembers)} presence members` : '');
    setText(c[6], fmtInt(n.channels));
    setText(c[7], fmtBytes(n.memoryBytes));
    setText(c[8], fmtAge(n.lastHeartbeatAgeMs));
    setAttr(c[8], 'title', n.lastHeartbeatTime ? new Date(n.lastHeartbeatTime).toLocaleString() : '');
    const notes = [];
    if (n.leader) notes.push(['leader', 'leader', 'smallest alive node id (display only)']);
    if (n.draining) notes.push(['draining', 'draining', 'refusing new connections']);
    if (state !== 'DEAD' && !n.ready) notes.push(['not-ready', 'not ready', 'readiness probe fails']);
    if (state !== 'DEAD' && !n.busHealthy) notes.push(['bus-down', 'bus down', 'the node lost its bus']);
    const key = notes.map((x) => x[0]).join(' ');
    if (c[9].dataset.notes !== key) {
      c[9].dataset.notes = key;
      c[9].replaceChildren(...notes.map(([cls, text, title]) => el('span', { class: `mark ${cls}`, text, title })));
    }
  }

  function renderNodes(nodes) {
    const body = $('nodes').tBodies[0];
    const seen = new Set();
    nodes.forEach((n, i) => {
      seen.add(n.id);
      let tr = rowsById.get(n.id);
      if (!tr) {
        tr = makeNodeRow(n.id);
        rowsById.set(n.id, tr);
      }
      fillNodeRow(tr, n);
      if (body.rows[i] !== tr) body.insertBefore(tr, body.rows[i] || null);
    });
    for (const [id, tr] of rowsById) {
      if (!seen.has(id)) {
        tr.remove();
        rowsById.delete(id);
      }
    }
    $('nodes').classList.toggle('is-empty', nodes.length === 0);
    setText($('node-count'), nodes.length ? `(${nodes.length})` : '');
  }

  // ---- apps table -------------------------------------------------------------------------
  function renderApps(apps) {
    const body = $('apps').tBodies[0];
    const key = JSON.stringify(apps);
    if (body.dataset.key === key) return;
    body.dataset.key = key;
    body.replaceChildren(...apps.map((a) => el('tr', { 'data-app-id': a.appId }, [
      el('td', { class: 'id' }, [el('code', { text: a.appId })]),
      el('td', { class: 'num', text: fmtInt(a.connections) }),
      el('td', { class: 'num', text: fmtInt(a.channels) }),
    ])));
    $('apps').classList.toggle('is-empty', apps.length === 0);
  }

  // ---- status line, banner, token form ----------------------------------------------------
  let lastOk = 0;
  let lastError = null;
  let waitingForToken = false;

  function renderUpdated() {
    const e = $('updated');
    if (waitingForToken) {
      setText(e, 'waiting for a token');
    } else if (!lastOk) {
      setText(e, lastError ? 'never updated' : 'loading…');
    } else {
      const age = Date.now() - lastOk;
      setText(e, `updated ${clock(lastOk)}${age >= 3000 ? ` (${fmtDuration(age / 1000)} ago)` : ''}`);
    }
    e.classList.toggle('stale', Boolean(lastError) && !waitingForToken);
    $('forget-token').hidden = !sessionStorage.getItem(TOKEN_KEY);
  }

  function showError(message) {
    lastError = message;
    const banner = $('error');
    document.body.classList.toggle('stale', Boolean(message));
    if (!message) {
      banner.hidden = true;
      return;
    }
    // The cluster's state is unknown from here: the header says so rather than the last status.
    setText($('status'), 'UNREACHABLE');
    setAttr($('status'), 'data-status', 'UNREACHABLE');
    setAttr($('status'), 'title', 'the control plane API does not answer');
    document.title = 'UNREACHABLE · sockudo cluster';
    const since = lastOk ? ` The tables show what was known at ${clock(lastOk)}.` : '';
    setText(banner, `Cannot read the control plane API: ${message}. Retrying every second.${since}`);
    banner.hidden = false;
  }

  function askForToken() {
    const rejected = Boolean(sessionStorage.getItem(TOKEN_KEY));
    sessionStorage.removeItem(TOKEN_KEY);
    waitingForToken = true;
    showError(null);
    document.body.classList.add('locked');
    setText($('status'), 'TOKEN NEEDED');
    setAttr($('status'), 'data-status', '');
    document.title = 'sockudo cluster';
    const reason = $('token-reason');
    if (rejected) {
      reason.replaceChildren('The control plane refused that token. Enter the right one.');
    } else {
      reason.replaceChildren('This control plane needs a bearer token to read its API (the ',
        el('code', { text: 'CONTROL_PLANE_TOKEN' }), ' it was started with).');
    }
    setAttr($('token-form'), 'data-rejected', rejected ? 'true' : '');
    const form = $('token-form');
    if (form.hidden) {
      form.hidden = false;
      $('token-input').focus();
    }
  }

  $('token-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const input = $('token-input');
    const token = input.value.trim();
    if (!token) return;
    sessionStorage.setItem(TOKEN_KEY, token);
    input.value = '';
    $('token-form').hidden = true;
    waitingForToken = false;
    renderUpdated();
    pollNow();
  });

  $('forget-token').addEventListener('click', (ev) => {
    ev.preventDefault();
    sessionStorage.removeItem(TOKEN_KEY);
    renderNodes([]);
    renderApps([]);
    lastOk = 0;
    pollNow();
  });

  // ---- polling ----------------------------------------------------------------------------
  async function refresh() {
    try {
      const [health, nodes] = await Promise.all([api('/v1/cluster/health'), listNodes()]);
      renderHealth(health);
      renderNodes(nodes);
      renderApps(health.apps || []);
      lastOk = Date.now();
      document.body.classList.remove('locked');
      showError(null);
    } catch (e) {
      if (e instanceof Unauthorized) askForToken();
      else showError(e.message || String(e));
    }
    renderUpdated();
  }

  let timer = null;
  let inFlight = false;
  let again = false;

  // One request cycle at a time; the next starts POLL_MS after the previous one ended, and not
  // at all while the token form waits.
  function pollNow() {
    clearTimeout(timer);
    timer = null;
    if (inFlight) {
      again = true;
      return;
    }
    inFlight = true;
    refresh().finally(() => {
      inFlight = false;
      if (again) {
        again = false;
        pollNow();
      } else if (!waitingForToken) {
        timer = setTimeout(pollNow, POLL_MS);
      }
    });
  }

  setInterval(renderUpdated, 1000);
  pollNow();
})();

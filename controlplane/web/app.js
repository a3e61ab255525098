// The live cluster page: polls the Cluster API every second with the bearer token (asked for
// when the API answers 401, kept in sessionStorage).
'use strict';
const tokenKey = 'sockudo-token';
async function api(path) {
  const headers = {};
  const token = sessionStorage.getItem(tokenKey);
  if (token) headers.authorization = `Bearer ${token}`;
  const r = await fetch(path, { headers });
  if (r.status === 401) {
    const t = prompt('Control plane token');
    if (t) sessionStorage.setItem(tokenKey, t);
    throw new Error('unauthenticated');
  }
  return r.json();
}
function cell(text, cls) {
  const td = document.createElement('td');
  td.textContent = text;
  if (cls) td.className = cls;
  return td;
}
async function refresh() {
  try {
    const [health, list] = await Promise.all([api('/v1/cluster/health'), api('/v1/cluster/nodes')]);
    document.getElementById('status').textContent = `${health.status} · ${health.adapter}`;
    const body = document.querySelector('#nodes tbody');
    body.replaceChildren(...(list.nodes || []).map((n) => {
      const tr = document.createElement('tr');
      tr.dataset.node = n.id;
      tr.append(cell(n.id + (n.leader ? ' (leader)' : '')), cell(n.state, n.state), cell(n.address || ''),
        cell(n.connections || '0'), cell(n.channels || '0'),
        cell(`${Math.round(Number(n.memoryBytes || 0) / 1048576)} MiB`), cell(`${n.lastHeartbeatAgeMs || 0} ms ago`));
      return tr;
    }));
    const apps = document.querySelector('#apps tbody');
    apps.replaceChildren(...(health.apps || []).map((a) => {
      const tr = document.createElement('tr');
      tr.append(cell(a.appId), cell(a.connections || '0'), cell(a.channels || '0'));
      return tr;
    }));
  } catch (e) {
    document.getElementById('status').textContent = `error: ${e.message}`;
  }
}
refresh();
setInterval(refresh, 1000);

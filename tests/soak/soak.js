#!/usr/bin/env node
// Soak: two real sockudo-node processes on a real redis bus under a mixed, bounded load for
// SOAK_SECONDS (default 600): pusher-js clients connecting and disconnecting, presence churn,
// HTTP publishes through the `pusher` SDK, client events between nodes, and slow consumers (raw
// WebSockets that subscribe and never read). Every SOAK_SAMPLE_SECONDS (default 10) each node's
// RSS (/proc/PID/status VmRSS), open descriptors (/proc/PID/fd) and its /metrics (bus publish
// queue depth, bus reconnections, dropped bus messages, connections) are written to
// build/soak/soak.csv; at the end a chart build/soak/soak.png is rendered with headless Chromium.
// After the load leaves, RSS and descriptors must come back near the baseline taken before it:
// the script prints the figures and exits 1 if they do not.
//
//   SOCKUDO_NODE_BIN=build/dataplane/sockudo-node node tests/soak/soak.js
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const ROOT = path.resolve(__dirname, '..', '..');
if (!process.env.SOCKUDO_NODE_BIN) process.env.SOCKUDO_NODE_BIN = path.join(ROOT, 'build', 'dataplane', 'sockudo-node');
const OUT_DIR = process.env.SOAK_OUT_DIR || path.join(ROOT, 'build', 'soak');

const WebSocket = require('ws');
const { startCluster } = require('../support/cluster');
const { client, serverSdk } = require('../support/pusher_clients');
const { httpRequest, waitFor } = require('../support/wait');

const SECONDS = Number(process.env.SOAK_SECONDS || 600);
const SAMPLE_SECONDS = Number(process.env.SOAK_SAMPLE_SECONDS || 10);
const STEADY_CLIENTS = Number(process.env.SOAK_CLIENTS || 40);
const PUBLISH_PER_S = Number(process.env.SOAK_PUBLISH_PER_S || 20);
// "Near the baseline": RSS within max(48 MiB, +50%), descriptors within +8.
const RSS_SLACK_KB = Number(process.env.SOAK_RSS_SLACK_KB || 48 * 1024);
const FD_SLACK = Number(process.env.SOAK_FD_SLACK || 8);

const APPS = { app_manager: { array: { apps: [
  { id: 'app-id', key: 'app-key', secret: 'app-secret', enable_client_messages: true },
] } } };

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function rssKb(pid) {
  const m = /VmRSS:\s+(\d+)\s+kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}
const fdCount = (pid) => fs.readdirSync(`/proc/${pid}/fd`).length;

async function metrics(node) {
  const r = await httpRequest({ port: node.metricsPort, path: '/metrics' });
  const total = (name) => r.text.split('\n').filter((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`))
    .reduce((s, l) => s + Number(l.split(' ').pop()), 0);
  return {
    queue_depth: total('sockudo_horizontal_transport_queue_depth'),
    bus_reconnections: total('sockudo_horizontal_transport_reconnections_total'),
    bus_dropped: total('sockudo_horizontal_transport_messages_dropped_total'),
    connections: total('sockudo_connected'),
    slow_consumer_closes: total('sockudo_slow_consumer_disconnections_total'),
  };
}

async function sample(nodes, t0, phase) {
  const rows = [];
  for (let i = 0; i < nodes.length; i++) {
    const n = nodes[i];
    rows.push({ t_s: ((Date.now() - t0) / 1000).toFixed(1), phase, node: i, rss_kb: rssKb(n.child.pid), fds: fdCount(n.child.pid), ...(await metrics(n)) });
  }
  return rows;
}

const COLUMNS = ['t_s', 'phase', 'node', 'rss_kb', 'fds', 'queue_depth', 'bus_reconnections', 'bus_dropped', 'connections', 'slow_consumer_closes'];

// A chart of RSS, descriptors, connections and queue depth per node over time, as SVG in HTML.
function chartHtml(rows, baseline) {
  const W = 1100;
  const H = 130;
  const series = [['rss_kb', 'RSS (MiB)', (v) => v / 1024], ['fds', 'open descriptors', (v) => v],
    ['connections', 'WebSocket connections', (v) => v], ['queue_depth', 'bus publish queue depth', (v) => v],
    ['bus_reconnections', 'bus reconnections (total)', (v) => v], ['slow_consumer_closes', 'slow consumers closed (total)', (v) => v]];
  const colors = ['#1f77b4', '#d62728'];
  const tMax = Math.max(1, ...rows.map((r) => Number(r.t_s)));
  let svg = '';
  series.forEach(([key, title, f], k) => {
    const y0 = k * (H + 30) + 30;
    const vals = rows.map((r) => f(Number(r[key])));
    const vMax = Math.max(1, ...vals) * 1.1;
    svg += `<text x="60" y="${y0 - 8}" font-size="14" font-family="sans-serif">${title}</text>`;
    svg += `<rect x="60" y="${y0}" width="${W - 80}" height="${H}" fill="none" stroke="#999"/>`;
    svg += `<text x="55" y="${y0 + 10}" font-size="11" text-anchor="end" font-family="sans-serif">${vMax.toFixed(0)}</text>`;
    svg += `<text x="55" y="${y0 + H}" font-size="11" text-anchor="end" font-family="sans-serif">0</text>`;
    for (let node = 0; node < 2; node++) {
      const pts = rows.filter((r) => r.node === node)
        .map((r) => `${(60 + (Number(r.t_s) / tMax) * (W - 80)).toFixed(1)},${(y0 + H - (f(Number(r[key])) / vMax) * H).toFixed(1)}`);
      svg += `<polyline fill="none" stroke="${colors[node]}" stroke-width="2" points="${pts.join(' ')}"/>`;
      if (baseline && (key === 'rss_kb' || key === 'fds')) {
        const y = y0 + H - (f(baseline[node][key]) / vMax) * H;
        svg += `<line x1="60" x2="${W - 20}" y1="${y}" y2="${y}" stroke="${colors[node]}" stroke-dasharray="4 4" opacity="0.5"/>`;
      }
    }
  });
  const load = rows.filter((r) => r.phase === 'load').map((r) => Number(r.t_s));
  const legend = `node 0 <span style="color:${colors[0]}">&#9632;</span> node 1 <span style="color:${colors[1]}">&#9632;</span>` +
    ` &nbsp; dashed: baseline before the load; load from ${Math.min(...load, 0).toFixed(0)} s to ${Math.max(...load, 0).toFixed(0)} s; x axis: 0..${tMax.toFixed(0)} s`;
  return `<!doctype html><html><body style="margin:10px;font-family:sans-serif;background:#fff">
<h3 style="margin:4px 0">sockudo-node soak: 2 nodes on redis, ${SECONDS} s of mixed load</h3><div style="font-size:13px">${legend}</div>
<svg width="${W}" height="${series.length * (H + 30) + 20}" xmlns="http://www.w3.org/2000/svg">${svg}</svg></body></html>`;
}

function renderPng(htmlFile, pngFile) {
  const chromium = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((c) => fs.existsSync(c));
  if (!chromium) return 'chromium not found (apt-get install chromium)';
  const r = spawnSync(chromium, ['--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars',
    `--screenshot=${pngFile}`, '--window-size=1140,1060', `file://${htmlFile}`], { encoding: 'utf8', timeout: 60000 });
  return fs.existsSync(pngFile) ? null : `chromium failed: ${r.stderr}`;
}

// The mixed load, bounded by `until` (a time) and by counts.
function startLoad(nodes, until) {
  const pool = new Set();
  const stats = { connects: 0, presenceJoins: 0, publishes: 0, publishErrors: 0, clientEvents: 0, slowConsumers: 0, received: 0 };
  const open = (node, opts) => {
    const p = client(node, opts);
    pool.add(p);
    stats.connects++;
    return p;
  };
  const close = (p) => { p.disconnect(); pool.delete(p); };
  const raws = new Set();
  const loops = [];
  const every = (ms, fn) => loops.push((async () => {
    while (Date.now() < until) {
      try { await fn(); } catch (_) { /* a failed step is retried next time */ }
      await sleep(ms);
    }
  })());
  // Steady subscribers on a public channel on both nodes (they receive the publishes).
  const steady = [];
  for (let i = 0; i < STEADY_CLIENTS; i++) {
    const p = open(nodes[i % 2]);
    p.subscribe('soak-news').bind('tick', () => { stats.received++; });
    steady.push(p);
  }
  // Connect / disconnect churn: 4 short-lived clients per second.
  every(250, async () => {
    const p = open(nodes[stats.connects % 2]);
    p.subscribe(`soak-churn-${stats.connects % 10}`);
    setTimeout(() => close(p), 1500);
  });
  // Presence churn: a member joins every 300 ms and leaves 2 s later.
  every(300, async () => {
    const id = `soak-user-${stats.presenceJoins++ % 50}`;
    const p = open(nodes[stats.presenceJoins % 2], { presence: { user_id: id, user_info: { id } } });
    p.subscribe('presence-soak');
    setTimeout(() => close(p), 2000);
  });
  // HTTP publishes, alternating nodes.
  const sdks = nodes.map((n) => serverSdk(n));
  every(Math.max(1, Math.round(1000 / PUBLISH_PER_S)), async () => {
    try {
      await sdks[stats.publishes % 2].trigger('soak-news', 'tick', { n: stats.publishes, pad: 'x'.repeat(200) });
    } catch (_) { stats.publishErrors++; }
    stats.publishes++;
  });
  // Bulk events (8 KiB, 40/s) only the slow consumers subscribe to: their queues fill and the
  // nodes close them (slow consumer), and new ones take their place.
  const bulk = 'y'.repeat(8192);
  every(25, async () => { try { await sdks[stats.publishes % 2].trigger('soak-bulk', 'blob', { bulk }); } catch (_) { stats.publishErrors++; } });
  // Client events on a private channel between a client on each node.
  const talkers = nodes.map((n) => open(n));
  const chans = talkers.map((p) => p.subscribe('private-soak-chat'));
  every(200, async () => {
    const ch = chans[stats.clientEvents % 2];
    if (ch.subscribed) { ch.trigger('client-msg', { n: stats.clientEvents }); stats.clientEvents++; }
  });
  // Slow consumers: raw WebSockets that subscribe and then stop reading; replaced when closed.
  every(2000, async () => {
    if (raws.size >= 4) return;
    const n = nodes[stats.slowConsumers++ % 2];
    const ws = new WebSocket(`ws://127.0.0.1:${n.port}/app/app-key?protocol=7&client=soak&version=1`);
    raws.add(ws);
    ws.on('error', () => {});
    ws.on('close', () => raws.delete(ws));
    ws.on('open', () => {
      ws.send(JSON.stringify({ event: 'pusher:subscribe', data: { channel: 'soak-bulk' } }));
      setTimeout(() => { if (ws._socket) ws._socket.pause(); }, 200);
    });
  });
  return {
    stats,
    async stop() {
      await Promise.all(loops);
      for (const p of [...pool]) close(p);
      for (const ws of raws) ws.terminate();
    },
  };
}

async function main() {
  fs.mkdirSync(OUT_DIR, { recursive: true });
  const csvFile = path.join(OUT_DIR, 'soak.csv');
  const htmlFile = path.join(OUT_DIR, 'soak.html');
  const pngFile = path.join(OUT_DIR, 'soak.png');
  const cluster = await startCluster({ driver: 'redis', nodes: 2, config: APPS });
  const rows = [];
  const t0 = Date.now();
  let failed = false;
  try {
    const nodes = cluster.nodes;
    await sleep(1000);
    const baseRows = await sample(nodes, t0, 'baseline');
    rows.push(...baseRows);
    const baseline = baseRows.map((r) => ({ rss_kb: r.rss_kb, fds: r.fds }));
    console.log(`soak: ${SECONDS} s of load on 2 nodes (redis), sampling every ${SAMPLE_SECONDS} s; baseline ${JSON.stringify(baseline)}`);
    const until = Date.now() + SECONDS * 1000;
    const load = startLoad(nodes, until);
    while (Date.now() < until) {
      await sleep(Math.min(SAMPLE_SECONDS * 1000, Math.max(0, until - Date.now())));
      const r = await sample(nodes, t0, 'load');
      rows.push(...r);
      console.log(`  t=${r[0].t_s}s ${r.map((x) => `node${x.node} rss=${(x.rss_kb / 1024).toFixed(1)}MiB fds=${x.fds} conns=${x.connections} queue=${x.queue_depth} reconnects=${x.bus_reconnections}`).join('  ')}`);
    }
    await load.stop();
    // The load has left: wait (bounded) for the nodes to let go of what it used.
    const near = (r) => r.fds <= baseline[r.node].fds + FD_SLACK &&
      r.rss_kb <= baseline[r.node].rss_kb + Math.max(RSS_SLACK_KB, baseline[r.node].rss_kb * 0.5);
    let last;
    const settleUntil = Date.now() + 60000;
    for (;;) {
      await sleep(Math.min(SAMPLE_SECONDS, 5) * 1000);
      last = await sample(nodes, t0, 'after');
      rows.push(...last);
      if ((last.every(near) && last.every((r) => r.connections === 0)) || Date.now() > settleUntil) break;
    }
    const peak = [0, 1].map((i) => Math.max(...rows.filter((r) => r.node === i).map((r) => r.rss_kb)));
    const figures = {
      seconds: SECONDS, load: load.stats,
      nodes: last.map((r) => ({
        node: r.node, baselineRssKb: baseline[r.node].rss_kb, peakRssKb: peak[r.node], afterRssKb: r.rss_kb,
        baselineFds: baseline[r.node].fds, afterFds: r.fds, connectionsAfter: r.connections,
        busReconnections: r.bus_reconnections, busDropped: r.bus_dropped, queueDepthAfter: r.queue_depth,
      })),
    };
    console.log('soak-figures', JSON.stringify(figures));
    if (!last.every(near)) {
      failed = true;
      console.error(`soak: FAILED: RSS or descriptors did not return near the baseline (RSS +max(${RSS_SLACK_KB} kB, 50%), fds +${FD_SLACK})`);
    }
    if (!last.every((r) => r.connections === 0)) {
      failed = true;
      console.error('soak: FAILED: connections are still counted after every client left');
    }
    if (load.stats.publishes === 0 || load.stats.received === 0) {
      failed = true;
      console.error('soak: FAILED: the load did not run');
    }
    fs.writeFileSync(csvFile, `${COLUMNS.join(',')}\n${rows.map((r) => COLUMNS.map((c) => r[c]).join(',')).join('\n')}\n`);
    fs.writeFileSync(htmlFile, chartHtml(rows, baseline));
    const err = renderPng(htmlFile, pngFile);
    if (err) { failed = true; console.error(`soak: no chart: ${err}`); }
    console.log(`soak: wrote ${csvFile} and ${pngFile}`);
  } finally {
    await cluster.stop().catch((e) => { failed = true; console.error(`soak: a node did not stop cleanly: ${e.message}`); });
  }
  console.log(failed ? 'soak: FAILED' : 'soak: passed');
  process.exit(failed ? 1 : 0);
}

main().catch((e) => { console.error(e); process.exit(1); });

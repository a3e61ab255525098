#!/usr/bin/env node
// make bench: runs every sockudo-bench scenario against sockudo-node and soketi 1.6.1 with the
// same parameters, interleaved, for several rounds; prints the medians side by side with ratios.
// Loopback only; each server is started fresh for each run and stopped by its own PID.
'use strict';
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const buildDir = process.env.BUILD_DIR || path.join(root, 'build');
const NODE_BIN = path.join(buildDir, 'dataplane', 'sockudo-node');
const BENCH_BIN = path.join(buildDir, 'bench', 'sockudo-bench');
// BENCH_BASELINE_BIN: another sockudo-node build (e.g. the previous commit's) run as server
// "baseline", to compare a change in one run: BENCH_SERVERS=sockudo,baseline.
const BASELINE_BIN = process.env.BENCH_BASELINE_BIN || '';
const SOKETI_BIN = path.join(__dirname, 'soketi', 'node_modules', '@soketi', 'soketi', 'bin', 'server.js');

const args = process.argv.slice(2);
const arg = (name, fallback) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : fallback; };
const ROUNDS = Number(arg('--rounds', process.env.BENCH_ROUNDS || 3));
const ONLY = arg('--only', process.env.BENCH_ONLY || '');
const SERVERS = (arg('--servers', process.env.BENCH_SERVERS || 'sockudo,soketi')).split(',');

// Same parameters for both servers. The key metric of each is compared.
const SCENARIOS = [
  { name: 'fanout 1k x 100/s', args: ['fanout', '--connections', '1000', '--rate', '100', '--duration', '10', '--concurrency', '4'],
    metrics: ['server_cpu_us_per_msg', 'delivered_per_s', 'p50_ms', 'p99_ms', 'lost'] },
  { name: 'fanout 10k x 10/s', args: ['fanout', '--connections', '10000', '--rate', '10', '--duration', '10', '--concurrency', '2'],
    metrics: ['server_cpu_us_per_msg', 'delivered_per_s', 'p50_ms', 'p99_ms', 'lost'] },
  { name: 'fanout presence 1k x 100/s', args: ['fanout', '--presence', '--connections', '1000', '--rate', '100', '--duration', '10', '--concurrency', '4'],
    metrics: ['server_cpu_us_per_msg', 'delivered_per_s', 'p99_ms', 'lost'] },
  { name: 'publish c=8', args: ['publish', '--concurrency', '8', '--duration', '10'],
    metrics: ['requests_per_s', 'p50_ms', 'p99_ms', 'server_cpu_us_per_request'] },
  { name: 'presence churn 50 users', args: ['presence-churn', '--connections', '50', '--duration', '10', '--rate', '0'],
    metrics: ['subscribes_per_s', 'member_events_per_s', 'p99_ms', 'server_cpu_us_per_op'] },
  { name: 'idle 19k', args: ['idle', '--connections', '19000', '--connect-parallelism', '512'],
    metrics: ['server_rss_before_kb', 'bytes_per_connection', 'connects_per_s'] },
  // The memory budget (docs/memory.md); needs the server's queue gauges, so sockudo builds only.
  { name: 'memory 10k', only: ['sockudo', 'baseline'], args: ['memory', '--connections', '10000', '--connect-parallelism', '512'],
    metrics: ['server_rss_baseline_kb', 'bytes_per_connection', 'bytes_per_subscription', 'bytes_per_presence_member', 'bytes_per_queued_frame'] },
].filter((s) => !ONLY || s.name.includes(ONLY));

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => { const { port } = srv.address(); srv.close(() => resolve(port)); });
  });
}

async function waitReady(port, child, timeoutMs = 30000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    const ok = await new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => { s.destroy(); resolve(true); });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('server did not start');
}

async function startServer(kind) {
  const port = await freePort();
  const metricsPort = await freePort();
  const base = { PATH: process.env.PATH, HOME: process.env.HOME || os.tmpdir() };
  let child;
  if (kind === 'sockudo' || kind === 'baseline') {
    child = spawn(kind === 'sockudo' ? NODE_BIN : BASELINE_BIN, [], { stdio: 'ignore', env: { ...base, HOST: '127.0.0.1', PORT: String(port),
      METRICS_HOST: '127.0.0.1', METRICS_PORT: String(metricsPort), LOG_LEVEL: 'warn',
      SOCKUDO_DEFAULT_APP_MAX_PRESENCE_MEMBERS_PER_CHANNEL: '100000' } });
  } else {
    // soketi reads .env from its working directory: run it in an empty one. Its UDP discovery is
    // pointed at loopback.
    const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'soketi-bench-'));
    child = spawn(process.execPath, [SOKETI_BIN, 'start'], { cwd, stdio: 'ignore', env: { ...base,
      SOKETI_HOST: '127.0.0.1', SOKETI_PORT: String(port), SOKETI_METRICS_SERVER_PORT: String(metricsPort),
      SOKETI_CLUSTER_HOST: '127.0.0.1', SOKETI_CLUSTER_BROADCAST_ADDRESS: '127.0.0.1', SOKETI_CLUSTER_PORT: String(await freePort()),
      SOKETI_DEFAULT_APP_ID: 'app-id', SOKETI_DEFAULT_APP_KEY: 'app-key', SOKETI_DEFAULT_APP_SECRET: 'app-secret',
      SOKETI_PRESENCE_MAX_MEMBERS: '100000' } });
    child.cwdToRemove = cwd;
  }
  await waitReady(port, child);
  return { kind, port, metricsPort, pid: child.pid, child };
}

async function stopServer(server) {
  if (server.child.exitCode === null) {
    const exited = new Promise((resolve) => server.child.on('exit', resolve));
    server.child.kill('SIGTERM');
    const timer = setTimeout(() => server.child.kill('SIGKILL'), 15000);
    await exited;
    clearTimeout(timer);
  }
  if (server.child.cwdToRemove) fs.rmSync(server.child.cwdToRemove, { recursive: true, force: true });
}

function runBench(server, scenario) {
  const extra = scenario.args[0] === 'memory' ? ['--metrics-port', String(server.metricsPort)] : [];
  const r = spawnSync(BENCH_BIN, [...scenario.args, ...extra, '--port', String(server.port), '--server-pid', String(server.pid),
    '--label', server.kind], { encoding: 'utf8', timeout: 240000 });
  const line = (r.stdout || '').trim().split('\n').pop();
  try { return JSON.parse(line); } catch (_) { return { error: (r.stderr || '').slice(-400) }; }
}

const median = (xs) => { const s = xs.filter((x) => typeof x === 'number').sort((a, b) => a - b); return s.length ? s[Math.floor(s.length / 2)] : NaN; };
const fmt = (x) => (Number.isNaN(x) ? '-' : Math.abs(x) >= 100 ? x.toFixed(0) : x.toFixed(2));

async function main() {
  if (SERVERS.includes('baseline') && !fs.existsSync(BASELINE_BIN)) throw new Error('BENCH_BASELINE_BIN must name a sockudo-node binary');
  for (const bin of [NODE_BIN, BENCH_BIN]) if (!fs.existsSync(bin)) throw new Error(`missing ${bin}: run make build`);
  if (SERVERS.includes('soketi') && !fs.existsSync(SOKETI_BIN)) throw new Error('soketi is not installed (make bench installs it)');
  const results = {};
  for (let round = 1; round <= ROUNDS; round++) {
    for (const scenario of SCENARIOS) {
      // Alternate which server goes first so neither always runs on a warmer machine.
      const order = (round % 2 ? SERVERS : [...SERVERS].reverse())
        .filter((k) => !scenario.only || scenario.only.includes(k));
      for (const kind of order) {
        const server = await startServer(kind);
        const out = runBench(server, scenario);
        await stopServer(server);
        ((results[scenario.name] ||= {})[kind] ||= []).push(out);
        process.stderr.write(`round ${round} ${scenario.name} ${kind}: ${JSON.stringify(out)}\n`);
      }
    }
  }
  fs.writeFileSync(path.join(buildDir, 'bench-results.json'), JSON.stringify(results, null, 1));
  const rows = [['scenario', 'metric', ...SERVERS, SERVERS.length > 1 ? `${SERVERS[0]}/${SERVERS[1]}` : '']];
  for (const scenario of SCENARIOS) {
    for (const metric of scenario.metrics) {
      const values = SERVERS.map((k) => median((results[scenario.name][k] || []).map((o) => o[metric])));
      const ratio = values.length > 1 && values[1] && !Number.isNaN(values[0]) ? values[0] / values[1] : NaN;
      rows.push([scenario.name, metric, ...values.map(fmt), Number.isNaN(ratio) ? '-' : `${ratio.toFixed(2)}x`]);
    }
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  const line = (r) => `| ${r.map((c, i) => String(c).padEnd(widths[i])).join(' | ')} |`;
  console.log(`\nMedian of ${ROUNDS} round(s), ${os.cpus().length} cores, loopback:\n`);
  console.log(line(rows[0]));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const r of rows.slice(1)) console.log(line(r));
}

main().catch((e) => { console.error(e.message); process.exit(1); });

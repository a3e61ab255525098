#!/usr/bin/env node
// make bench: runs every sockudo-bench scenario against sockudo-node and soketi 1.6.1 with the
// same parameters, interleaved, for several rounds; prints the medians side by side with ratios.
// Loopback only; each server is started fresh for each run and stopped by its own PID.
//
// Cross-node scenarios ("cross redis ...", "cross nats ..."): per server kind, a fresh broker
// (redis-server or nats-server on a free loopback port) and two nodes of that kind on it
// (sockudo: ADAPTER_DRIVER + REDIS_URL / NATS_SERVERS; soketi: SOKETI_ADAPTER_DRIVER +
// SOKETI_DB_REDIS_HOST/PORT / SOKETI_ADAPTER_NATS_SERVERS). Once both nodes answer (sockudo: and
// both report sockudo_cluster_nodes 2) and a probe event published to node A reaches a
// subscriber on node B, `sockudo-bench fanout` puts 1000 subscribers on B and publishes signed
// events to A at 20/s and 100/s. Rows: delivered msgs/s, p50/p99/max latency (publish on A to
// receipt from B), first_copy_p99_ms (per event, its first copy: the A -> broker -> B path
// without B's fan-out to 1000 sockets), lost (accepted events x subscribers - received), CPU per
// delivered message of both nodes together, of A and B alone, and of the broker. Nodes are
// stopped, then the broker.
//
// Control plane ("controlplane" group, sockudo only: soketi has no control plane): sockudo-node
// with its embedded control plane (local adapter; REST and gRPC on free loopback ports, a random
// bearer token, LOG_LEVEL=info so every call writes its audit line, to a temporary log), then
// `sockudo-bench controlplane-reads`: GetApp of the default app in a closed loop, 16 calls in
// flight, 10 s over REST (16 keep-alive connections) and 10 s over gRPC (one channel). Printed
// apart as REST vs gRPC: calls/s, p50/p99, errors (any is a failure: exit 1), control-plane CPU
// per call (the node's process), the load generator's CPU share, and the machine's load average
// (the load generator shares the cores with the server).
//
// Selecting: --only / BENCH_ONLY, comma-separated substrings of scenario names or group names, e.g.
// `node bench/compare.js --only cross` (cross-node rows only), `--only "cross redis,fanout 1k"` or
// `--only controlplane`.
'use strict';
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const crypto = require('node:crypto');

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
const ONLY = arg('--only', process.env.BENCH_ONLY || '').split(',').map((x) => x.trim()).filter(Boolean);
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
  // Cross-node (see the top): subscribers on node B, signed publishes to node A, one broker.
  ...['redis', 'nats'].flatMap((broker) => [20, 100].map((rate) => ({
    name: `cross ${broker} 1k x ${rate}/s`, broker,
    args: ['fanout', '--connections', '1000', '--rate', String(rate), '--duration', '10', '--concurrency', '4'],
    metrics: ['delivered_per_s', 'p50_ms', 'p99_ms', 'max_ms', 'first_copy_p99_ms', 'lost', 'nodes_cpu_us_per_msg', 'node_a_cpu_us_per_msg',
      'node_b_cpu_us_per_msg', 'broker_cpu_us_per_msg'] }))),
  // Webhooks ("webhooks" group): the app's webhook points at the receiver sockudo-bench runs;
  // occupancy cycles make channel_occupied + channel_vacated webhooks. The memory and redis queues
  // (sockudo), soketi with its default (sync) queue; then the fan-out row again with that webhook
  // configured (its occupancy webhooks go out while events fan out), to compare with the plain one.
  ...['memory', 'redis'].map((queue) => ({
    name: `webhooks ${queue} queue 200/s`, group: 'webhooks', webhooks: queue, only: queue === 'redis' ? ['sockudo'] : undefined,
    args: ['webhooks', '--connections', '50', '--rate', '200', '--duration', '10'],
    metrics: ['webhooks_per_s', 'p50_ms', 'p99_ms', 'lost', 'server_cpu_us_per_webhook'] })),
  { name: 'fanout 1k x 100/s + webhooks', group: 'webhooks', webhooks: 'memory',
    args: ['fanout', '--connections', '1000', '--rate', '100', '--duration', '10', '--concurrency', '4'],
    metrics: ['server_cpu_us_per_msg', 'delivered_per_s', 'p50_ms', 'p99_ms', 'lost'] },
  // Control plane app reads (see the top); metrics are read as rest_<metric> and grpc_<metric>.
  { name: 'controlplane GetApp c=16', group: 'controlplane', controlplane: true, only: ['sockudo'],
    args: ['controlplane-reads', '--concurrency', '16', '--duration', '10'],
    metrics: ['calls_per_s', 'p50_ms', 'p99_ms', 'max_ms', 'errors', 'server_cpu_us_per_call', 'bench_cpu_share'] },
].filter((s) => !ONLY.length || ONLY.some((o) => s.name.includes(o) || s.group === o));

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

// `env` is added to the server's environment (a cluster's adapter settings); `log`, when given,
// is a file for the server's stdout and stderr (read back when a cluster does not form).
async function startServer(kind, { env = {}, log = null } = {}) {
  const port = await freePort();
  const metricsPort = await freePort();
  const base = { PATH: process.env.PATH, HOME: process.env.HOME || os.tmpdir() };
  const logFd = log ? fs.openSync(log, 'a') : null;
  const stdio = logFd === null ? 'ignore' : ['ignore', logFd, logFd];
  let child;
  if (kind === 'sockudo' || kind === 'baseline') {
    child = spawn(kind === 'sockudo' ? NODE_BIN : BASELINE_BIN, [], { stdio, env: { ...base, HOST: '127.0.0.1', PORT: String(port),
      METRICS_HOST: '127.0.0.1', METRICS_PORT: String(metricsPort), LOG_LEVEL: 'warn',
      SOCKUDO_DEFAULT_APP_MAX_PRESENCE_MEMBERS_PER_CHANNEL: '100000', ...env } });
  } else {
    // soketi reads .env from its working directory: run it in an empty one. Its UDP discovery is
    // pointed at loopback.
    const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'soketi-bench-'));
    child = spawn(process.execPath, [SOKETI_BIN, 'start'], { cwd, stdio, env: { ...base,
      SOKETI_HOST: '127.0.0.1', SOKETI_PORT: String(port), SOKETI_METRICS_SERVER_PORT: String(metricsPort),
      SOKETI_CLUSTER_HOST: '127.0.0.1', SOKETI_CLUSTER_BROADCAST_ADDRESS: '127.0.0.1', SOKETI_CLUSTER_PORT: String(await freePort()),
      SOKETI_DEFAULT_APP_ID: 'app-id', SOKETI_DEFAULT_APP_KEY: 'app-key', SOKETI_DEFAULT_APP_SECRET: 'app-secret',
      SOKETI_PRESENCE_MAX_MEMBERS: '100000', ...env } });
    child.cwdToRemove = cwd;
  }
  if (logFd !== null) fs.closeSync(logFd);  // the child has its own copy
  const server = { kind, port, metricsPort, pid: child.pid, child };
  try {
    await waitReady(port, child);
  } catch (e) {
    await stopServer(server);
    throw e;
  }
  return server;
}

async function stopServer(server) {
  if (server.child.exitCode === null && server.child.signalCode === null) {
    const exited = new Promise((resolve) => server.child.on('exit', resolve));
    server.child.kill('SIGTERM');
    const timer = setTimeout(() => server.child.kill('SIGKILL'), 15000);
    await exited;
    clearTimeout(timer);
  }
  if (server.child.cwdToRemove) fs.rmSync(server.child.cwdToRemove, { recursive: true, force: true });
}

// Sends `text` on a fresh loopback TCP connection; resolves with what arrives until `enough(data)`
// (false on an error or after 1 s).
function tcpExchange(port, text, enough) {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    let data = '';
    const finish = (ok) => { clearTimeout(timer); sock.destroy(); resolve(ok ? data : false); };
    const timer = setTimeout(() => finish(false), 1000);
    sock.on('connect', () => { if (text) sock.write(text); });
    sock.on('data', (d) => { data += d; if (enough(data)) finish(true); });
    sock.on('error', () => finish(false));
  });
}

// Polls `probe` every 100 ms until it returns true, at most `timeoutMs`; throws `what` past it.
async function pollUntil(probe, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await probe()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

// A fresh broker on a free loopback port, without persistence; resolves once it answers.
async function startBroker(driver, log) {
  const port = await freePort();
  const logFd = fs.openSync(log, 'a');
  let child;
  let probe;
  if (driver === 'redis') {
    const bin = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find((p) => fs.existsSync(p));
    if (!bin) throw new Error('redis-server is not installed (make deps)');
    child = spawn(bin, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
      '--dir', path.dirname(log)], { stdio: ['ignore', logFd, logFd] });
    probe = async () => /\+PONG/.test(await tcpExchange(port, 'PING\r\n', (d) => d.includes('\r\n')) || '');
  } else {
    const bin = ['/usr/sbin/nats-server', '/usr/bin/nats-server', '/usr/local/bin/nats-server'].find((p) => fs.existsSync(p));
    if (!bin) throw new Error('nats-server is not installed (make deps)');
    child = spawn(bin, ['-a', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', logFd, logFd] });
    probe = async () => /^INFO /.test(await tcpExchange(port, '', (d) => d.includes('\r\n')) || '');
  }
  fs.closeSync(logFd);
  const broker = { kind: driver, port, pid: child.pid, child };
  try {
    await pollUntil(async () => {
      if (child.exitCode !== null) throw new Error(`${driver} broker exited with ${child.exitCode}`);
      return probe();
    }, 10000, `the ${driver} broker to answer`);
  } catch (e) {
    await stopServer(broker);
    throw e;
  }
  return broker;
}

// The adapter settings that put a node of `kind` on `broker`.
function clusterEnv(kind, broker) {
  if (kind === 'soketi') {
    return broker.kind === 'redis'
      ? { SOKETI_ADAPTER_DRIVER: 'redis', SOKETI_DB_REDIS_HOST: '127.0.0.1', SOKETI_DB_REDIS_PORT: String(broker.port) }
      : { SOKETI_ADAPTER_DRIVER: 'nats', SOKETI_ADAPTER_NATS_SERVERS: JSON.stringify([`127.0.0.1:${broker.port}`]) };
  }
  return broker.kind === 'redis'
    ? { ADAPTER_DRIVER: 'redis', REDIS_URL: `redis://127.0.0.1:${broker.port}` }
    : { ADAPTER_DRIVER: 'nats', NATS_SERVERS: `nats://127.0.0.1:${broker.port}` };
}

// The value of an unlabelled gauge at the node's /metrics, or undefined.
function readGauge(metricsPort, name) {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port: metricsPort, path: '/metrics', timeout: 1000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { body += d; });
      res.on('end', () => {
        const line = body.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
        resolve(line ? Number(line.split(' ').pop()) : undefined);
      });
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
  });
}

const tail = (file) => { try { return fs.readFileSync(file, 'utf8').slice(-600); } catch (_) { return ''; } };

// One cross-node run: broker, node A and node B of `kind`, ready checks, the scenario with
// subscribers on B and publishes to A, then B, A and the broker stopped (only those processes).
async function runCross(kind, scenario) {
  const logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sockudo-bench-cross-'));
  const log = (name) => path.join(logDir, `${name}.log`);
  const nodes = [];
  let broker = null;
  try {
    broker = await startBroker(scenario.broker, log('broker'));
    const env = clusterEnv(kind, broker);
    nodes.push(await startServer(kind, { env, log: log('node-a') }));
    nodes.push(await startServer(kind, { env, log: log('node-b') }));
    const [a, b] = nodes;
    if (kind !== 'soketi') {
      await pollUntil(async () => {
        for (const n of nodes) if ((await readGauge(n.metricsPort, 'sockudo_cluster_nodes')) !== 2) return false;
        return true;
      }, 30000, 'sockudo_cluster_nodes to read 2 on both nodes');
    }
    // Every kind: an event published to A reaches a subscriber on B (bounded: 10 s).
    const probe = spawnSync(BENCH_BIN, ['probe', '--port', String(b.port), '--publish-port', String(a.port), '--duration', '10',
      '--label', kind], { encoding: 'utf8', timeout: 30000 });
    if (probe.status !== 0) throw new Error(`no event crossed from node A to node B: ${(probe.stdout || '').trim()}`);
    const out = runBench(b, scenario, ['--publish-port', String(a.port), '--extra-pid', String(a.pid),
      '--broker-pid', String(broker.pid)]);
    if (typeof out.server_cpu_us_per_msg === 'number') {
      out.nodes_cpu_us_per_msg = out.server_cpu_us_per_msg;
      out.node_a_cpu_us_per_msg = out.extra_cpu_us_per_msg;
      out.node_b_cpu_us_per_msg = out.server_cpu_us_per_msg - out.extra_cpu_us_per_msg;
    }
    return out;
  } catch (e) {
    const logs = ['broker', 'node-a', 'node-b'].map((n) => `${n}: ${tail(log(n))}`).join('\n');
    return { error: `${e.message}\n${logs}` };
  } finally {
    for (const n of nodes.reverse()) await stopServer(n);
    if (broker) await stopServer(broker);
    fs.rmSync(logDir, { recursive: true, force: true });
  }
}

// One webhook run: the app's webhook (channel_occupied, channel_vacated) at a free loopback port
// where sockudo-bench's receiver listens; sockudo reads it from an apps file, soketi from
// SOKETI_DEFAULT_APP_WEBHOOKS. With `webhooks: 'redis'` a fresh redis-server holds the queue.
async function runWebhooks(kind, scenario) {
  const webhookPort = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sockudo-bench-webhooks-'));
  const hooks = [{ url: `http://127.0.0.1:${webhookPort}/hook`, event_types: ['channel_occupied', 'channel_vacated'] }];
  let broker = null;
  let server = null;
  try {
    const env = {};
    if (kind === 'soketi') {
      env.SOKETI_DEFAULT_APP_WEBHOOKS = JSON.stringify(hooks);
    } else {
      const file = path.join(dir, 'apps.json');
      fs.writeFileSync(file, JSON.stringify([{ id: 'app-id', key: 'app-key', secret: 'app-secret', webhooks: hooks }]));
      Object.assign(env, { APP_MANAGER_DRIVER: 'file', APP_MANAGER_FILE_PATH: file });
    }
    if (scenario.webhooks === 'redis') {
      broker = await startBroker('redis', path.join(dir, 'broker.log'));
      Object.assign(env, { QUEUE_DRIVER: 'redis', REDIS_URL: `redis://127.0.0.1:${broker.port}` });
    }
    server = await startServer(kind, { env, log: path.join(dir, 'server.log') });
    return runBench(server, scenario, scenario.args[0] === 'webhooks' ? ['--webhook-port', String(webhookPort)] : []);
  } catch (e) {
    return { error: `${e.message}\n${tail(path.join(dir, 'server.log'))}` };
  } finally {
    if (server) await stopServer(server);
    if (broker) await stopServer(broker);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// One control-plane run: a fresh sockudo-node with its embedded control plane on free loopback
// ports and a random token; once both ports accept, `sockudo-bench controlplane-reads` against it.
async function runControlplane(scenario) {
  const restPort = await freePort();
  const grpcPort = await freePort();
  const token = crypto.randomBytes(16).toString('hex');
  const logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sockudo-bench-cp-'));
  const log = path.join(logDir, 'node.log');
  let server = null;
  try {
    // The node's own log (startup errors) goes to `log`; its audit lines too, so they are written
    // as in production. The file is removed after the run.
    server = await startServer('sockudo', { log, env: { SOCKUDO_CONTROL_PLANE_EMBEDDED: 'true',
      CONTROL_PLANE_REST_HOST: '127.0.0.1', CONTROL_PLANE_REST_PORT: String(restPort),
      CONTROL_PLANE_GRPC_HOST: '127.0.0.1', CONTROL_PLANE_GRPC_PORT: String(grpcPort),
      CONTROL_PLANE_TOKEN: token, LOG_LEVEL: 'info' } });
    await waitReady(restPort, server.child);
    await waitReady(grpcPort, server.child);
    return runBench(server, scenario, ['--rest', `127.0.0.1:${restPort}`, '--grpc', `127.0.0.1:${grpcPort}`, '--token', token]);
  } catch (e) {
    return { error: `${e.message}\n${tail(log)}` };
  } finally {
    if (server) await stopServer(server);
    fs.rmSync(logDir, { recursive: true, force: true });
  }
}

function runBench(server, scenario, more = []) {
  const extra = scenario.args[0] === 'memory' ? ['--metrics-port', String(server.metricsPort)] : [];
  const r = spawnSync(BENCH_BIN, [...scenario.args, ...extra, ...more, '--port', String(server.port), '--server-pid', String(server.pid),
    '--label', server.kind], { encoding: 'utf8', timeout: 240000 });
  const line = (r.stdout || '').trim().split('\n').pop();
  try { return JSON.parse(line); } catch (_) { return { error: (r.stderr || '').slice(-400) }; }
}

const median = (xs) => { const s = xs.filter((x) => typeof x === 'number').sort((a, b) => a - b); return s.length ? s[Math.floor(s.length / 2)] : NaN; };
const fmt = (x) => (Number.isNaN(x) ? '-' : Math.abs(x) >= 100 ? x.toFixed(0) : x.toFixed(2));

async function main() {
  if (SERVERS.includes('baseline') && !fs.existsSync(BASELINE_BIN)) throw new Error('BENCH_BASELINE_BIN must name a sockudo-node binary');
  for (const bin of [NODE_BIN, BENCH_BIN]) if (!fs.existsSync(bin)) throw new Error(`missing ${bin}: run make build`);
  if (!SCENARIOS.length) throw new Error(`--only ${ONLY.join(',')} selects no scenario`);
  const runsOn = (scenario, kind) => SERVERS.includes(kind) && (!scenario.only || scenario.only.includes(kind));
  if (SCENARIOS.some((s) => runsOn(s, 'soketi')) && !fs.existsSync(SOKETI_BIN)) throw new Error('soketi is not installed (make bench installs it)');
  const results = {};
  const loadStart = os.loadavg();
  for (let round = 1; round <= ROUNDS; round++) {
    for (const scenario of SCENARIOS) {
      // Alternate which server goes first so neither always runs on a warmer machine.
      const order = (round % 2 ? SERVERS : [...SERVERS].reverse())
        .filter((k) => !scenario.only || scenario.only.includes(k));
      for (const kind of order) {
        let out;
        if (scenario.broker) {
          out = await runCross(kind, scenario);
        } else if (scenario.controlplane) {
          out = await runControlplane(scenario);
        } else if (scenario.webhooks) {
          out = await runWebhooks(kind, scenario);
        } else {
          const server = await startServer(kind);
          out = runBench(server, scenario);
          await stopServer(server);
        }
        ((results[scenario.name] ||= {})[kind] ||= []).push(out);
        process.stderr.write(`round ${round} ${scenario.name} ${kind}: ${JSON.stringify(out)}\n`);
      }
    }
  }
  const loadEnd = os.loadavg();
  fs.writeFileSync(path.join(buildDir, 'bench-results.json'), JSON.stringify(results, null, 1));
  const sideBySide = SCENARIOS.filter((s) => !s.controlplane);
  if (sideBySide.length) printSideBySide(sideBySide, results);
  for (const scenario of SCENARIOS.filter((s) => s.controlplane)) printControlplane(scenario, results, loadStart, loadEnd);
}

// Prints `rows` (the first is the header) as a Markdown table.
function printTable(rows) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  const line = (r) => `| ${r.map((c, i) => String(c).padEnd(widths[i])).join(' | ')} |`;
  console.log(line(rows[0]));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const r of rows.slice(1)) console.log(line(r));
}

// The control-plane group: REST vs gRPC of sockudo alone (soketi has no control plane). Medians
// over the rounds, except errors: their sum. Any error, or a run without a result, sets exit 1.
function printControlplane(scenario, results, loadStart, loadEnd) {
  const runs = (results[scenario.name] || {}).sockudo || [];
  const load = (l) => l.map((x) => x.toFixed(2)).join(' ');
  console.log(`\n${scenario.name}: sockudo only (soketi has no control plane, so no peer column). Median of ` +
    `${runs.length} run(s); ${os.cpus().length} cores shared by the node and the load generator; ` +
    `load average (1/5/15 min) ${load(loadStart)} before, ${load(loadEnd)} after:\n`);
  const rows = [['metric', 'REST', 'gRPC']];
  for (const metric of scenario.metrics) {
    const values = ['rest', 'grpc'].map((t) => {
      const xs = runs.map((o) => o[`${t}_${metric}`]);
      return metric === 'errors' ? (xs.every((x) => typeof x === 'number') ? xs.reduce((a, b) => a + b, 0) : NaN) : median(xs);
    });
    rows.push([metric, ...values.map((x) => (metric === 'errors' && !Number.isNaN(x) ? String(x) : fmt(x)))]);
  }
  printTable(rows);
  const failures = runs.flatMap((o, i) => [
    ...(o.error ? [`run ${i + 1}: ${o.error}`] : []),
    ...['rest', 'grpc'].filter((t) => !o.error && (o[`${t}_first_error`] || o[`${t}_errors`] !== 0))
      .map((t) => `run ${i + 1} ${t}: ${o[`${t}_errors`]} error(s), first: ${o[`${t}_first_error`] || '-'}`)]);
  if (!runs.length) failures.push('no run (is sockudo in --servers?)');
  for (const f of failures) console.log(`FAILED ${f}`);
  if (failures.length) process.exitCode = 1;
}

function printSideBySide(scenarios, results) {
  const rows = [['scenario', 'metric', ...SERVERS, SERVERS.length > 1 ? `${SERVERS[0]}/${SERVERS[1]}` : '']];
  for (const scenario of scenarios) {
    for (const metric of scenario.metrics) {
      const values = SERVERS.map((k) => median((results[scenario.name][k] || []).map((o) => o[metric])));
      const ratio = values.length > 1 && values[1] && !Number.isNaN(values[0]) ? values[0] / values[1] : NaN;
      rows.push([scenario.name, metric, ...values.map(fmt), Number.isNaN(ratio) ? '-' : `${ratio.toFixed(2)}x`]);
    }
  }
  console.log(`\nMedian of ${ROUNDS} round(s), ${os.cpus().length} cores, loopback:\n`);
  printTable(rows);
}

main().catch((e) => { console.error(e.message); process.exit(1); });

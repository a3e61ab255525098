// Real message brokers for the cluster tests: redis-server and nats-server started on free
// loopback ports, waited for until they answer, and stopped (only the processes started here).
'use strict';
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { freePort } = require('./server');
const { waitFor } = require('./wait');

function which(name, candidates) {
  for (const c of candidates) if (fs.existsSync(c)) return c;
  throw new Error(`${name} is not installed (looked in ${candidates.join(', ')}); run make deps`);
}

// Sends `text` on a fresh TCP connection and resolves with what arrives before `done(data)`
// says enough, or rejects on error.
function tcpExchange(port, text, done, timeoutMs = 1000) {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ port, host: '127.0.0.1' });
    let data = '';
    const timer = setTimeout(() => { sock.destroy(); reject(new Error('no answer')); }, timeoutMs);
    sock.on('connect', () => { if (text) sock.write(text); });
    sock.on('data', (d) => {
      data += d;
      if (done(data)) { clearTimeout(timer); sock.destroy(); resolve(data); }
    });
    sock.on('error', (e) => { clearTimeout(timer); reject(e); });
  });
}

// Sends one RESP command and reads one reply that is not an array.
async function redisCommand(port, args) {
  const request = `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;
  const complete = (d) => {
    if (!d.includes('\r\n')) return false;
    if (d[0] !== '$' || d.startsWith('$-1')) return true;
    return d.split('\r\n').length >= 3;
  };
  const reply = await tcpExchange(port, request, complete);
  if (reply.startsWith('$-1')) return null;
  if (reply[0] === '$') return reply.split('\r\n')[1];
  if (reply[0] === ':') return Number(reply.slice(1));
  if (reply[0] === '-') throw new Error(reply.trim());
  return reply.slice(1).trim();
}

// A broker process that can be killed and started again on the same port (same arguments), as
// an operator restarting it would. `probe` resolves truthy once it answers.
function spawnBroker(binary, args, what, probe) {
  let child;
  let output = '';
  let exited = null;
  let exitPromise;
  const launch = () => {
    exited = null;
    child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (d) => { output += d; });
    child.stderr.on('data', (d) => { output += d; });
    exitPromise = new Promise((resolve) => child.on('exit', (code, signal) => { exited = { code, signal }; resolve(); }));
  };
  const whenUp = () => waitFor(async () => {
    if (exited) throw new Error(`${what} exited (${JSON.stringify(exited)}):\n${output}`);
    try { return await probe(); } catch (_) { return false; }
  }, { timeoutMs: 10000, what: `${what} to answer` });
  const broker = {
    output: () => output,
    exited: () => exited,
    pid: () => child.pid,
    async stop() {
      if (!exited) {
        child.kill('SIGKILL');
        await exitPromise;
      }
    },
    async start() {
      launch();
      await whenUp();
    },
    async restart() {
      await broker.stop();
      await broker.start();
    },
  };
  return broker;
}

// redis-server without persistence; `url` is what REDIS_URL takes.
async function startRedis() {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sockudo-redis-'));
  const broker = spawnBroker(which('redis-server', ['/usr/bin/redis-server', '/usr/local/bin/redis-server']),
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    `redis-server on port ${port}`,
    async () => /\+PONG/.test(await tcpExchange(port, 'PING\r\n', (d) => d.includes('\r\n'))));
  await broker.start();
  return Object.assign(broker, {
    port, url: `redis://127.0.0.1:${port}`,
    env: { ADAPTER_DRIVER: 'redis', REDIS_URL: `redis://127.0.0.1:${port}` },
    // One command; a bulk string, an integer, a status, or null.
    command: (args) => redisCommand(port, args),
  });
}

// nats-server on loopback; `url` is what NATS_SERVERS takes.
async function startNats() {
  const port = await freePort();
  const broker = spawnBroker(which('nats-server', ['/usr/sbin/nats-server', '/usr/bin/nats-server', '/usr/local/bin/nats-server']),
    ['-a', '127.0.0.1', '-p', String(port)], `nats-server on port ${port}`,
    async () => /^INFO /.test(await tcpExchange(port, '', (d) => d.includes('\r\n'))));
  await broker.start();
  return Object.assign(broker, { port, url: `nats://127.0.0.1:${port}`, env: { ADAPTER_DRIVER: 'nats', NATS_SERVERS: `nats://127.0.0.1:${port}` } });
}

// A real Redis Cluster of three masters (no replicas), formed with `redis-cli --cluster create`.
// stop() kills the three processes; start() starts them again with their nodes.conf, so the
// cluster re-forms with the same slots, as after an operator restarts it.
async function startRedisCluster({ masters = 3 } = {}) {
  const redisServer = which('redis-server', ['/usr/bin/redis-server', '/usr/local/bin/redis-server']);
  const redisCli = which('redis-cli', ['/usr/bin/redis-cli', '/usr/local/bin/redis-cli']);
  const nodes = [];
  for (let i = 0; i < masters; i++) {
    const port = await freePort();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sockudo-redis-cluster-'));
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir,
      '--cluster-enabled', 'yes', '--cluster-config-file', path.join(dir, 'nodes.conf'), '--cluster-node-timeout', '2000'];
    const broker = spawnBroker(redisServer, args, `redis-server (cluster) on port ${port}`,
      async () => /\+PONG/.test(await tcpExchange(port, 'PING\r\n', (d) => d.includes('\r\n'))));
    await broker.start();
    nodes.push({ port, broker });
  }
  const clusterOk = async () => {
    for (const n of nodes) {
      const info = await tcpExchange(n.port, 'CLUSTER INFO\r\n', (d) => /cluster_known_nodes:\d+/.test(d));
      if (!/cluster_state:ok/.test(info) || !new RegExp(`cluster_known_nodes:${masters}\\b`).test(info)) return false;
    }
    return true;
  };
  const create = spawnSync(redisCli, ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-yes'],
    { encoding: 'utf8', timeout: 30000 });
  if (create.status !== 0) {
    for (const n of nodes) await n.broker.stop();
    throw new Error(`redis-cli --cluster create failed:\n${create.stdout}${create.stderr}`);
  }
  const waitOk = () => waitFor(async () => { try { return await clusterOk(); } catch (_) { return false; } },
    { timeoutMs: 20000, what: 'the Redis Cluster to be ok' });
  await waitOk();
  const seeds = nodes.map((n) => `127.0.0.1:${n.port}`).join(',');
  return {
    nodes, seeds,
    env: { ADAPTER_DRIVER: 'redis-cluster', REDIS_CLUSTER_NODES: seeds },
    output: () => nodes.map((n) => n.broker.output()).join('\n'),
    async stop() { for (const n of nodes) await n.broker.stop(); },
    async start() {
      for (const n of nodes) await n.broker.start();
      await waitOk();
    },
    async restart() { await this.stop(); await this.start(); },
  };
}

// The same cluster used with Redis 7 sharded pub/sub (SSUBSCRIBE / SPUBLISH on slot owners).
async function startShardedRedisCluster() {
  const cluster = await startRedisCluster();
  cluster.env = { ...cluster.env, ADAPTER_CLUSTER_USE_SHARDED_PUBSUB: 'true' };
  return cluster;
}

const BROKERS = { redis: startRedis, nats: startNats, 'redis-cluster': startRedisCluster,
                  'redis-cluster-sharded': startShardedRedisCluster };

module.exports = { startRedis, startNats, startRedisCluster, BROKERS, tcpExchange };

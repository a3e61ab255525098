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

// A real Redis Cluster of three masters (no replicas unless `replicas` per master is given), formed
// with `redis-cli --cluster create`. stop() kills the processes; start() starts them again with
// their nodes.conf, so the cluster re-forms with the same slots, as after an operator restarts it.
async function startRedisCluster({ masters = 3, replicas = 0 } = {}) {
  const redisServer = which('redis-server', ['/usr/bin/redis-server', '/usr/local/bin/redis-server']);
  const redisCli = which('redis-cli', ['/usr/bin/redis-cli', '/usr/local/bin/redis-cli']);
  const nodes = [];
  const total = masters * (1 + replicas);
  for (let i = 0; i < total; i++) {
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
      if (!/cluster_state:ok/.test(info) || !new RegExp(`cluster_known_nodes:${total}\\b`).test(info)) return false;
    }
    if (replicas) {
      // Every node knows the replicas as replicas, and each replica's link to its master is up.
      for (const n of nodes) {
        const seen = await clusterNodes(n.port);
        if (seen.filter((x) => !x.master).length !== masters * replicas) return false;
        const info = await respCommand(n.port, ['INFO', 'replication']);
        if (/role:slave/.test(info) && !/master_link_status:up/.test(info)) return false;
      }
    }
    return true;
  };
  const create = spawnSync(redisCli, ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`),
    ...(replicas ? ['--cluster-replicas', String(replicas)] : []), '--cluster-yes'],
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

// One RESP command on a fresh connection, any reply type (arrays parsed), for fixtures that need
// CLUSTER NODES, SENTINEL or ROLE answers.
function respCommand(port, args, timeoutMs = 2000) {
  const request = `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(String(a))}\r\n${a}\r\n`).join('')}`;
  const parse = (buf, i) => {  // -> [value, next index] or null when incomplete
    const eol = buf.indexOf('\r\n', i);
    if (eol < 0) return null;
    const head = buf.slice(i + 1, eol);
    switch (buf[i]) {
      case '+': return [head, eol + 2];
      case '-': return [new Error(head), eol + 2];
      case ':': return [Number(head), eol + 2];
      case '$': {
        const n = Number(head);
        if (n < 0) return [null, eol + 2];
        if (buf.length - (eol + 2) < n + 2) return null;  // latin1: one char per byte
        return [buf.slice(eol + 2, eol + 2 + n), eol + 2 + n + 2];
      }
      case '*': {
        const n = Number(head);
        if (n < 0) return [null, eol + 2];
        const out = [];
        let j = eol + 2;
        for (let k = 0; k < n; k++) {
          const r = parse(buf, j);
          if (!r) return null;
          out.push(r[0]);
          j = r[1];
        }
        return [out, j];
      }
      default: throw new Error(`bad RESP reply ${JSON.stringify(buf.slice(i, i + 40))}`);
    }
  };
  return new Promise((resolve, reject) => {
    const sock = net.connect({ port, host: '127.0.0.1' });
    let data = '';
    const timer = setTimeout(() => { sock.destroy(); reject(new Error(`no answer to ${args[0]} on port ${port}`)); }, timeoutMs);
    sock.setEncoding('latin1');
    sock.on('connect', () => sock.write(request));
    sock.on('data', (d) => {
      data += d;
      const r = parse(data, 0);
      if (!r) return;
      clearTimeout(timer);
      sock.destroy();
      if (r[0] instanceof Error) reject(r[0]); else resolve(r[0]);
    });
    sock.on('error', (e) => { clearTimeout(timer); reject(e); });
  });
}

// The nodes of a Redis Cluster as its node on `port` sees them (CLUSTER NODES): [{id, port,
// master: bool, failed: bool, masterId}].
async function clusterNodes(port) {
  const text = await respCommand(port, ['CLUSTER', 'NODES']);
  return text.trim().split('\n').map((line) => {
    const f = line.split(' ');
    return { id: f[0], port: Number(f[1].split('@')[0].split(':').pop()), master: f[2].includes('master'),
             failed: /fail/.test(f[2]), masterId: f[3] === '-' ? null : f[3], myself: f[2].includes('myself') };
  });
}

// A Sentinel-managed Redis: one master, one replica, one sentinel (quorum 1, down after 1 s), so
// that a failover (forced with SENTINEL FAILOVER, or by killing the master) takes a second or
// two. `env` points a redis-driver node at the sentinel (DATABASE_REDIS_SENTINELS).
async function startRedisSentinel({ name = 'mymaster' } = {}) {
  const redisServer = which('redis-server', ['/usr/bin/redis-server', '/usr/local/bin/redis-server']);
  const pong = (port) => async () => /\+PONG/.test(await tcpExchange(port, 'PING\r\n', (d) => d.includes('\r\n')));
  const servers = [];
  const started = [];
  try {
    for (let i = 0; i < 2; i++) {
      const port = await freePort();
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sockudo-redis-sentinel-data-'));
      const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir];
      if (i === 1) args.push('--replicaof', '127.0.0.1', String(servers[0].port));
      const broker = spawnBroker(redisServer, args, `redis-server (sentinel-managed) on port ${port}`, pong(port));
      await broker.start();
      started.push(broker);
      servers.push({ port, broker });
    }
    await waitFor(async () => /master_link_status:up/.test(await respCommand(servers[1].port, ['INFO', 'replication']).catch(() => '')),
      { timeoutMs: 10000, what: 'the replica to sync' });
    const sentinelPort = await freePort();
    const sdir = fs.mkdtempSync(path.join(os.tmpdir(), 'sockudo-redis-sentinel-'));
    const conf = path.join(sdir, 'sentinel.conf');
    fs.writeFileSync(conf, [
      `port ${sentinelPort}`, 'bind 127.0.0.1', `dir ${sdir}`,
      `sentinel monitor ${name} 127.0.0.1 ${servers[0].port} 1`,
      `sentinel down-after-milliseconds ${name} 1000`,
      `sentinel failover-timeout ${name} 5000`,
      `sentinel parallel-syncs ${name} 1`, '',
    ].join('\n'));
    const sentinel = spawnBroker(redisServer, [conf, '--sentinel'], `redis sentinel on port ${sentinelPort}`, pong(sentinelPort));
    await sentinel.start();
    started.push(sentinel);
    const masterPort = async () => Number((await respCommand(sentinelPort, ['SENTINEL', 'get-master-addr-by-name', name]))[1]);
    // Resolves with the master's port once the sentinel names another one than `before` and that
    // server says it is master.
    const newMaster = (before, options) => waitFor(async () => {
      try {
        const now = await masterPort();
        if (now === before) return false;
        const role = await respCommand(now, ['ROLE']);
        return role[0] === 'master' ? now : false;
      } catch (_) { return false; }
    }, options);
    const replicaReady = async () => {
      const replicas = await respCommand(sentinelPort, ['SENTINEL', 'replicas', name]);
      return replicas.some((r) => {
        const o = {};
        for (let k = 0; k + 1 < r.length; k += 2) o[r[k]] = r[k + 1];
        return o.flags === 'slave' && o['master-link-status'] === 'ok';
      });
    };
    await waitFor(async () => { try { return await replicaReady(); } catch (_) { return false; } },
      { timeoutMs: 15000, what: 'the sentinel to see a healthy replica' });
    const s = {
      servers, sentinelPort, name, sentinel,
      env: { ADAPTER_DRIVER: 'redis', DATABASE_REDIS_SENTINELS: `127.0.0.1:${sentinelPort}`, DATABASE_REDIS_NAME: name },
      masterPort,
      output: () => [...servers.map((x) => x.broker.output()), sentinel.output()].join('\n'),
      // Forces a failover and resolves with the new master's port once it is master and the
      // sentinel names it.
      async failover() {
        const before = await masterPort();
        await waitFor(async () => {
          if (!(await replicaReady().catch(() => false))) return false;
          try { await respCommand(sentinelPort, ['SENTINEL', 'FAILOVER', name]); return true; } catch (_) { return false; }
        }, { timeoutMs: 45000, intervalMs: 200, what: 'SENTINEL FAILOVER to be accepted' });
        return newMaster(before, { timeoutMs: 15000, what: 'the sentinel to name a new master' });
      },
      // Kills the master (-9); resolves with the new master's port once the sentinel promoted it.
      async killMaster() {
        const before = await masterPort();
        await servers.find((x) => x.port === before).broker.stop();
        return newMaster(before, { timeoutMs: 30000, intervalMs: 100, what: 'the sentinel to promote the replica' });
      },
      async stop() { for (const b of [sentinel, ...servers.map((x) => x.broker)]) await b.stop(); },
    };
    return s;
  } catch (e) {
    for (const b of started) await b.stop().catch(() => {});
    throw e;
  }
}

const BROKERS = { redis: startRedis, nats: startNats, 'redis-cluster': startRedisCluster,
                  'redis-cluster-sharded': startShardedRedisCluster };

// One command on a started redis broker, or on the Redis Cluster master that owns its key (the
// others answer MOVED, which respCommand rejects).
async function keyCommand(broker, args) {
  const ports = broker.nodes ? broker.nodes.map((n) => n.port) : [broker.port];
  let last = null;
  for (const port of ports) {
    try { return await respCommand(port, args); } catch (e) { last = e; }
  }
  throw last;
}

module.exports = { startRedis, startNats, startRedisCluster, startRedisSentinel, BROKERS, tcpExchange, respCommand, keyCommand, clusterNodes };

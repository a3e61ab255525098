// Real message brokers for the cluster tests: redis-server and nats-server started on free
// loopback ports, waited for until they answer, and stopped (only the processes started here).
'use strict';
const { spawn } = require('node:child_process');
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
  return Object.assign(broker, { port, url: `redis://127.0.0.1:${port}`, env: { ADAPTER_DRIVER: 'redis', REDIS_URL: `redis://127.0.0.1:${port}` } });
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

const BROKERS = { redis: startRedis, nats: startNats };

module.exports = { startRedis, startNats, BROKERS, tcpExchange };

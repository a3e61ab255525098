// The process as an operator sees it: flags, config errors, listeners (TLS, Unix socket) and the
// drain on SIGTERM.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const https = require('node:https');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const WebSocket = require('ws');
const { startServer, runOnce, writeConfig, firstFrame } = require('../support/server');
const { RawClient } = require('../support/raw_client');
const { httpRequest, waitFor, TIME_SCALE } = require('../support/wait');

test('--help and --version', async () => {
  const help = await runOnce(['--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--check-config/);
  const version = await runOnce(['--version']);
  assert.equal(version.code, 0);
  assert.match(version.stdout, /^sockudo-node \d+\.\d+\.\d+/);
  const bad = await runOnce(['--frobnicate']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /unknown argument "--frobnicate"/);
});

test('--check-config prints the effective config with secrets masked', async () => {
  const file = writeConfig({ port: 7777, app_manager: { array: { apps: [{ id: 'a', key: 'k', secret: 'very-secret' }] } }, surprise: 1 });
  const r = await runOnce(['--config', file, '--check-config'], { CONTROL_PLANE_TOKEN: 'token-xyz' });
  assert.equal(r.code, 0, r.stderr);
  const printed = JSON.parse(r.stdout);
  assert.equal(printed.port, 7777);
  assert.equal(printed.app_manager.array.apps[0].secret, '********');
  assert.equal(printed.control_plane.auth_token, '********');
  assert.doesNotMatch(r.stdout, /very-secret|token-xyz/);
  assert.match(r.stderr, /surprise: unknown key/);
});

test('invalid configuration stops startup with exit 2 and names every bad key and value', async () => {
  const file = writeConfig({ port: 'six', adapter: { driver: 'carrier-pigeon' } });
  const r = await runOnce(['--config', file], { ACTIVITY_TIMEOUT: '-3', SOCKUDO_DEFAULT_APP_ID: 'only-id' });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /config error: port: expected an integer, got "six"/);
  assert.match(r.stderr, /config error: adapter.driver: unknown driver "carrier-pigeon" \(expected local, redis, redis-cluster, nats\)/);
  assert.match(r.stderr, /config error: ACTIVITY_TIMEOUT: must be >= 1, got -3/);
  assert.match(r.stderr, /config error: SOCKUDO_DEFAULT_APP_KEY: required/);
  const missing = await runOnce(['--config', '/nonexistent/sockudo.json']);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /cannot read file/);
  const broken = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sockudo-')), 'c.json');
  fs.writeFileSync(broken, '{"port": 6001,');
  assert.match((await runOnce(['--config', broken])).stderr, /not a valid JSON object/);
});

test('a port already in use is a clear startup error', async () => {
  const server = await startServer();
  try {
    const r = await runOnce([], { HOST: '127.0.0.1', PORT: String(server.port), METRICS_PORT: '1' });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /cannot listen on 127.0.0.1:\d+/);
  } finally {
    await server.stop();
  }
});

// Runs `body(server, dir)` against a server started with `env(dir)` in a fresh temp directory,
// then stops the server and removes the directory.
async function withServerInTempDir(prefix, env, body) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  try {
    const server = await startServer({ env: env(dir) });
    try {
      await body(server, dir);
    } finally {
      await server.stop();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function expectEstablished(url, options = {}) {
  const ws = new WebSocket(url, options);
  const first = await firstFrame(ws);
  assert.equal(first.event, 'pusher:connection_established');
  ws.close();
}

test('Unix socket listener serves WebSocket and HTTP', async () => {
  const socket = (dir) => path.join(dir, 'node.sock');
  await withServerInTempDir('sockudo-unix-',
    (dir) => ({ UNIX_SOCKET_ENABLED: 'true', UNIX_SOCKET_PATH: socket(dir), UNIX_SOCKET_PERMISSION_MODE: '600' }),
    async (_server, dir) => {
      assert.equal(fs.statSync(socket(dir)).mode & 0o777, 0o600);
      assert.equal((await httpRequest({ socketPath: socket(dir), path: '/' })).text, 'OK');
      await expectEstablished(`ws+unix://${socket(dir)}:/app/app-key`);
    });
});

test('TLS listener', async () => {
  await withServerInTempDir('sockudo-tls-', (dir) => {
    const cert = path.join(dir, 'cert.pem');
    const key = path.join(dir, 'key.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert,
      '-days', '1', '-subj', '/CN=127.0.0.1'], { stdio: 'ignore' });
    return { SSL_ENABLED: 'true', SSL_CERT_PATH: cert, SSL_KEY_PATH: key };
  }, async (server) => {
    const body = await new Promise((resolve, reject) => {
      https.get({ host: '127.0.0.1', port: server.port, path: '/', rejectUnauthorized: false }, (res) => {
        let t = ''; res.on('data', (d) => { t += d; }); res.on('end', () => resolve(t));
      }).on('error', reject);
    });
    assert.equal(body, 'OK');
    await expectEstablished(`wss://127.0.0.1:${server.port}/app/app-key`, { rejectUnauthorized: false });
  });
});

test('SIGTERM drains: open sockets get 4200 and the process exits 0', async () => {
  const server = await startServer();
  const clients = await Promise.all([0, 1, 2].map(() => RawClient.connect(server)));
  const exit = await server.stop();
  assert.equal(exit.code, 0);
  for (const c of clients) {
    const closed = await c.closedPromise;
    assert.equal(closed.code, 4200);
    assert.equal(c.events('pusher:error')[0].data.code, 4200);
  }
});

// A WebSocket client that completes its handshake and then never reads or answers again: its
// close handshake can only end by the server's close timeout.
function muteClient(port) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.write(`GET /app/app-key?protocol=7 HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n` +
        'Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
    });
    socket.once('data', (d) => {
      if (!/^HTTP\/1\.1 101/.test(d.toString())) return reject(new Error(`no upgrade: ${d}`));
      socket.pause();
      resolve(socket);
    });
    socket.on('error', () => {});
  });
}

test('SIGTERM with a spread: /ready answers 503 while draining, the 4200 closes are even over the spread, and the whole shutdown fits the grace period though a client never answers its close', async () => {
  const grace = 4;
  const server = await startServer({ env: { SHUTDOWN_GRACE_PERIOD: String(grace), SHUTDOWN_DRAIN_SPREAD_SECONDS: '2' } });
  const clients = await Promise.all(Array.from({ length: 8 }, () => RawClient.connect(server)));
  const closedAt = clients.map((c) => c.closedPromise.then(() => Date.now()));
  const mute = await muteClient(server.port);
  const sigterm = Date.now();
  server.child.kill('SIGTERM');
  await waitFor(async () => {
    try {
      const r = await httpRequest({ port: server.metricsPort, path: '/ready' });
      return r.status === 503;
    } catch (_) {
      return false;
    }
  }, { timeoutMs: 2000, what: '/ready to answer 503 while the node drains' });
  const exit = await server.stop();
  const tookMs = Date.now() - sigterm;
  mute.destroy();
  assert.equal(exit.code, 0);
  // The mute client's close could only end by the 5 s close timeout: the node cut it instead.
  assert.ok(tookMs <= grace * 1000 + 1000 * TIME_SCALE, `the node exited ${tookMs} ms after SIGTERM (grace ${grace} s)`);
  const times = (await Promise.all(closedAt)).sort((a, b) => a - b);
  for (const c of clients) assert.equal(c.closed.code, 4200);
  // 8 sockets (and the mute one) over 2 s on 2 workers: a close every ~0.5 s per worker, not all
  // in the first slices.
  const firstHalf = times.filter((t) => t - sigterm < 1000).length;
  assert.ok(times[times.length - 1] - times[0] >= 1000, `closes spread over ${times[times.length - 1] - times[0]} ms`);
  assert.ok(firstHalf <= 5, `${firstHalf} of 8 sockets closed in the first second of the 2 s spread`);
});

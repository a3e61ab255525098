// Per-IP rate limits of the HTTP API and of WebSocket upgrades (rate_limiter.enabled, driver
// `memory`; spec/backends.md §4): X-RateLimit-* headers on allowed answers, 429 with the JSON
// body and Retry-After when spent, an upgrade refused before switching protocols, separate
// windows per client IP behind a trusted proxy (X-Forwarded-For with trust_hops), the counts in
// /metrics; and rate_limiter.driver `none`, which turns every limit off (per-app ones too).
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const net = require('node:net');
const { startServer } = require('../support/server');
const { apiRequest } = require('../support/raw_client');
const { httpRequest } = require('../support/wait');

const APPS = [
  { id: 'app-id', key: 'app-key', secret: 'app-secret' },
  { id: 'limited', key: 'limited-key', secret: 'limited-secret', max_backend_events_per_second: 1 },
];

// A raw upgrade request; resolves with the status line and headers of the answer.
function upgrade(port, headers = {}) {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ port, host: '127.0.0.1' });
    let data = '';
    sock.on('connect', () => {
      const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
      sock.write('GET /app/app-key?protocol=7 HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n' +
                 'Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n' +
                 `Sec-WebSocket-Version: 13\r\n${extra}\r\n`);
    });
    sock.on('data', (d) => {
      data += d;
      if (data.includes('\r\n\r\n')) { sock.destroy(); resolve(data); }
    });
    sock.on('error', reject);
  });
}

let server;
before(async () => {
  server = await startServer({
    env: { RATE_LIMITER_ENABLED: 'true', RATE_LIMITER_API_MAX_REQUESTS: '3', RATE_LIMITER_API_WINDOW_SECONDS: '60',
           RATE_LIMITER_WS_MAX_REQUESTS: '2', RATE_LIMITER_API_TRUST_HOPS: '1', RATE_LIMITER_WS_TRUST_HOPS: '1' },
    config: { app_manager: { array: { apps: APPS } } },
  });
});
after(() => server && server.stop());

test('the HTTP API: three requests per client IP, then 429 with the headers of the spec', async () => {
  const get = (ip) => httpRequest({ port: server.port, path: '/apps/app-id/channels', headers: { 'X-Forwarded-For': `${ip}, 10.0.0.2` } });
  // trust_hops 1: the right-most X-Forwarded-For entry is the client (the proxy's view).
  for (let i = 1; i <= 3; i++) {
    const r = await get('ignored');
    assert.notEqual(r.status, 429, `request ${i}`);
    assert.equal(r.headers['x-ratelimit-limit'], '3');
    assert.equal(r.headers['x-ratelimit-remaining'], String(3 - i));
    assert.ok(Number(r.headers['x-ratelimit-reset']) >= 59);
  }
  const denied = await get('ignored');
  assert.equal(denied.status, 429);
  assert.deepEqual(denied.json, { error: 'Too many requests.', code: 429 });
  assert.equal(denied.headers['x-ratelimit-remaining'], '0');
  assert.ok(Number(denied.headers['retry-after']) >= 59);
  assert.equal(denied.headers['retry-after'], denied.headers['x-ratelimit-reset']);
  // Another client behind the same proxy has its own window; signed requests count the same.
  const other = await httpRequest({ port: server.port, path: '/apps/app-id/channels', headers: { 'X-Forwarded-For': '198.51.100.4, 10.0.0.9' } });
  assert.equal(other.headers['x-ratelimit-remaining'], '2');
  // Operational endpoints are not limited.
  const health = await httpRequest({ port: server.port, path: '/up/app-id' });
  assert.notEqual(health.status, 429);
  assert.equal(health.headers['x-ratelimit-limit'], undefined);
});

test('WebSocket upgrades: two per client IP, the third refused with 429 before switching protocols', async () => {
  const fresh = { 'X-Forwarded-For': '203.0.113.50' };
  const first = await upgrade(server.port, fresh);
  assert.match(first, /^HTTP\/1\.1 101 /);
  assert.match(await upgrade(server.port, fresh), /^HTTP\/1\.1 101 /);
  const third = await upgrade(server.port, fresh);
  assert.match(third, /^HTTP\/1\.1 429 /);
  assert.match(third, /\r\nRetry-After: \d+\r\n/i);
  assert.match(third, /"Too many requests\."/);
  assert.match(await upgrade(server.port, { 'X-Forwarded-For': '203.0.113.51' }), /^HTTP\/1\.1 101 /);
});

test('the checks and refusals are counted in /metrics', async () => {
  const text = (await httpRequest({ port: server.metricsPort, path: '/metrics' })).text;
  const sample = (name, limiter) => Number((text.match(new RegExp(`^sockudo_${name}\\{limiter="${limiter}"[^}]*\\} (\\d+)`, 'm')) || [])[1]);
  assert.ok(sample('rate_limit_checks_total', 'api') >= 5, text.match(/rate_limit.*/g).join('\n'));
  assert.ok(sample('rate_limit_triggered_total', 'api') >= 1);
  assert.ok(sample('rate_limit_checks_total', 'websocket_connect') >= 4);
  assert.equal(sample('rate_limit_triggered_total', 'websocket_connect'), 1);
  assert.match(text, /^sockudo_rate_limit_backend_errors_total\{[^}]*\} 0$/m);
  // A refused API call is an answered call of its app, like any other.
  assert.match(text, /^sockudo_http_calls_received_total\{app_id="app-id",[^}]*status="429"\} [1-9]/m);
});

test('per-app limits use the same store: backend events over budget answer 429', async () => {
  const post = () => apiRequest(server, { method: 'POST', path: '/apps/limited/events', key: 'limited-key', secret: 'limited-secret',
    body: { name: 'e', data: 'd', channels: ['a', 'b'] } });
  // Two channels cost 2 tokens of a 1-per-second bucket: never allowed.
  const r = await post();
  assert.equal(r.status, 429);
  assert.equal(r.headers['x-ratelimit-limit'], '1');  // the app's limit, not the per-IP one
});

test('rate_limiter.driver none: no per-IP and no per-app limits at all', async () => {
  const open = await startServer({
    env: { RATE_LIMITER_ENABLED: 'true', RATE_LIMITER_DRIVER: 'none', RATE_LIMITER_API_MAX_REQUESTS: '1' },
    config: { app_manager: { array: { apps: APPS } } },
  });
  try {
    for (let i = 0; i < 3; i++) {
      const r = await httpRequest({ port: open.port, path: '/apps/app-id/channels' });
      assert.notEqual(r.status, 429);
      assert.equal(r.headers['x-ratelimit-limit'], undefined);
    }
    const events = await apiRequest(open, { method: 'POST', path: '/apps/limited/events', key: 'limited-key', secret: 'limited-secret',
      body: { name: 'e', data: 'd', channels: ['a', 'b'] } });
    assert.equal(events.status, 200, events.text);
  } finally {
    await open.stop();
  }
});

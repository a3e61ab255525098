// The HTTP API by hand-signed requests (spec/http-api.md): authentication order, validation,
// status codes and error bodies, info attributes, operational endpoints, CORS and metrics.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const net = require('node:net');
const Pusher = require('pusher');
const { useServer } = require('../support/server');
const { RawClient, apiRequest } = require('../support/raw_client');
const { httpRequest } = require('../support/wait');

const ctx = useServer({
    config: {
      http_api: { request_limit_in_mb: 1 },
      app_manager: { array: { apps: [
        { id: 'app-id', key: 'app-key', secret: 'app-secret' },
        { id: 'off', key: 'off-key', secret: 'off-secret', enabled: false },
        { id: 'limited', key: 'limited-key', secret: 'limited-secret', max_backend_events_per_second: 2 },
      ] } },
    },
  });

const event = (extra = {}) => ({ name: 'e', data: 'd', channel: 'c', ...extra });

test('authentication failures in spec order with JSON bodies', async () => {
  const unknown = await apiRequest(ctx.server, { method: 'POST', path: '/apps/unknown-app/events', body: event() });
  assert.equal(unknown.status, 404);
  assert.deepEqual(unknown.json, { error: 'The app unknown-app could not be found.', code: 404 });
  assert.match(unknown.headers['content-type'], /^application\/json/);

  const cases = [
    [{ key: 'off-key' }, 'Invalid auth_key'],
    [{ timestamp: Math.floor(Date.now() / 1000) - 610 }, 'Timestamp expired or too far in the future'],
    [{ timestamp: Math.floor(Date.now() / 1000) + 610 }, 'Timestamp expired or too far in the future'],
    [{ override: { params: { body_md5: '0'.repeat(32) } } }, 'body_md5 mismatch'],
    [{ override: { signature: 'f'.repeat(64) } }, 'Invalid signature'],
    [{ secret: 'off-secret' }, 'Invalid signature'],
    [{ override: { body: JSON.stringify(event({ name: 'tampered' })) } }, 'body_md5 mismatch'],
  ];
  for (const [opts, message] of cases) {
    const r = await apiRequest(ctx.server, { method: 'POST', path: '/apps/app-id/events', body: event(), ...opts });
    assert.equal(r.status, 401, message);
    assert.deepEqual(r.json, { error: message, code: 401 });
  }
  const bare = await httpRequest({ port: ctx.server.port, path: '/apps/app-id/channels' });
  assert.equal(bare.status, 401);

  const disabled = await apiRequest(ctx.server, { method: 'POST', path: '/apps/off/events', key: 'off-key', secret: 'off-secret', body: event() });
  assert.deepEqual([disabled.status, disabled.json], [403, { error: 'The app is disabled.', code: 403 }]);
});

test('validation errors: 400 and 413 with the spec messages', async () => {
  const post = (body) => apiRequest(ctx.server, { method: 'POST', path: '/apps/app-id/events', body });
  const cases = [
    ['{not json', 400, 'The received data is incorrect'],
    ['[1]', 400, 'The received data is incorrect'],
    [{ data: 'x', channel: 'c' }, 400, 'The received data is incorrect'],
    [{ name: 'e', channel: 'c' }, 400, 'The received data is incorrect'],
    [{ name: 'e', data: 'x' }, 400, "Request must contain 'channels' (list) or 'channel' (string)"],
    [{ name: 'e', data: 'x', channels: [] }, 400, "Request must contain 'channels' (list) or 'channel' (string)"],
    [{ name: 'e', data: 'x', channels: Array.from({ length: 101 }, (_, i) => `c${i}`) }, 400, 'Cannot broadcast to more than 100 channels at once'],
    [{ name: 'x'.repeat(201), data: 'x', channel: 'c' }, 400, 'Event name is too long. Maximum allowed size is 200.'],
    [{ name: 'e', data: 'x', channel: 'bad name' }, 400, 'Invalid channel name: bad name'],
    [{ name: 'e', data: 'x', channel: 'a'.repeat(165) }, 400, `Invalid channel name: ${'a'.repeat(165)}`],
    [{ name: 'e', data: 'x'.repeat(100 * 1024 + 1), channel: 'c' }, 413, 'The event data should be less than 100 KB.'],
  ];
  for (const [body, status, message] of cases) {
    const r = await post(body);
    assert.equal(r.status, status, message);
    assert.deepEqual(r.json, { error: message, code: status });
  }
  assert.equal((await post({ name: 'e', data: 'x'.repeat(100 * 1024), channel: 'c' })).status, 200);
  // A body over http_api.request_limit_in_mb is refused before it is read.
  const huge = await post({ name: 'e', data: 'x'.repeat(1100 * 1024), channel: 'c' });
  assert.deepEqual([huge.status, huge.json], [413, { error: 'The payload size is too big.', code: 413 }]);
});

test('events: delivery, socket_id exclusion, non-string data, info attributes', async () => {
  const a = await RawClient.connect(ctx.server);
  const b = await RawClient.connect(ctx.server);
  await a.subscribe('news');
  await b.subscribe('news');
  const r = await apiRequest(ctx.server, { method: 'POST', path: '/apps/app-id/events',
    body: { name: 'n', data: 'caf\u00e9 "q"', channels: ['news', 'empty'], socket_id: a.socketId, info: 'subscription_count,user_count' } });
  assert.equal(r.status, 200);
  assert.deepEqual(r.json, { channels: { news: { subscription_count: 2 }, empty: { subscription_count: 0 } } });
  const got = await b.next((f) => f.event === 'n');
  assert.equal(got.data, 'caf\u00e9 "q"');
  assert.ok(b.frames.find((f) => f.json.event === 'n').text.includes('caf\u00e9'), 'UTF-8 sent as-is');
  assert.ok(await a.nothingBeforePong((f) => f.event === 'n'));
  const plain = await apiRequest(ctx.server, { method: 'POST', path: '/apps/app-id/events', body: { name: 'obj', data: { k: [1, 2] }, channel: 'news' } });
  assert.deepEqual(plain.json, { ok: true });
  assert.equal((await a.next((f) => f.event === 'obj')).data, '{"k":[1,2]}');
  await Promise.all([a.close(), b.close()]);
});

test('batch_events: order, atomic validation, info per item', async () => {
  const c = await RawClient.connect(ctx.server);
  await c.subscribe('batched');
  const batch = Array.from({ length: 10 }, (_, i) => ({ name: 'b', data: String(i), channel: 'batched' }));
  const ok = await apiRequest(ctx.server, { method: 'POST', path: '/apps/app-id/batch_events', body: { batch } });
  assert.deepEqual([ok.status, ok.json], [200, {}]);
  await c.next((f) => f.event === 'b' && f.data === '9');
  assert.deepEqual(c.events('b').map((f) => f.data), batch.map((e) => e.data));

  const tooMany = await apiRequest(ctx.server, { method: 'POST', path: '/apps/app-id/batch_events', body: { batch: [...batch, batch[0]] } });
  assert.deepEqual([tooMany.status, tooMany.json.error], [400, 'Cannot batch-send more than 10 messages at once']);
  const invalid = await apiRequest(ctx.server, { method: 'POST', path: '/apps/app-id/batch_events',
    body: { batch: [{ name: 'never', data: 'x', channel: 'batched' }, { name: 'bad', data: 'x'.repeat(200 * 1024), channel: 'batched' }] } });
  assert.equal(invalid.status, 413);
  assert.ok(await c.nothingBeforePong((f) => f.event === 'never'));
  const info = await apiRequest(ctx.server, { method: 'POST', path: '/apps/app-id/batch_events',
    body: { batch: [{ name: 'i', data: 'x', channel: 'batched', info: 'subscription_count' }, { name: 'j', data: 'y', channel: 'batched' }] } });
  assert.deepEqual(info.json, { batch: [{ subscription_count: 1 }, {}] });
  assert.equal((await apiRequest(ctx.server, { method: 'POST', path: '/apps/app-id/batch_events', body: { batch: [] } })).status, 200);
  assert.equal((await apiRequest(ctx.server, { method: 'POST', path: '/apps/app-id/batch_events', body: { nope: 1 } })).status, 400);
  await c.close();
});

test('channel queries', async () => {
  const c = await RawClient.connect(ctx.server);
  const sdk = new Pusher({ appId: 'app-id', key: 'app-key', secret: 'app-secret', host: 'h' });
  const member = { user_id: 'u' };
  await c.subscribe('presence-q', { auth: sdk.authorizeChannel(c.socketId, 'presence-q', member).auth, channel_data: JSON.stringify(member) });
  await c.subscribe('public-q');
  const all = await apiRequest(ctx.server, { path: '/apps/app-id/channels' });
  assert.deepEqual(all.json.channels['public-q'], { occupied: true, subscription_count: 1 });
  const presence = await apiRequest(ctx.server, { path: '/apps/app-id/channels', query: { filter_by_prefix: 'presence-', info: 'user_count' } });
  assert.deepEqual(presence.json, { channels: { 'presence-q': { occupied: true, subscription_count: 1, user_count: 1 } } });
  const badInfo = await apiRequest(ctx.server, { path: '/apps/app-id/channels', query: { info: 'user_count' } });
  assert.deepEqual([badInfo.status, badInfo.json.error], [400, 'user_count is only available with filter_by_prefix=presence-']);
  const one = await apiRequest(ctx.server, { path: '/apps/app-id/channels/presence-q', query: { info: 'user_count,subscription_count' } });
  assert.deepEqual(one.json, { occupied: true, subscription_count: 1, user_count: 1 });
  const unused = await apiRequest(ctx.server, { path: '/apps/app-id/channels/never-used' });
  assert.deepEqual(unused.json, { occupied: false, subscription_count: 0 });
  const wrong = await apiRequest(ctx.server, { path: '/apps/app-id/channels/public-q', query: { info: 'user_count' } });
  assert.deepEqual([wrong.status, wrong.json.error], [400, 'user_count is only available for presence channels']);
  const users = await apiRequest(ctx.server, { path: '/apps/app-id/channels/public-q/users' });
  assert.deepEqual([users.status, users.json.error], [400, 'The channel must be a presence channel.']);
  assert.equal((await apiRequest(ctx.server, { path: '/apps/app-id/channels/bad%20name' })).status, 400);
  await c.close();
  const empty = await apiRequest(ctx.server, { path: '/apps/app-id/channels', query: { filter_by_prefix: 'presence-' } });
  assert.deepEqual(empty.json, { channels: {} });
});

test('per-app publish budget answers 429 with rate-limit headers', async () => {
  const post = () => apiRequest(ctx.server, { method: 'POST', path: '/apps/limited/events', key: 'limited-key', secret: 'limited-secret', body: event() });
  const statuses = [];
  let last;
  for (let i = 0; i < 4; i++) { last = await post(); statuses.push(last.status); }
  assert.ok(statuses.includes(429), JSON.stringify(statuses));
  assert.equal(statuses[0], 200);
  assert.deepEqual(last.json, { error: 'Too many requests.', code: 429 });
  assert.equal(last.headers['x-ratelimit-limit'], '2');
  assert.ok(Number(last.headers['retry-after']) >= 1);
});

test('routes: 404 text, 405 with Allow, CORS preflight and headers', async () => {
  const nf = await apiRequest(ctx.server, { path: '/apps/app-id/nothing' });
  assert.deepEqual([nf.status, nf.text], [404, '404 NOT FOUND']);
  const wrong = await apiRequest(ctx.server, { method: 'GET', path: '/apps/app-id/events' });
  assert.equal(wrong.status, 405);
  assert.equal(wrong.headers.allow, 'POST');
  const pre = await httpRequest({ port: ctx.server.port, method: 'OPTIONS', path: '/apps/app-id/events', headers: { Origin: 'https://x.test' } });
  assert.equal(pre.status, 204);
  assert.equal(pre.headers['access-control-allow-origin'], '*');
  assert.match(pre.headers['access-control-allow-methods'], /POST/);
  const normal = await apiRequest(ctx.server, { path: '/apps/app-id/channels' });
  assert.equal(normal.headers['access-control-allow-origin'], '*');
});

// Sends `requests` on one connection and reads `count` whole responses (Content-Length framed).
// With `untilClose` it then waits for the server to end the connection; otherwise it hangs up.
// Fails after 5 s with what it has read.
function rawExchange(port, requests, count, untilClose = false) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let text = '';
    const responses = [];
    const parse = () => {
      for (;;) {
        const head = text.indexOf('\r\n\r\n');
        if (head < 0) return;
        const length = Number((/\r\nContent-Length: (\d+)/i.exec(text.slice(0, head)) || [0, 0])[1]);
        if (text.length < head + 4 + length) return;
        responses.push(text.slice(0, head + 4 + length));
        text = text.slice(head + 4 + length);
      }
    };
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no ${untilClose ? 'close' : `${count} responses`} within 5 s; read: ${JSON.stringify(responses.join('') + text)}`));
    }, 5000);
    socket.on('close', () => clearTimeout(timer));
    socket.setEncoding('utf8');
    socket.on('data', (d) => {
      text += d;
      parse();
      if (responses.length === count && !untilClose) {
        socket.destroy();
        resolve({ responses, closed: false });
      }
    });
    socket.on('end', () => resolve({ responses, closed: true }));
    socket.on('error', reject);
    socket.write(requests.join(''));
  });
}

test('response framing: keep-alive for 1.1 and for 1.0 on request, close when asked, 204 bodiless', async () => {
  const get = (version, connection) =>
    `GET /up/app-id HTTP/${version}\r\nHost: x\r\n${connection ? `Connection: ${connection}\r\n` : ''}\r\n`;

  const kept = await rawExchange(ctx.server.port, [get('1.1'), get('1.1')], 2);
  assert.equal(kept.responses.length, 2);
  for (const r of kept.responses) {
    assert.match(r, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(r, /\r\nContent-Length: 2\r\n/);
    assert.match(r, /\r\nServer: sockudo\r\n/);
    assert.doesNotMatch(r, /Connection:/);
    assert.ok(r.endsWith('\r\n\r\nOK'));
  }

  const ten = await rawExchange(ctx.server.port, [get('1.0', 'keep-alive'), get('1.0')], 2, true);
  assert.equal(ten.responses.length, 2);
  assert.match(ten.responses[0], /^HTTP\/1\.0 200 OK\r\n[^]*\r\nConnection: keep-alive\r\n/);
  assert.doesNotMatch(ten.responses[1], /Connection:/);
  assert.equal(ten.closed, true);

  const asked = await rawExchange(ctx.server.port, [get('1.1', 'close'), get('1.1')], 1, true);
  assert.equal(asked.responses.length, 1);  // the second request is not answered
  assert.match(asked.responses[0], /\r\nConnection: close\r\n/);
  assert.equal(asked.closed, true);

  const preflight = await rawExchange(ctx.server.port,
    ['OPTIONS /apps/app-id/events HTTP/1.1\r\nHost: x\r\nOrigin: https://x.test\r\n\r\n', get('1.1', 'close')], 2);
  assert.equal(preflight.responses.length, 2);
  assert.match(preflight.responses[0], /^HTTP\/1\.1 204 No Content\r\n/);
  assert.doesNotMatch(preflight.responses[0], /Content-Length/);
  assert.ok(preflight.responses[0].endsWith('\r\n\r\n'));
  assert.match(preflight.responses[1], /^HTTP\/1\.1 200 OK/);
});

test('operational endpoints and metrics', async () => {
  for (const port of [ctx.server.port, ctx.server.metricsPort]) {
    assert.deepEqual(await httpRequest({ port, path: '/' }).then((r) => [r.status, r.text]), [200, 'OK']);
    assert.deepEqual(await httpRequest({ port, path: '/ready' }).then((r) => [r.status, r.text]), [200, 'OK']);
    const up = await httpRequest({ port, path: '/up' });
    assert.deepEqual([up.status, up.text, up.headers['x-health-check']], [200, 'OK', 'OK']);
    assert.equal((await httpRequest({ port, path: '/up/app-id' })).status, 200);
    assert.equal((await httpRequest({ port, path: '/up/nope' })).status, 404);
    assert.equal((await httpRequest({ port, path: '/up/off' })).status, 503);
    const usage = await httpRequest({ port, path: '/usage' });
    assert.ok(usage.json.memory.total > 0);
  }
  assert.equal((await httpRequest({ port: ctx.server.port, path: '/metrics' })).status, 404);
  const c = await RawClient.connect(ctx.server);
  const metrics = await httpRequest({ port: ctx.server.metricsPort, path: '/metrics' });
  assert.equal(metrics.status, 200);
  assert.match(metrics.headers['content-type'], /^text\/plain; version=0.0.4/);
  for (const name of ['connected', 'new_connections_total', 'new_disconnections_total', 'socket_received_bytes',
    'socket_transmitted_bytes', 'ws_messages_received_total', 'ws_messages_sent_total', 'http_received_bytes',
    'http_transmitted_bytes', 'http_calls_received_total']) {
    assert.match(metrics.text, new RegExp(`# TYPE sockudo_${name} `), name);
  }
  assert.match(metrics.text, /sockudo_connected\{app_id="app-id",port="\d+"\} [1-9]/);
  assert.match(metrics.text, /sockudo_http_calls_received_total\{app_id="app-id",port="\d+",status="400"\} [1-9]/);
  // The cluster families of spec/cluster.md §13 (the local bus: no request, no peer broadcast yet).
  for (const [name, type] of [['horizontal_adapter_sent_requests', 'counter'],
    ['horizontal_adapter_received_requests', 'counter'], ['horizontal_adapter_received_responses', 'counter'],
    ['horizontal_adapter_resolved_promises', 'counter'], ['horizontal_adapter_uncomplete_promises', 'counter'],
    ['horizontal_adapter_resolve_time', 'histogram'], ['broadcast_latency_ms', 'histogram'],
    ['cluster_nodes', 'gauge'], ['cluster_dead_nodes_total', 'counter'],
    ['horizontal_transport_messages_dropped_total', 'counter'], ['horizontal_transport_reconnections_total', 'counter'],
    ['horizontal_transport_queue_depth', 'gauge']]) {
    assert.match(metrics.text, new RegExp(`# HELP sockudo_${name} .+\n# TYPE sockudo_${name} ${type}\n`), name);
  }
  assert.match(metrics.text, /\nsockudo_cluster_nodes\{port="\d+"\} 1\n/);
  assert.match(metrics.text, /\nsockudo_horizontal_transport_queue_depth\{port="\d+",transport="local"\} 0\n/);
  assert.doesNotMatch(metrics.text, /nats_events_total/);
  await c.close();
});

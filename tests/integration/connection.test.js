// Connection lifecycle over raw frames (spec/pusher-protocol.md §1-§3, §15).
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const WebSocket = require('ws');
const { useServer } = require('../support/server');
const { RawClient } = require('../support/raw_client');
const net = require('node:net');
const { httpRequest, waitFor } = require('../support/wait');

const ctx = useServer({
    config: { app_manager: { array: { apps: [
      { id: 'app-id', key: 'app-key', secret: 'app-secret', enable_client_messages: true },
      { id: 'off', key: 'off-key', secret: 's', enabled: false },
      { id: 'quota', key: 'quota-key', secret: 's', max_connections: 1 },
      { id: 'origin', key: 'origin-key', secret: 's', allowed_origins: ['https://*.example.com'] },
    ] } } },
    env: { ACTIVITY_TIMEOUT: '1', WEBSOCKET_MAX_PAYLOAD_KB: '64' },
  });

test('connection_established is the first frame with a Pusher socket id', async () => {
  const c = await RawClient.connect(ctx.server);
  const first = c.frames[0];
  assert.equal(first.json.event, 'pusher:connection_established');
  assert.equal(typeof first.json.data, 'string');
  const data = JSON.parse(first.json.data);
  assert.match(data.socket_id, /^\d+\.\d+$/);
  assert.equal(data.activity_timeout, 1);
  assert.deepEqual(Object.keys(first.json), ['event', 'data']);
  await c.close();
});

test('socket ids are unique', async () => {
  const clients = await Promise.all(Array.from({ length: 20 }, () => RawClient.connect(ctx.server)));
  assert.equal(new Set(clients.map((c) => c.socketId)).size, 20);
  await Promise.all(clients.map((c) => c.close()));
});

for (const [key, code] of [['nope', 4001], ['off-key', 4003]]) {
  test(`key ${key} gets pusher:error ${code} then close ${code}`, async () => {
    const c = await RawClient.connect(ctx.server, key);
    const closed = await c.closedPromise;
    assert.equal(c.frames[0].json.event, 'pusher:error');
    assert.equal(c.frames[0].json.data.code, code);
    assert.equal(closed.code, code);
    assert.equal(c.frames.length, 1);
  });
}

test('app connection quota closes with 4004 and frees the slot on disconnect', async () => {
  const a = await RawClient.connect(ctx.server, 'quota-key');
  assert.ok(a.socketId);
  const b = await RawClient.connect(ctx.server, 'quota-key');
  assert.equal((await b.closedPromise).code, 4004);
  assert.equal(b.frames[0].json.data.code, 4004);
  await a.close();
  const { waitFor } = require('../support/wait');
  await waitFor(async () => {
    const c = await RawClient.connect(ctx.server, 'quota-key');
    const ok = Boolean(c.socketId);
    await c.close();
    return ok;
  }, { what: 'the quota slot to be released' });
});

test('allowed_origins refuses other origins with 4009', async () => {
  const bad = await RawClient.connect(ctx.server, 'origin-key', { origin: 'https://evil.com' });
  assert.equal((await bad.closedPromise).code, 4009);
  const none = await RawClient.connect(ctx.server, 'origin-key');
  assert.equal((await none.closedPromise).code, 4009);
  const good = await RawClient.connect(ctx.server, 'origin-key', { origin: 'https://app.example.com' });
  assert.ok(good.socketId);
  await good.close();
});

test('pusher:ping gets pusher:pong; server pings after activity_timeout of silence', async () => {
  const c = await RawClient.connect(ctx.server);
  c.send({ event: 'pusher:ping', data: {} });
  const pong = await c.next((f) => f.event === 'pusher:pong');
  assert.deepEqual(pong, { event: 'pusher:pong', data: {} });
  const ping = await c.next((f) => f.event === 'pusher:ping', { timeoutMs: 4000 });
  assert.deepEqual(ping, { event: 'pusher:ping', data: {} });
  c.send({ event: 'pusher:pong', data: {} });
  await c.close();
});

test('WebSocket control pings are answered', async () => {
  const c = await RawClient.connect(ctx.server);
  const pong = new Promise((resolve) => c.ws.once('pong', (data) => resolve(data.toString())));
  c.ws.ping('hello');
  assert.equal(await pong, 'hello');
  await c.close();
});

test('malformed frames get an error with code null and the connection stays open', async () => {
  const c = await RawClient.connect(ctx.server);
  const bad = ['not json', '[]', '42', '"x"', '{"data":{}}', '{"event":5}', '['.repeat(100) + ']'.repeat(100),
    '{"event":"pusher:subscribe"}', '{"event":"pusher:subscribe","data":{"channel":5}}', '{"event":"pusher:subscribe","data":[]}',
    '{"event":"pusher:unsubscribe","data":"nope"}'];
  for (const text of bad) {
    const mark = c.frames.length;
    c.send(text);
    const err = await c.next((f) => f.event === 'pusher:error', { from: mark });
    assert.equal(err.data.code, null, text);
    assert.equal(typeof err.data.message, 'string');
  }
  // Unknown events are ignored silently; the connection still works.
  c.send({ event: 'pusher:unknown', data: {} });
  c.send({ event: 'whatever' });
  assert.ok(await c.nothingBeforePong((f) => f.event === 'pusher:error' && f.data.code !== null));
  const ok = await c.subscribe('after-garbage');
  assert.equal(ok.event, 'pusher_internal:subscription_succeeded');
  await c.close();
});

test('binary frames are treated like text frames', async () => {
  const c = await RawClient.connect(ctx.server);
  c.ws.send(Buffer.from(JSON.stringify({ event: 'pusher:ping', data: {} })), { binary: true });
  await c.next((f) => f.event === 'pusher:pong');
  const mark = c.frames.length;
  c.ws.send(Buffer.from([0xff, 0xfe, 0x00]), { binary: true });
  const err = await c.next((f) => f.event === 'pusher:error', { from: mark });
  assert.equal(err.data.message, 'Invalid JSON');
  assert.equal(c.frames.every((f) => !f.isBinary), true, 'server sends only text frames');
  await c.close();
});

test('a message over the size limit closes with 1009 and others keep being served', async () => {
  const other = await RawClient.connect(ctx.server);
  await other.subscribe('survivors');
  const c = await RawClient.connect(ctx.server);
  c.send(JSON.stringify({ event: 'client-x', channel: 'a', data: 'x'.repeat(70 * 1024) }));
  assert.equal((await c.closedPromise).code, 1009);
  const ok = await other.subscribe('still-alive');
  assert.equal(ok.event, 'pusher_internal:subscription_succeeded');
  await other.close();
});

test('HTTP on the WebSocket path and unknown paths', async () => {
  assert.equal((await httpRequest({ port: ctx.server.port, path: '/app/app-key' })).status, 400);
  const post = await httpRequest({ port: ctx.server.port, path: '/app/app-key', method: 'POST' });
  assert.equal(post.status, 405);
  const missing = await httpRequest({ port: ctx.server.port, path: '/nowhere' });
  assert.equal(missing.status, 404);
  assert.equal(missing.text, '404 NOT FOUND');
  assert.match(missing.headers['content-type'], /^text\/plain/);
  // A WebSocket upgrade on an unknown path is not upgraded.
  const ws = new WebSocket(`ws://127.0.0.1:${ctx.server.port}/nope/app-key`);
  const status = await new Promise((resolve) => ws.on('unexpected-response', (_req, res) => resolve(res.statusCode)));
  assert.equal(status, 404);
});

test('the server survives a burst of abrupt disconnects', async () => {
  const clients = await Promise.all(Array.from({ length: 50 }, () => RawClient.connect(ctx.server)));
  await Promise.all(clients.map((c) => c.subscribe('free-for-all')));
  for (const c of clients) c.ws.terminate();
  const c = await RawClient.connect(ctx.server);
  assert.ok(c.socketId);
  await c.close();
  const r = await httpRequest({ port: ctx.server.metricsPort, path: '/ready' });
  assert.equal(r.status, 200);
});

// A raw TCP connection that performs the upgrade by hand, for frames no WebSocket library sends.
async function rawUpgrade(port, extraHeaders = '') {
  const sock = net.connect(port, '127.0.0.1');
  let data = Buffer.alloc(0);
  sock.on('data', (d) => { data = Buffer.concat([data, d]); });
  const closed = new Promise((resolve) => sock.on('close', resolve));
  sock.write(`GET /app/app-key HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n${extraHeaders}\r\n`);
  return { sock, closed, data: () => data };
}

test('fragmented client messages are reassembled', async () => {
  const c = await RawClient.connect(ctx.server);
  const text = JSON.stringify({ event: 'pusher:subscribe', data: { channel: 'fragmented' } });
  c.ws.send(text.slice(0, 10), { fin: false });
  c.ws.send(text.slice(10, 20), { fin: false });
  c.ws.send(text.slice(20), { fin: true });
  const ok = await c.next((f) => f.channel === 'fragmented');
  assert.equal(ok.event, 'pusher_internal:subscription_succeeded');
  await c.close();
});

test('an unmasked client frame is a protocol error (close 1002)', async () => {
  const r = await rawUpgrade(ctx.server.port, 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n');
  await waitFor(() => r.data().includes('connection_established'), { what: 'the handshake' });
  assert.match(r.data().toString('latin1'), /^HTTP\/1.1 101 Switching Protocols\r\n/);
  assert.match(r.data().toString('latin1'), /Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=\r\n/);
  const before = r.data().length;
  r.sock.write(Buffer.from([0x81, 0x02, 0x68, 0x69]));  // "hi", not masked
  await waitFor(() => r.data().length > before, { what: 'the close frame' });
  const close = r.data().subarray(before);
  assert.equal(close[0], 0x88);
  assert.equal(close.readUInt16BE(2), 1002);
  r.sock.destroy();
});

// spec/pusher-protocol.md §1.1: /app/{key} without a valid upgrade is answered 400, never upgraded.
for (const [what, headers] of [
  ['no Sec-WebSocket-Key', 'Sec-WebSocket-Version: 13\r\n'],
  ['no Sec-WebSocket-Version', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n'],
  ['version 8', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n'],
  ['key "abc"', 'Sec-WebSocket-Key: abc\r\nSec-WebSocket-Version: 13\r\n'],
  ['an empty key', 'Sec-WebSocket-Key: \r\nSec-WebSocket-Version: 13\r\n'],
  ['a key that is not base64', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25j*Q==\r\nSec-WebSocket-Version: 13\r\n'],
]) {
  test(`an upgrade with ${what} is refused with 400 and not upgraded`, async () => {
    const r = await rawUpgrade(ctx.server.port, headers);
    await r.closed;
    const text = r.data().toString('latin1');
    assert.match(text, /^HTTP\/1.1 400 /);
    assert.match(text, /\r\nConnection: close\r\n/);
    assert.doesNotMatch(text, /101 Switching/);
  });
}

test('a client close gets the same code back and the socket leaves at once', async () => {
  const c = await RawClient.connect(ctx.server);
  await c.subscribe('closing-soon');
  c.ws.close(4321, 'bye');
  const closed = await c.closedPromise;
  assert.equal(closed.code, 4321);
  const { apiRequest } = require('../support/raw_client');
  await waitFor(async () => (await apiRequest(ctx.server, { path: '/apps/app-id/channels/closing-soon' })).json.subscription_count === 0,
    { what: 'the departure to be counted' });
});

test('subscribers vanishing in the middle of a fan-out do not disturb the others', async () => {
  const { apiRequest } = require('../support/raw_client');
  const clients = await Promise.all(Array.from({ length: 60 }, () => RawClient.connect(ctx.server)));
  await Promise.all(clients.map((c) => c.subscribe('storm')));
  const survivors = clients.slice(0, 30);
  const leaving = clients.slice(30);
  const publishes = [];
  for (let i = 0; i < 40; i++) {
    publishes.push(apiRequest(ctx.server, { method: 'POST', path: '/apps/app-id/events', body: { name: 'wave', data: String(i), channel: 'storm' } }));
    if (i === 10) for (const c of leaving) c.ws.terminate();
  }
  for (const r of await Promise.all(publishes)) assert.equal(r.status, 200);
  await waitFor(() => survivors.every((c) => c.events('wave').length === 40), { timeoutMs: 10000, what: 'every survivor to get 40 events' });
  for (const c of survivors) assert.deepEqual(c.events('wave').map((f) => Number(f.data)).sort((a, b) => a - b), Array.from({ length: 40 }, (_, i) => i));
  await waitFor(async () => (await apiRequest(ctx.server, { path: '/apps/app-id/channels/storm' })).json.subscription_count === 30,
    { what: 'the departures to be counted' });
  await Promise.all(survivors.map((c) => c.close()));
});

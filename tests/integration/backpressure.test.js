// Outbound backpressure (dataplane/ws/ws_session.h, send_ring.h): a subscriber that stops reading
// fills its socket buffers; the server keeps its bytes in order until it reads again, or closes it
// as a slow consumer (4100, spec/config.md §15) and releases the socket even though the client
// never takes the close frame. Messages are big so that the kernel buffers really fill up.
'use strict';
const fs = require('node:fs');
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { startServer } = require('../support/server');
const { RawClient, apiRequest } = require('../support/raw_client');
const { waitFor, httpRequest } = require('../support/wait');

const EVENTS = 150;
const BIG = 'x'.repeat(90 * 1024);  // 150 x 90 KB = 13.5 MB, far more than loopback buffers hold

async function flood(server) {
  for (let i = 0; i < EVENTS; i++) {
    const r = await apiRequest(server, { method: 'POST', path: '/apps/app-id/events',
      body: { name: 'big', channel: 'flood', data: `${i}:${BIG}` } });
    assert.equal(r.status, 200);
  }
}

const order = (c) => c.events('big').map((f) => Number(f.data.split(':')[0]));
const sockets = (pid) => fs.readdirSync(`/proc/${pid}/fd`)
  .filter((fd) => { try { return fs.readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:'); } catch (_) { return false; } })
  .length;

test('a subscriber that pauses reading gets every message, in order, when it reads again', async () => {
  const server = await startServer();
  try {
    const paused = await RawClient.connect(server);
    const reader = await RawClient.connect(server);
    await paused.subscribe('flood');
    await reader.subscribe('flood');
    paused.ws.pause();
    await flood(server);
    await waitFor(() => reader.events('big').length === EVENTS, { timeoutMs: 20000, what: 'the reader to get every event' });
    assert.ok(paused.events('big').length < EVENTS, 'the paused client cannot have read everything');
    paused.ws.resume();
    await waitFor(() => paused.events('big').length === EVENTS, { timeoutMs: 20000, what: 'the paused client to catch up' });
    const expected = Array.from({ length: EVENTS }, (_, i) => i);
    assert.deepEqual(order(paused), expected);
    assert.deepEqual(order(reader), expected);
    assert.equal(paused.closed, null);
    await Promise.all([paused.close(), reader.close()]);
  } finally {
    await server.stop();
  }
});

test('a subscriber that never reads is closed as a slow consumer and its socket released', async () => {
  const server = await startServer({ env: { WEBSOCKET_MAX_MESSAGES: '8' } });
  try {
    const stuck = await RawClient.connect(server);
    const reader = await RawClient.connect(server);
    await stuck.subscribe('flood');
    await reader.subscribe('flood');
    const before = sockets(server.child.pid);
    stuck.ws.pause();
    await flood(server);
    await waitFor(() => reader.events('big').length === EVENTS, { timeoutMs: 20000, what: 'the reader to get every event' });
    assert.deepEqual(order(reader), Array.from({ length: EVENTS }, (_, i) => i));
    // The close frame waits behind bytes the client never reads: the server gives the close
    // handshake 5 s and then closes the socket itself.
    await waitFor(() => sockets(server.child.pid) === before - 1, { timeoutMs: 15000, what: 'the server to release the stuck socket' });
    const metrics = await httpRequest({ port: server.metricsPort, path: '/metrics' });
    assert.match(metrics.text, /slow_consumer_disconnections_total\{[^}]*app_id="app-id"[^}]*\} 1\b/);
    stuck.ws.resume();
    const closed = await stuck.closedPromise;
    assert.ok([4100, 1006].includes(closed.code), `closed with ${closed.code}`);
    assert.ok(stuck.events('big').length < EVENTS);
    // The server still serves everyone else.
    const late = await RawClient.connect(server);
    assert.equal((await late.subscribe('flood')).event, 'pusher_internal:subscription_succeeded');
    await Promise.all([late.close(), reader.close()]);
  } finally {
    await server.stop();
  }
});

// Floods from clients that will not keep up: pusher:ping events from a client that never reads
// (its outbound queue of WEBSOCKET_MAX_MESSAGES fills with pongs: 4100), a subscriber that stops
// reading while big events are published (slow consumer: counted, then pusher:error 4100 and a
// close frame 4100 once it reads again), and client-event floods against
// max_client_events_per_second (4301 for the excess, receivers get at most the allowed rate).
// Each case runs on a server of its own so that the slow-consumer metric starts at 0; the node
// must keep delivering to a healthy subscriber throughout, give back what the flood made it
// allocate (RSS near its baseline once the flooders are gone) and stop cleanly.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { waitFor } = require('../support/wait');
const {
  OP, frame, HostileSocket, metricsText, publish, assertAlive, withServer, privateAuth, rssKb, expectRssBack,
} = require('../support/hostile');

const SLOW_CONSUMER_1 = /slow_consumer_disconnections_total\{[^}]*app_id="app-id"[^}]*\} 1\b/;
const slowConsumerCounted = async (server) => SLOW_CONSUMER_1.test(await metricsText(server));

// The frames a socket got after `from`, up to its close frame: asserts that the last text frame
// is pusher:error 4100 and the close frame carries 4100 (not a bare FIN, which would be 1006).
async function expectErrorThenClose4100(c) {
  const close = await c.expectClose(4100, { timeoutMs: 10000 });
  const closeIndex = c.frames.indexOf(close);
  const lastText = c.frames.slice(0, closeIndex).reverse().find((f) => f.opcode === OP.TEXT);
  assert.ok(lastText && lastText.json, 'a text frame precedes the close frame');
  assert.equal(lastText.json.event, 'pusher:error', `last frame before the close: ${lastText.text.slice(0, 200)}`);
  assert.equal(lastText.json.data.code, 4100);
}

test('pusher:ping events from a client that never reads fill its queue with pongs: pusher:error 4100, close 4100', async (t) => {
  await withServer({}, 'ping-flood-healthy', async (server, healthy) => {
    const baseline = rssKb(server.child.pid);
    const c = await HostileSocket.connect(server);
    c.pause();
    // 20,000 masked {"event":"pusher:ping","data":{}} frames per batch; at most 50 batches.
    const batch = Buffer.concat(Array.from({ length: 20000 }, () =>
      frame({ payload: '{"event":"pusher:ping","data":{}}', maskKey: Buffer.from([9, 8, 7, 6]) })));
    let batches = 0;
    const started = Date.now();
    while (!(await slowConsumerCounted(server))) {
      assert.ok(batches < 50 && Date.now() - started < 30000,
        `no 4100 after ${batches * 20000} unread pongs in ${Date.now() - started} ms (WEBSOCKET_MAX_MESSAGES default 1000)`);
      await c.write(batch);
      batches++;
      await assertAlive(server, healthy, `pusher:ping flood batch ${batches}`);
    }
    c.resume();  // at once: the server gives the close handshake 5 s
    await expectErrorThenClose4100(c);
    t.diagnostic(`closed after ${batches * 20000} pings; ${c.events('pusher:pong').length} pongs read`);
    assert.ok(c.events('pusher:pong').length >= 1, 'the pongs that reached the socket before the overflow arrive first');
    await assertAlive(server, healthy, 'pusher:ping flood');
    await expectRssBack(server, baseline, { what: 'the pusher:ping flood' });
  });
});

test('a subscriber that stops reading during 150 x 90 KB events is counted as a slow consumer and, reading again, gets pusher:error 4100 and close 4100', async (t) => {
  await withServer({ env: { WEBSOCKET_MAX_MESSAGES: '8' } }, 'flood', async (server, healthy) => {
    const EVENTS = 150;
    const BIG = 'x'.repeat(90 * 1024);
    const baseline = rssKb(server.child.pid);
    const stuck = await HostileSocket.connect(server);
    await stuck.sendJson({ event: 'pusher:subscribe', data: { channel: 'flood' } });
    await stuck.next((f) => f.event === 'pusher_internal:subscription_succeeded');
    stuck.pause();

    const publishing = (async () => {
      for (let i = 0; i < EVENTS; i++) await publish(server, 'flood', 'big', `${i}:${BIG}`);
    })();
    publishing.catch(() => {});
    await waitFor(() => slowConsumerCounted(server), { timeoutMs: 30000, intervalMs: 20, what: 'slow_consumer_disconnections_total 1' });
    const countedAt = Date.now();
    stuck.resume();
    await expectErrorThenClose4100(stuck);
    assert.ok(Date.now() - countedAt < 10000);
    const got = stuck.events('big').length;
    t.diagnostic(`the stuck client read ${got} of ${EVENTS} events, then the error and close frame`);
    assert.ok(got < EVENTS, `the stuck client cannot have read everything (${got})`);

    await publishing;
    // The reader (the healthy subscriber, on the same channel) got every event, in order.
    const reader = healthy.client;
    await waitFor(() => reader.events('big').length === EVENTS, { timeoutMs: 20000, what: 'the reader to get every event' });
    assert.deepEqual(reader.events('big').map((f) => Number(f.data.split(':')[0])), Array.from({ length: EVENTS }, (_, i) => i));
    assert.match(await metricsText(server), SLOW_CONSUMER_1, 'counted once');
    await assertAlive(server, healthy, 'slow consumer');
    await expectRssBack(server, baseline, { what: 'the slow consumer flood' });
  });
});

const CLIENT_EVENTS_APP = { app_manager: { array: { apps: [{
  id: 'app-id', key: 'app-key', secret: 'app-secret', enable_client_messages: true, max_client_events_per_second: 10,
}] } } };

async function joinPrivate(c, channel) {
  const mark = c.frames.length;
  await c.sendJson({ event: 'pusher:subscribe', data: { channel, auth: privateAuth(c.socketId, channel) } });
  const r = await c.next((f) => f.channel === channel && f.event.startsWith('pusher'), { from: mark });
  assert.equal(r.event, 'pusher_internal:subscription_succeeded', JSON.stringify(r));
}

// At most `limit` per second over `elapsedMs`, counting a partial second at each end.
const allowedFor = (limit, elapsedMs) => limit * (Math.ceil(elapsedMs / 1000) + 1);

test('10,000 client events at max_client_events_per_second 10: the excess gets 4301, receivers get at most the allowed rate', async (t) => {
  await withServer({ config: CLIENT_EVENTS_APP }, 'client-flood-healthy', async (server, healthy) => {
    const N = 10000;
    const baseline = rssKb(server.child.pid);
    const sender = await HostileSocket.connect(server);
    const receivers = await Promise.all([0, 1].map(() => HostileSocket.connect(server)));
    for (const c of [sender, ...receivers]) await joinPrivate(c, 'private-flood');

    const mark = sender.frames.length;
    const started = Date.now();
    await sender.write(Buffer.concat(Array.from({ length: N }, (_, i) =>
      frame({ payload: JSON.stringify({ event: 'client-spam', channel: 'private-flood', data: { i } }) }))));
    await sender.roundTrip(20000);  // every event before the ping has been handled
    const elapsed = Date.now() - started;
    const errors = sender.frames.slice(mark).filter((f) => f.json && f.json.event === 'pusher:error');
    assert.ok(errors.every((e) => e.json.data.code === 4301), JSON.stringify(errors.find((e) => e.json.data.code !== 4301)?.json));
    const relayed = N - errors.length;
    t.diagnostic(`${relayed} relayed, ${errors.length} rejected with 4301, in ${elapsed} ms`);
    assert.ok(relayed >= 1 && relayed <= allowedFor(10, elapsed),
      `${relayed} of ${N} relayed in ${elapsed} ms at 10/s (${errors.length} rejected)`);
    for (const r of receivers) {
      await waitFor(() => r.events('client-spam').length >= relayed, { timeoutMs: 10000, what: `${relayed} relayed events` });
      await r.roundTrip();
      assert.equal(r.events('client-spam').length, relayed, 'receivers get exactly what was not rejected');
    }
    assert.equal(sender.closedAt, null, 'the sender is told, not disconnected');
    await assertAlive(server, healthy, 'client-event flood');
    await Promise.all([sender, ...receivers].map((c) => c.destroy()));
    await expectRssBack(server, baseline, { what: 'the client-event flood' });
  });
});

test('a client-event flood from a client that never reads its errors: the node survives, receivers get at most the allowed rate', async (t) => {
  await withServer({ config: CLIENT_EVENTS_APP }, 'client-flood-healthy', async (server, healthy) => {
    const N = 10000;
    const baseline = rssKb(server.child.pid);
    const sender = await HostileSocket.connect(server);
    const receiver = await HostileSocket.connect(server);
    await joinPrivate(sender, 'private-deaf');
    await joinPrivate(receiver, 'private-deaf');
    sender.pause();
    const started = Date.now();
    const spam = Buffer.concat(Array.from({ length: N / 10 }, (_, i) =>
      frame({ payload: JSON.stringify({ event: 'client-spam', channel: 'private-deaf', data: { i } }) })));
    for (let i = 0; i < 10 && !sender.sock.destroyed; i++) {
      await Promise.race([sender.write(spam), sender.closed]);
      await assertAlive(server, healthy, `deaf flood batch ${i}`);
    }
    await receiver.roundTrip();
    const elapsed = Date.now() - started;
    const relayed = receiver.events('client-spam').length;
    t.diagnostic(`${relayed} relayed in ${elapsed} ms; the deaf sender ${sender.closedAt ? 'was disconnected' : 'is still connected'}`);
    assert.ok(relayed >= 1 && relayed <= allowedFor(10, elapsed), `${relayed} relayed in ${elapsed} ms at 10/s`);
    await assertAlive(server, healthy, 'deaf client-event flood');
    await Promise.all([sender, receiver].map((c) => c.destroy()));
    await expectRssBack(server, baseline, { what: 'the deaf client-event flood' });
  });
});

// Webhooks against a real node, real pusher-js clients and a real HTTP receiver (memory queue):
// every event type with its exact body, signature (checked by the pusher SDK), headers,
// filters, grouping by URL, and batching.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { startServer } = require('../support/server');
const { startWebhookReceiver } = require('../support/webhook_receiver');
const { client, connected, subscribed, waitFor } = require('../support/pusher_clients');

const ALL = ['channel_occupied', 'channel_vacated', 'member_added', 'member_removed', 'client_event', 'cache_miss'];

function appWith(webhooks) {
  return { id: 'app-id', key: 'app-key', secret: 'app-secret', enable_client_messages: true, webhooks };
}

// Checks what every request must satisfy (spec/webhooks.md §2).
function checkRequest(r, { batched = false } = {}) {
  assert.equal(r.method, 'POST');
  assert.equal(r.headers['content-type'], 'application/json');
  assert.equal(r.headers['x-pusher-key'], 'app-key');
  const expected = crypto.createHmac('sha256', 'app-secret').update(r.rawBody).digest('hex');
  assert.equal(r.headers['x-pusher-signature'], expected);
  assert.ok(r.valid, 'pusher.webhook().isValid()');
  assert.equal(JSON.stringify(JSON.parse(r.rawBody)), r.rawBody, 'body is a JSON.stringify fixed point');
  assert.deepEqual(Object.keys(r.body), ['time_ms', 'events']);
  assert.equal(typeof r.body.time_ms, 'number');
  assert.ok(Math.abs(Date.now() - r.body.time_ms) < 60000);
  if (!batched) assert.equal(r.body.events.length, 1);
}

let receiver;
let server;

before(async () => {
  receiver = await startWebhookReceiver();
  server = await startServer({ config: { app_manager: { array: { apps: [appWith([
    { url: receiver.url('/webhook'), event_types: ALL, headers: { 'X-Custom': 'yes', 'Content-Type': 'text/plain' } },
    // The same URL again: one POST per event, not two (grouped by URL).
    { url: receiver.url('/webhook'), event_types: ['channel_occupied'] },
    { url: receiver.url('/private'), event_types: ['client_event'], filter: { channel_name_starts_with: 'private-' } },
    { url: receiver.url('/pattern'), event_types: ['channel_occupied'], filter: { channel_pattern: '^presence-r' } },
    { url: receiver.url('/count'), event_types: ['subscription_count'], filter: { channel_prefix: 'counted-' } },
  ])] } } } });
});

after(async () => {
  if (server) await server.stop();
  if (receiver) await receiver.close();
});

test('every event type arrives signed, with the exact body, filtered and grouped by URL', async () => {
  const alice = client(server);
  const bob = client(server, { presence: { user_id: 2, user_info: { name: 'Bob' } } });
  try {
    await connected(alice);
    await connected(bob);

    // channel_occupied (0 -> 1), nothing for the second subscriber.
    assert.ok((await subscribed(alice, 'news')).ok);
    const occupied = await receiver.waitForEvent((e) => e.name === 'channel_occupied' && e.channel === 'news', 'channel_occupied news', '/webhook');
    assert.deepEqual(occupied, { name: 'channel_occupied', channel: 'news' });
    assert.ok((await subscribed(bob, 'news')).ok);

    // Presence: occupied, then member_added with the numeric user id.
    assert.ok((await subscribed(bob, 'presence-room')).ok);
    const added = await receiver.waitForEvent((e) => e.name === 'member_added', 'member_added', '/webhook');
    assert.deepEqual(added, { name: 'member_added', channel: 'presence-room', user_id: 2 });
    await receiver.waitForEvent((e) => e.name === 'channel_occupied' && e.channel === 'presence-room', 'occupied via pattern', '/pattern');

    // Client events: private (socket_id) and presence (socket_id + user_id); data stays an object.
    const priv = (await subscribed(alice, 'private-chat')).channel;
    assert.ok(priv.trigger('client-msg', { message: 'hi "there" / é', n: 1.5, list: [1, 2] }));
    const ce = await receiver.waitForEvent((e) => e.name === 'client_event' && e.channel === 'private-chat', 'client_event private', '/webhook');
    assert.deepEqual(ce, { name: 'client_event', channel: 'private-chat', event: 'client-msg',
      data: { message: 'hi "there" / é', n: 1.5, list: [1, 2] }, socket_id: alice.connection.socket_id });
    await receiver.waitForEvent((e) => e.name === 'client_event' && e.channel === 'private-chat', 'filtered client_event', '/private');
    const room = bob.channel('presence-room');
    assert.ok(room.trigger('client-wave', { to: 'all' }));
    const pe = await receiver.waitForEvent((e) => e.name === 'client_event' && e.channel === 'presence-room', 'client_event presence', '/webhook');
    assert.deepEqual(pe, { name: 'client_event', channel: 'presence-room', event: 'client-wave', data: { to: 'all' },
      socket_id: bob.connection.socket_id, user_id: 2 });

    // cache_miss.
    assert.ok((await subscribed(alice, 'cache-x')).ok);
    assert.deepEqual(await receiver.waitForEvent((e) => e.name === 'cache_miss', 'cache_miss', '/webhook'),
      { name: 'cache_miss', channel: 'cache-x' });

    // subscription_count, only where configured (counted-*).
    assert.ok((await subscribed(alice, 'counted-1')).ok);
    assert.ok((await subscribed(bob, 'counted-1')).ok);
    await receiver.waitForEvent((e) => e.name === 'subscription_count' && e.subscription_count === 2, 'subscription_count 2', '/count');

    // channel_vacated only when the last subscriber leaves.
    alice.unsubscribe('news');
    bob.unsubscribe('news');
    assert.deepEqual(await receiver.waitForEvent((e) => e.name === 'channel_vacated' && e.channel === 'news', 'vacated news', '/webhook'),
      { name: 'channel_vacated', channel: 'news' });

    // Bob disconnects: member_removed, then channel_vacated of the presence channel.
    bob.disconnect();
    await receiver.waitForEvent((e) => e.name === 'channel_vacated' && e.channel === 'presence-room', 'vacated presence-room', '/webhook');
    // Both were enqueued in that order (concurrent deliveries may arrive in either order).
    const timeOf = (pred) => receiver.delivered('/webhook').find((r) => r.body.events.some(pred)).body.time_ms;
    await receiver.waitForEvent((e) => e.name === 'member_removed', 'member_removed', '/webhook');
    const removed = (e) => e.name === 'member_removed' && e.channel === 'presence-room' && e.user_id === 2;
    const vacated = (e) => e.name === 'channel_vacated' && e.channel === 'presence-room';
    assert.ok(timeOf(removed) <= timeOf(vacated), 'member_removed no later than channel_vacated');
  } finally {
    alice.disconnect();
    bob.disconnect();
  }
  await waitFor(() => receiver.events('/webhook').filter((e) => e.name === 'channel_vacated').length >= 5,
    { what: 'every channel vacated' });

  // Every request: signed and well-formed, one event each (no batching), custom header kept but
  // unable to replace Content-Type.
  for (const r of receiver.requests) checkRequest(r);
  for (const r of receiver.requests.filter((x) => x.url === '/webhook')) assert.equal(r.headers['x-custom'], 'yes');
  const hook = receiver.events('/webhook');
  const once = (name, channel) => hook.filter((e) => e.name === name && e.channel === channel).length;
  assert.equal(once('channel_occupied', 'news'), 1, 'one POST per URL, one occupied for news');
  assert.equal(once('channel_vacated', 'news'), 1);
  assert.equal(once('member_added', 'presence-room'), 1);
  assert.equal(receiver.events('/private').every((e) => e.channel.startsWith('private-')), true);
  assert.equal(receiver.events('/pattern').every((e) => e.channel === 'presence-room'), true);
  assert.equal(receiver.events('/count').every((e) => e.channel === 'counted-1'), true);
  assert.equal(hook.some((e) => e.name === 'subscription_count'), false);
});

test('batching: events of one app and URL go out together in occurrence order', async () => {
  const batchReceiver = await startWebhookReceiver();
  const node = await startServer({
    env: { WEBHOOK_BATCHING_ENABLED: 'true', WEBHOOK_BATCHING_DURATION: '300', WEBHOOK_BATCHING_SIZE: '4' },
    config: { app_manager: { array: { apps: [appWith([
      { url: batchReceiver.url('/batch'), event_types: ['channel_occupied'] }])] } } },
  });
  const c = client(node);
  try {
    await connected(c);
    const names = ['b-1', 'b-2', 'b-3', 'b-4', 'b-5', 'b-6'];
    await Promise.all(names.map((n) => subscribed(c, n)));
    await waitFor(() => batchReceiver.events().length >= names.length, { what: 'six batched events' });
    for (const r of batchReceiver.requests) checkRequest(r, { batched: true });
    const sizes = batchReceiver.requests.map((r) => r.body.events.length);
    assert.ok(sizes.every((n) => n <= 4), `batch sizes ${sizes}`);
    assert.ok(sizes.some((n) => n > 1), `some batch holds several events: ${sizes}`);
    // Occurrence order inside each batch (two batches may be delivered concurrently).
    for (const r of batchReceiver.requests) {
      const chans = r.body.events.map((e) => e.channel);
      assert.deepEqual(chans, [...chans].sort(), `in order within a batch: ${chans}`);
    }
    assert.deepEqual(batchReceiver.events().map((e) => e.channel).sort(), names);
  } finally {
    c.disconnect();
    await node.stop();
    await batchReceiver.close();
  }
});

test('a failing endpoint is retried with backoff, a 4xx is final, other endpoints are not held up', async () => {
  let failures = 0;
  const flaky = await startWebhookReceiver({ respond: (r) => {
    if (r.url === '/gone') return 404;
    if (r.url === '/flaky' && failures < 2) { failures++; return 500; }
    return 200;
  } });
  const node = await startServer({
    config: { webhooks: { retry: { initial_backoff_ms: 100, max_backoff_ms: 400 } },
      app_manager: { array: { apps: [appWith([
        { url: flaky.url('/flaky'), event_types: ['channel_occupied'] },
        { url: flaky.url('/gone'), event_types: ['channel_occupied'] },
        { url: flaky.url('/ok'), event_types: ['channel_occupied'] }])] } } },
  });
  const c = client(node);
  try {
    await connected(c);
    assert.ok((await subscribed(c, 'retry-me')).ok);
    await flaky.waitForEvent((e) => e.channel === 'retry-me', 'the healthy endpoint', '/ok');
    await flaky.waitForEvent((e) => e.channel === 'retry-me', 'the flaky endpoint after two 500s', '/flaky');
    const attempts = flaky.requests.filter((r) => r.url === '/flaky');
    assert.equal(attempts.length, 3);
    assert.equal(attempts[0].rawBody, attempts[2].rawBody, 'the same body bytes on retry');
    assert.equal(attempts[0].headers['x-pusher-signature'], attempts[2].headers['x-pusher-signature']);
    await waitFor(async () => {
      const m = await fetch(`http://127.0.0.1:${node.metricsPort}/metrics`).then((r) => r.text());
      return /webhook_jobs_total\{[^}]*outcome="dead_lettered"[^}]*\} 1/.test(m) &&
        /webhook_jobs_total\{[^}]*outcome="nacked"[^}]*\} 2/.test(m);
    }, { what: 'dead-letter and retry counts in /metrics' });
    assert.equal(flaky.requests.filter((r) => r.url === '/gone').length, 1, 'a 404 is not retried');
  } finally {
    c.disconnect();
    await node.stop();
    await flaky.close();
  }
});

test('a slow endpoint does not hold up another endpoint', async () => {
  let release;
  const held = new Promise((resolve) => { release = resolve; });
  const slow = await startWebhookReceiver({ respond: (r) => (r.url === '/slow' ? held.then(() => 200) : 200) });
  const node = await startServer({
    config: { app_manager: { array: { apps: [appWith([
      { url: slow.url('/slow'), event_types: ['channel_occupied'] },
      { url: slow.url('/fast'), event_types: ['channel_occupied'] }])] } } },
  });
  const c = client(node);
  try {
    await connected(c);
    const names = Array.from({ length: 12 }, (_, i) => `slow-${i}`);
    for (const n of names) assert.ok((await subscribed(c, n)).ok);
    // Every /slow request is still pending, yet /fast got all twelve.
    await waitFor(() => slow.events('/fast').length === names.length, { what: 'the fast endpoint served' });
    assert.equal(slow.delivered('/slow').length, 0);
    release();
    await waitFor(() => slow.events('/slow').length === names.length, { what: 'the slow endpoint catching up' });
  } finally {
    release();
    c.disconnect();
    await node.stop();
    await slow.close();
  }
});

// Webhooks through the `redis-cluster` queue: the same at-least-once path as the `redis` queue on
// a real three-master Redis Cluster (the queue's keys share one hash slot; the node finds its
// master through MOVED from whichever seed it starts at). The receiver fails (500) for a while,
// the node that queued the jobs is stopped, a new node starts on the same cluster, the receiver
// recovers, and every webhook arrives, signed, with one body for every attempt.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { startServer } = require('../support/server');
const { startRedisCluster, respCommand } = require('../support/brokers');
const { startWebhookReceiver } = require('../support/webhook_receiver');
const { client, connected, subscribed, waitFor } = require('../support/pusher_clients');

const BASE = 'sockudo_queue:v2:{webhooks}';

// A command on the master that owns the queue's slot.
async function onOwner(cluster, args) {
  for (const n of cluster.nodes) {
    try { return await respCommand(n.port, args); } catch (_) { /* MOVED: not this master */ }
  }
  throw new Error(`no master answered ${args.join(' ')}`);
}

test('a receiver outage across a node restart loses no webhook (redis-cluster queue)', async () => {
  const cluster = await startRedisCluster();
  let down = true;
  const receiver = await startWebhookReceiver({ respond: () => (down ? 500 : 200) });
  // Seeds in reverse order: the first one is usually not the slot's owner.
  const seeds = cluster.nodes.map((n) => `127.0.0.1:${n.port}`).reverse().join(',');
  const options = {
    env: { QUEUE_DRIVER: 'redis-cluster', REDIS_CLUSTER_NODES: seeds, QUEUE_WORKER_POLL_INTERVAL_MS: '100',
           QUEUE_LEASE_DURATION_MS: '5000' },
    config: {
      webhooks: { retry: { initial_backoff_ms: 200, max_backoff_ms: 800, max_elapsed_time_ms: 120000 } },
      app_manager: { array: { apps: [{ id: 'app-id', key: 'app-key', secret: 'app-secret', webhooks: [
        { url: receiver.url('/webhook'), event_types: ['channel_occupied', 'channel_vacated'] }] }] } },
    },
  };
  const channels = ['outage-1', 'outage-2', 'outage-3'];
  let first = null;
  let second = null;
  try {
    first = await startServer(options);
    const c = client(first);
    await connected(c);
    for (const ch of channels) assert.ok((await subscribed(c, ch)).ok);
    c.disconnect();
    const attempted = (name) => new Set(receiver.requests.flatMap((r) => r.body.events)
      .filter((e) => e.name === name).map((e) => e.channel));
    await waitFor(() => attempted('channel_occupied').size === 3 && attempted('channel_vacated').size === 3,
      { timeoutMs: 10000, what: 'a failed attempt of every webhook' });
    assert.equal(receiver.delivered().length, 0);
    await first.stop();
    first = null;

    // The jobs wait in the cluster (ready or delayed for a retry).
    const queued = Number(await onOwner(cluster, ['LLEN', `${BASE}:wait`])) +
      Number(await onOwner(cluster, ['ZCARD', `${BASE}:delayed`])) +
      Number(await onOwner(cluster, ['ZCARD', `${BASE}:active`]));
    assert.equal(queued, 6, 'six jobs left in the cluster');

    down = false;
    second = await startServer(options);
    const delivered = (name) => new Set(receiver.events().filter((e) => e.name === name).map((e) => e.channel));
    await waitFor(() => delivered('channel_occupied').size === 3 && delivered('channel_vacated').size === 3,
      { timeoutMs: 20000, what: 'every webhook delivered after the recovery' });
    for (const r of receiver.requests) assert.ok(r.valid, 'signed with the app secret');
    for (const ch of channels) {
      const bodies = new Set(receiver.requests.filter((r) => r.body.events[0].channel === ch &&
        r.body.events[0].name === 'channel_occupied').map((r) => r.rawBody));
      assert.equal(bodies.size, 1, `one body for every attempt of ${ch}`);
    }
    await waitFor(async () => Number(await onOwner(cluster, ['ZCARD', `${BASE}:active`])) === 0 &&
      Number(await onOwner(cluster, ['LLEN', `${BASE}:wait`])) === 0 &&
      Number(await onOwner(cluster, ['ZCARD', `${BASE}:delayed`])) === 0, { what: 'an empty queue' });
    assert.equal(Number(await onOwner(cluster, ['ZCARD', `${BASE}:dlq`])), 0, 'nothing dead-lettered');
  } finally {
    if (first) await first.stop();
    if (second) await second.stop();
    await receiver.close();
    await cluster.stop();
  }
});

// Occupancy webhooks exactly once across a cluster (spec/cluster.md §8.8): with a shared cache
// driver the nodes keep cluster-wide socket counts per channel in Redis, so `channel_occupied`
// and `channel_vacated` are sent once per transition whichever nodes the subscribers are on, and
// the leader takes a node killed -9 out of the counts (vacating what only it held). Real nodes,
// real Redis / Redis Cluster, real pusher-js clients, a real webhook receiver.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { startCluster, killNode, metricValue } = require('../support/cluster');
const { startWebhookReceiver } = require('../support/webhook_receiver');
const { client, connected, subscribed, waitFor } = require('../support/pusher_clients');
const { httpRequest } = require('../support/wait');
const { respCommand, keyCommand } = require('../support/brokers');

const ROUNDS = 5;

async function occupancyCluster(driver, receiver) {
  return startCluster({
    driver,
    nodes: 2,
    env: { CACHE_DRIVER: driver },
    config: { app_manager: { array: { apps: [{ id: 'app-id', key: 'app-key', secret: 'app-secret', webhooks: [
      { url: receiver.url('/webhook'), event_types: ['channel_occupied', 'channel_vacated'] }] }] } } },
  });
}

// Per channel, how many of each event the receiver got.
function tally(receiver, name) {
  const out = new Map();
  for (const e of receiver.events()) if (e.name === name) out.set(e.channel, (out.get(e.channel) || 0) + 1);
  return out;
}

async function jobs(node, outcome) {
  const r = await httpRequest({ port: node.metricsPort, path: '/metrics' });
  const line = r.text.split('\n').find((l) => l.startsWith(`sockudo_webhook_jobs_total{outcome="${outcome}"}`));
  return line ? Number(line.split(' ').pop()) : 0;
}

// The cluster-wide count of `channel` as Redis holds it (on whichever master owns its slot).
async function storedCount(broker, channel) {
  return Number((await keyCommand(broker, ['GET', `sockudo_cache::app:app-id:channel:${channel}:sockets`])) || 0);
}

// Every job a node queued is delivered, and the totals hold still over a few polls.
async function settled(nodes) {
  let last = null;
  let still = 0;
  await waitFor(async () => {
    const now = [];
    for (const n of nodes) now.push(await jobs(n, 'enqueued'), await jobs(n, 'completed'));
    const done = nodes.every((_, i) => now[2 * i] === now[2 * i + 1]);
    still = done && JSON.stringify(now) === last ? still + 1 : 0;
    last = JSON.stringify(now);
    return still >= 3;
  }, { timeoutMs: 10000, intervalMs: 100, what: 'every queued webhook delivered' });
}

for (const driver of ['redis', 'redis-cluster']) {
  test(`${driver}: subscribers on two nodes come and go together: occupied and vacated once each`, async () => {
    const receiver = await startWebhookReceiver();
    const cluster = await occupancyCluster(driver, receiver);
    const clients = [];
    try {
      const [a, b] = cluster.nodes.map((n) => client(n));
      clients.push(a, b);
      await Promise.all([connected(a), connected(b)]);
      // Public channels (counted before subscription_succeeded) and presence channels (counted
      // right after the join).
      const channels = Array.from({ length: ROUNDS }, (_, i) => (i % 2 ? `presence-occupancy-${i}` : `occupancy-${i}`));
      for (const ch of channels) {
        // Both subscribe at once, then both leave at once.
        const subs = await Promise.all([subscribed(a, ch), subscribed(b, ch)]);
        assert.ok(subs.every((s) => s.ok));
        // Both sockets are in the count (a public socket was before its subscription_succeeded;
        // a presence socket is counted right after joining).
        await waitFor(async () => (await storedCount(cluster.broker, ch)) === 2, { what: `the count of ${ch} at 2` });
        a.unsubscribe(ch);
        b.unsubscribe(ch);
      }
      await waitFor(() => channels.every((ch) => tally(receiver, 'channel_vacated').get(ch) >= 1),
        { timeoutMs: 10000, what: 'channel_vacated for every channel' });
      await settled(cluster.nodes);
      for (const ch of channels) {
        assert.equal(tally(receiver, 'channel_occupied').get(ch), 1, `channel_occupied of ${ch}`);
        assert.equal(tally(receiver, 'channel_vacated').get(ch), 1, `channel_vacated of ${ch}`);
      }
      assert.ok(receiver.delivered().every((r) => r.valid), 'signed with the app secret');
      for (const n of cluster.nodes) assert.equal(await metricValue(n, 'sockudo_cache_backend_errors_total'), 0);
    } finally {
      for (const c of clients) c.disconnect();
      await cluster.stop();
      await receiver.close();
    }
  });
}

test('redis: a node killed -9 leaves the counts: the leader vacates the channels it held last', async () => {
  const receiver = await startWebhookReceiver();
  const cluster = await occupancyCluster('redis', receiver);
  const clients = [];
  try {
    const [victim, survivor] = cluster.nodes;
    const onVictim = client(victim);
    const onSurvivor = client(survivor);
    clients.push(onVictim, onSurvivor);
    await Promise.all([connected(onVictim), connected(onSurvivor)]);
    // `shared` ends with its last socket on the victim; `only-victim` only ever had the victim's.
    assert.ok((await subscribed(onVictim, 'shared')).ok);
    assert.ok((await subscribed(onSurvivor, 'shared')).ok);
    assert.ok((await subscribed(onVictim, 'only-victim')).ok);
    onSurvivor.unsubscribe('shared');
    await waitFor(() => tally(receiver, 'channel_occupied').size === 2, { what: 'channel_occupied of both channels' });
    await killNode(victim);
    onVictim.disconnect();
    await waitFor(() => tally(receiver, 'channel_vacated').size === 2,
      { timeoutMs: 15000, what: 'channel_vacated of both channels from the leader' });
    await settled([survivor]);
    assert.deepEqual([...tally(receiver, 'channel_occupied').entries()].sort(), [['only-victim', 1], ['shared', 1]]);
    assert.deepEqual([...tally(receiver, 'channel_vacated').entries()].sort(), [['only-victim', 1], ['shared', 1]]);
    // Nothing of the dead node is left in Redis, and no count.
    assert.deepEqual(await respCommand(cluster.broker.port, ['KEYS', '*occupancy*']), []);
    assert.deepEqual(await respCommand(cluster.broker.port, ['KEYS', '*:sockets']), []);
  } finally {
    for (const c of clients) c.disconnect();
    await cluster.stop();
    await receiver.close();
  }
});

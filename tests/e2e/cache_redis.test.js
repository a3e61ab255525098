// Cache channels over the shared `redis` cache (spec/backends.md §3): the last event published
// through one node's HTTP API is what a subscriber on another node gets on subscribe (byte for
// byte, after subscription_succeeded), `info=cache` on either node shows it with its TTL, a
// channel never published to misses with pusher:cache_miss, and pusher-js receives it too. A
// Redis outage turns reads into misses (counted) without failing a subscribe or a publish.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { startCluster, metricValue } = require('../support/cluster');
const { RawClient, apiRequest } = require('../support/raw_client');
const { client, connected, waitFor } = require('../support/pusher_clients');

test('a cache channel\'s last event published on one node is served to a subscriber on another', async () => {
  const cluster = await startCluster({ driver: 'redis', nodes: 2,
    env: { CACHE_DRIVER: 'redis', CACHE_TTL_SECONDS: '600' } });
  const clients = [];
  try {
    const [a, b] = cluster.nodes;
    const publish = (node, channel, data) => apiRequest(node, { method: 'POST', path: '/apps/app-id/events',
      body: { name: 'price', channel, data } });
    assert.equal((await publish(a, 'cache-prices', '{"eur":1}')).status, 200);
    assert.equal((await publish(a, 'cache-prices', '{"eur":2}')).status, 200);
    // Stored in the shared store under the key of the spec (the last publish wins; the write
    // follows the 200 by a moment), with the channel TTL.
    const key = 'sockudo_cache::app:app-id:channel:cache-prices:cache_miss';
    const latest = '{"event":"price","channel":"cache-prices","data":"{\\"eur\\":2}"}';
    await waitFor(async () => (await cluster.broker.command(['GET', key])) === latest,
      { what: 'the last event in the shared cache' });
    const ttl = await cluster.broker.command(['TTL', key]);
    assert.ok(ttl > 590 && ttl <= 600, String(ttl));

    const raw = await RawClient.connect(b);
    clients.push(raw);
    const ok = await raw.subscribe('cache-prices');
    assert.equal(ok.event, 'pusher_internal:subscription_succeeded');
    const replay = await raw.next((f) => f.event === 'price');
    assert.deepEqual(replay, { event: 'price', channel: 'cache-prices', data: '{"eur":2}' });
    const okIndex = raw.frames.findIndex((f) => f.json.event === 'pusher_internal:subscription_succeeded');
    const replayIndex = raw.frames.findIndex((f) => f.json.event === 'price');
    assert.ok(okIndex < replayIndex);
    // Never published: a miss.
    await raw.subscribe('cache-empty');
    assert.deepEqual(await raw.next((f) => f.event === 'pusher:cache_miss'), { event: 'pusher:cache_miss', channel: 'cache-empty' });

    // The HTTP API of the other node shows the cached event.
    const info = await apiRequest(b, { path: '/apps/app-id/channels/cache-prices', query: { info: 'cache' } });
    assert.equal(info.status, 200, info.text);
    assert.equal(info.json.cache.event, 'price');
    assert.equal(info.json.cache.data, '{"eur":2}');
    assert.ok(info.json.cache.ttl > 590);

    // pusher-js on node B: the cached event arrives as a normal event of the channel.
    const pusher = client(b);
    clients.push({ close: () => pusher.disconnect() });
    await connected(pusher);
    const got = [];
    pusher.subscribe('cache-prices').bind('price', (d) => got.push(d));
    await waitFor(() => got.length === 1, { what: 'pusher-js to get the cached event' });
    assert.deepEqual(got[0], { eur: 2 });

    // Redis (the bus too, here) goes away: a subscribe still succeeds, with a miss, and the
    // failed read is counted.
    await cluster.broker.stop();
    const late = await RawClient.connect(b);
    clients.push(late);
    assert.equal((await late.subscribe('cache-prices')).event, 'pusher_internal:subscription_succeeded');
    assert.deepEqual(await late.next((f) => f.event === 'pusher:cache_miss'), { event: 'pusher:cache_miss', channel: 'cache-prices' });
    await waitFor(async () => (await metricValue(b, 'sockudo_cache_backend_errors_total')) > 0,
      { what: 'the cache error to be counted' });
  } finally {
    for (const c of clients) await c.close();
    await cluster.stop();
  }
});

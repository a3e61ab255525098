// The `redis` rate limiter shared by two real nodes (spec/backends.md §4): one client IP's
// HTTP API window is counted across both nodes, an app's backend-events bucket too, and a Redis
// outage fails open (requests are not refused, the store errors are counted in /metrics).
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { startRedis } = require('../support/brokers');
const { startServer } = require('../support/server');
const { apiRequest } = require('../support/raw_client');
const { httpRequest, waitFor } = require('../support/wait');
const { metricValue } = require('../support/cluster');

const APPS = [
  { id: 'app-id', key: 'app-key', secret: 'app-secret' },
  { id: 'limited', key: 'limited-key', secret: 'limited-secret', max_backend_events_per_second: 1 },
];

test('two nodes share one redis rate limiter; an outage fails open', async () => {
  const redis = await startRedis();
  const nodes = [];
  try {
    const options = {
      // The local adapter: the nodes share nothing but the limiter's Redis.
      env: { RATE_LIMITER_ENABLED: 'true', RATE_LIMITER_DRIVER: 'redis', REDIS_URL: redis.url,
             RATE_LIMITER_API_MAX_REQUESTS: '4', RATE_LIMITER_REDIS_PREFIX: 'e2e_rl' },
      config: { app_manager: { array: { apps: APPS } } },
    };
    nodes.push(await startServer(options), await startServer(options));
    const [a, b] = nodes;
    const get = (node) => httpRequest({ port: node.port, path: '/apps/app-id/channels' });

    // One client IP (127.0.0.1): 4 requests per window over both nodes, whichever they reach.
    const remaining = [];
    for (const node of [a, b, a, b]) {
      const r = await get(node);
      assert.notEqual(r.status, 429);
      remaining.push(r.headers['x-ratelimit-remaining']);
    }
    assert.deepEqual(remaining, ['3', '2', '1', '0']);
    for (const node of [a, b]) {
      const r = await get(node);
      assert.equal(r.status, 429);
      assert.deepEqual(r.json, { error: 'Too many requests.', code: 429 });
    }
    assert.equal(await redis.command(['ZCARD', 'e2e_rl:rl:api:127.0.0.1']), 4);

    // The app's bucket (1 event per second) is one for both nodes. The per-IP window is spent:
    // clear it so that the app's bucket decides.
    await redis.command(['DEL', 'e2e_rl:rl:api:127.0.0.1']);
    const publish = (node) => apiRequest(node, { method: 'POST', path: '/apps/limited/events', key: 'limited-key',
      secret: 'limited-secret', body: { name: 'e', data: 'd', channel: 'c' } });
    const started = Date.now();
    const first = await publish(a);
    const second = await publish(b);
    assert.equal(first.status, 200, first.text);
    if (Date.now() - started < 900) {  // the bucket refills one token per second
      assert.equal(second.status, 429, second.text);
      assert.equal(second.headers['x-ratelimit-limit'], '1');
      assert.ok(Number(second.headers['retry-after']) >= 1);
    }

    // Redis goes away: the spent window no longer refuses anyone (fail open), and both nodes
    // count the store errors.
    for (let i = 0; i < 4; i++) await get(a);  // spend the window again
    assert.equal((await get(a)).status, 429);
    await redis.stop();
    for (const node of [a, b]) {
      const r = await get(node);
      assert.notEqual(r.status, 429, r.text);
      await waitFor(async () => (await metricValue(node, 'sockudo_rate_limit_backend_errors_total')) > 0,
        { what: 'the store error to be counted' });
    }
    assert.match(a.output() + b.output(), /rate limiter store failed, request allowed \(fail open/);
  } finally {
    for (const n of nodes) await n.stop();
    await redis.stop();
  }
});

// Webhooks through the `redis` queue: the receiver fails (500) for a while, the node that queued
// the jobs is stopped, a new node starts on the same Redis, the receiver recovers, and every
// webhook arrives (at least once, signed, same body on every attempt). The scenario is
// support/webhook_outage.js.
'use strict';
const { test } = require('node:test');
const { startRedis } = require('../support/brokers');
const { webhookOutageAcrossRestart } = require('../support/webhook_outage');

test('a receiver outage across a node restart loses no webhook (redis queue)', async () => {
  const redis = await startRedis();
  try {
    await webhookOutageAcrossRestart({
      queueEnv: { QUEUE_DRIVER: 'redis', REDIS_URL: redis.url },
      command: (args) => redis.command(args),
      channels: ['outage-1', 'outage-2', 'outage-3', 'outage-4', 'outage-5'],
    });
  } finally {
    await redis.stop();
  }
});

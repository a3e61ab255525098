// Webhooks through the `redis-cluster` queue: the same at-least-once scenario as the `redis`
// queue (support/webhook_outage.js) on a real three-master Redis Cluster. The queue's keys share
// one hash slot; the node finds its master through MOVED from whichever seed it starts at (the
// seeds are given in reverse order, so the first one is usually not the owner).
'use strict';
const { test } = require('node:test');
const { startRedisCluster, keyCommand } = require('../support/brokers');
const { webhookOutageAcrossRestart } = require('../support/webhook_outage');

test('a receiver outage across a node restart loses no webhook (redis-cluster queue)', async () => {
  const cluster = await startRedisCluster();
  try {
    await webhookOutageAcrossRestart({
      queueEnv: { QUEUE_DRIVER: 'redis-cluster',
                  REDIS_CLUSTER_NODES: cluster.nodes.map((n) => `127.0.0.1:${n.port}`).reverse().join(',') },
      command: (args) => keyCommand(cluster, args),
      channels: ['outage-1', 'outage-2', 'outage-3'],
    });
  } finally {
    await cluster.stop();
  }
});

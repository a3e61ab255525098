// Chaos 3: the Redis master goes away under load and a replica takes over (spec/cluster.md §12.2
// Sentinel, §12.3 Redis Cluster). Three real nodes, pusher-js subscribers and one presence member
// per node, a steady publish load through the `pusher` SDK.
//   sentinel       redis driver behind a Sentinel (master + replica); the master is killed (-9),
//                  the sentinel promotes the replica: the nodes ask the sentinel again and follow
//                  (long form: then a SENTINEL FAILOVER back)
//   redis-cluster  3 masters + 3 replicas; the master the nodes' subscribers use is killed (-9);
//                  its replica is promoted: the nodes resubscribe elsewhere and route to the new
//                  master (long form: the same with sharded pub/sub, and a CLUSTER FAILOVER)
// Checked: every answer is 200 or 503; nothing arrives twice; afterwards every node is /up,
// counted its reconnection, and an event from every node reaches every subscriber; presence lists
// are exact on every node. Pub/sub gives no guarantee for events published while a subscriber
// moves (§12.3), so those are counted ("lost") and not asserted.
'use strict';
const { test } = require('node:test');
const { startCluster } = require('../support/cluster');
const { startRedisSentinel, startRedisCluster, respCommand, clusterNodes } = require('../support/brokers');
const S = require('./chaos_support');

const { assert } = S;
const SUBS_PER_NODE = S.scale(2, 4);

async function underLoad(cluster, name, doFailover, { expectReconnect = true } = {}) {
  const clients = [];
  const nodes = cluster.nodes;
  const channelName = `fo-${name}`;
  try {
    const subs = await S.openSubscribers(nodes, channelName, SUBS_PER_NODE, clients);
    const members = [];
    for (let i = 0; i < nodes.length; i++) members.push(await S.openPresence(nodes[i], `fo-${name}-${i}`, 'presence-fo', clients));
    const expected = members.map((m) => m.userId).sort();
    await S.waitPresenceExact({ observers: members, nodes, channelName: 'presence-fo', expected });
    const reconnectsBefore = await S.metricSum(nodes, 'sockudo_horizontal_transport_reconnections_total');
    const pub = new S.Publisher({ nodes: () => nodes, channelName, intervalMs: S.SANITIZER ? 50 : 20, maxCount: 5000, maxMs: 60000 }).start();
    let figures;
    try {
      await S.waitFor(() => pub.count(200) >= 20, { timeoutMs: 10000, what: 'the load to run' });
      const t0 = S.now();
      const detail = await doFailover();
      const failedOver = S.now();
      await S.upEverywhere(nodes, 30000);
      const probeMs = await S.probeEveryNode(nodes, subs, channelName, 'fo', 30000);
      const recoverMs = S.now() - t0;
      const seqAt = pub.seq;
      await S.waitFor(() => pub.seq >= seqAt + 20, { timeoutMs: 10000, what: 'the load after the failover' });
      await pub.stop();
      const d = await S.settleDeliveries(pub, subs);
      await S.waitPresenceExact({ observers: members, nodes, channelName: 'presence-fo', expected },
        { timeoutMs: 20000, what: 'presence to be exact after the failover' });
      const reconnects = (await S.metricSum(nodes, 'sockudo_horizontal_transport_reconnections_total')) - reconnectsBefore;
      figures = {
        ...detail, publishes: d.publishes, statuses: d.statuses, deliveriesExpected: d.expected, deliveriesSeen: d.seen,
        lost: d.lost, duplicated: d.duplicated, ghosts: 0, failoverMs: failedOver - t0, recoverMs,
        firstDeliveryEverywhereMs: probeMs, maxAnswerMs: d.maxAnswerMs, busReconnects: reconnects,
      };
      S.figures('failover', name, figures);
      for (const [status, n] of Object.entries(d.statuses)) {
        assert.ok(status === '200' || status === '503', `${n} publishes answered ${status}`);
      }
      assert.equal(d.subscribersStayed, subs.length, 'a subscriber lost its WebSocket');
      assert.equal(d.duplicated, 0, 'an event arrived twice');
      if (expectReconnect) assert.ok(reconnects >= 1, `a node resubscribed (${reconnects})`);
      // Events published once everything was back are all delivered.
      const after = pub.records.filter((r) => r.sentAt >= t0 + recoverMs && r.status === 200).map((r) => r.seq);
      const lostAfter = d.lostAll.filter((l) => after.includes(l.seq));
      assert.equal(lostAfter.length, 0, `events published after the recovery were lost: ${JSON.stringify(lostAfter.slice(0, 5))}`);
    } finally {
      await pub.stop();
    }
  } finally {
    for (const c of clients) c.close();
  }
}

test('sentinel: the master fails over under load: nodes follow the new master and resubscribe', async () => {
  const sentinel = await startRedisSentinel();
  const cluster = await startCluster({ driver: 'redis', nodes: 3, config: S.CHAOS_CONFIG, env: S.CHAOS_ENV, broker: sentinel });
  try {
    await underLoad(cluster, 'sentinel-kill', async () => {
      const from = await sentinel.masterPort();
      const to = await sentinel.killMaster();
      return { driverMode: 'sentinel', killed: from, promoted: to };
    });
    // The nodes' subscriptions are on the new master.
    const to = await sentinel.masterPort();
    await S.waitFor(async () => (await respCommand(to, ['CLIENT', 'LIST'])).split('\n').filter((l) => /\bsub=[1-9]/.test(l)).length >= 3,
      { timeoutMs: 10000, what: 'every node to subscribe on the new master' });
    if (S.LONG) {
      // A graceful SENTINEL FAILOVER back to the old master once it runs again as a replica.
      await sentinel.servers.find((x) => x.broker.exited()).broker.start();
      await underLoad(cluster, 'sentinel-manual', async () => {
        const from = await sentinel.masterPort();
        return { driverMode: 'sentinel', from, to: await sentinel.failover() };
      }, { expectReconnect: false });  // a graceful failover may leave the nodes on the demoted master, which keeps working
    }
  } finally {
    await cluster.stop();
  }
});

// The master holding the most subscriber connections of the nodes (CLIENT LIST), or the first.
async function busiestMaster(redis) {
  let best = null;
  for (const n of redis.nodes) {
    if (n.broker.exited()) continue;
    const role = await respCommand(n.port, ['ROLE']).catch(() => null);
    if (!role || role[0] !== 'master') continue;
    const list = await respCommand(n.port, ['CLIENT', 'LIST']);
    const subs = list.split('\n').filter((l) => /\b(sub|ssub)=[1-9]/.test(l) || /ssub=[1-9]/.test(l)).length;
    if (!best || subs > best.subs) best = { node: n, subs };
  }
  return best;
}

async function killMasterAndWaitForPromotion(redis) {
  const { node: victim, subs } = await busiestMaster(redis);
  const survivors = redis.nodes.filter((n) => n !== victim && !n.broker.exited());
  const victimId = (await clusterNodes(survivors[0].port)).find((x) => x.port === victim.port).id;
  await victim.broker.stop();
  await S.waitFor(async () => {
    try {
      const info = await respCommand(survivors[0].port, ['CLUSTER', 'INFO']);
      if (!/cluster_state:ok/.test(info)) return false;
      const seen = await clusterNodes(survivors[0].port);
      return seen.filter((x) => x.master && !x.failed && x.id !== victimId).length === 3;
    } catch (_) { return false; }
  }, { timeoutMs: 30000, intervalMs: 100, what: 'a replica to be promoted' });
  return { killed: victim.port, subscribersOnIt: subs };
}

for (const sharded of S.LONG ? [false, true] : [false]) {
  const mode = sharded ? 'redis-cluster-sharded' : 'redis-cluster';
  test(`${mode}: a master is killed under load: its replica is promoted, nodes resubscribe and route to it`, async () => {
    const redis = await startRedisCluster({ replicas: 1 });
    const env = sharded ? { ADAPTER_CLUSTER_USE_SHARDED_PUBSUB: 'true' } : {};
    const cluster = await startCluster({ driver: 'redis-cluster', nodes: 3, config: S.CHAOS_CONFIG, broker: redis, env: { ...S.CHAOS_ENV, ...env } });
    try {
      await underLoad(cluster, `${mode}-kill`, async () => ({ driverMode: mode, ...(await killMasterAndWaitForPromotion(redis)) }));
      if (S.LONG) {
        // A graceful CLUSTER FAILOVER on a replica of the busiest master.
        await underLoad(cluster, `${mode}-manual`, async () => {
          const { node: master } = await busiestMaster(redis);
          const seen = await clusterNodes(master.port);
          const me = seen.find((x) => x.port === master.port);
          const replica = seen.find((x) => x.masterId === me.id && !x.failed);
          await respCommand(replica.port, ['CLUSTER', 'FAILOVER']);
          await S.waitFor(async () => (await respCommand(replica.port, ['ROLE']))[0] === 'master',
            { timeoutMs: 20000, what: 'the manual failover' });
          return { driverMode: mode, manualFrom: master.port, manualTo: replica.port };
        }, { expectReconnect: false });  // the demoted master keeps its clients and keeps working
      }
    } finally {
      await cluster.stop();
    }
  });
}

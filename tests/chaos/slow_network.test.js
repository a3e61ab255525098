// Chaos 5: a slow network: 100 ms added each way on one node's link to the broker (spec/cluster.md
// §6.3 deadlines, §10 heartbeats). Three real nodes, each behind its own fault proxy; the first
// one's proxy delays every byte by 100 ms in both directions (order kept), so any request that
// involves it takes at least 200 ms more. Checked, for requests made on the slow node and on a
// fast one:
//   - full-class requests (presence users, channel lists: deadline T, 1000 ms for redis-cluster,
//     5000 ms otherwise) still get every answer: complete, correct lists, answered within T;
//   - fast-class requests (SocketsCount for an app's connection quota: deadline
//     clamp(50 ms x 3, 200 ms, T) = 200 ms) time out as the spec says: the connection is decided
//     on time and the node counts an incomplete request;
//   - publishes from every node are answered 200 and delivered everywhere, once;
//   - heartbeats are late but no node is declared dead.
'use strict';
const { test } = require('node:test');
const { startCluster } = require('../support/cluster');
const { client, connected, serverSdk } = require('../support/pusher_clients');
const { httpRequest } = require('../support/wait');
const S = require('./chaos_support');

const { assert } = S;
const DELAY_MS = 100;
const T = { redis: 5000, 'redis-cluster': 1000, nats: 5000 };
const FAST_DEADLINE_MS = 200;
const SLACK_MS = 500 * S.TIME_SCALE;

async function metricTotal(node, name) {
  const r = await httpRequest({ port: node.metricsPort, path: '/metrics' });
  return r.text.split('\n').filter((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`))
    .reduce((s, l) => s + Number(l.split(' ').pop()), 0);
}

async function timed(fn) {
  const t0 = S.now();
  const value = await fn();
  return { value, ms: S.now() - t0 };
}

for (const driver of ['redis', 'redis-cluster', 'nats']) {
  test(`${driver}: 100 ms added on one node's bus link: deadlines hold, answers complete or timed out as specified`, async () => {
    const clients = [];
    const cluster = await startCluster({ driver, nodes: 3, busProxy: true, config: S.APPS });
    try {
      const nodes = cluster.nodes;
      const [slow, fast] = nodes;
      const subs = await S.openSubscribers(nodes, 'slow-net', 1, clients);
      const members = [];
      for (let i = 0; i < nodes.length; i++) members.push(await S.openPresence(nodes[i], `slow-${i}`, 'presence-slow', clients));
      const expected = members.map((m) => m.userId).sort();
      await S.waitPresenceExact({ observers: members, nodes, channelName: 'presence-slow', expected });
      const deadBefore = await S.metricSum(nodes, 'sockudo_cluster_dead_nodes_total');

      slow.busProxy.delay(DELAY_MS);
      const fig = { delayMsEachWay: DELAY_MS, requestDeadlineMs: T[driver] };
      // Full-class requests: complete and within T.
      const full = [];
      for (const n of [slow, fast]) {
        for (let i = 0; i < (S.LONG ? 10 : 1); i++) {
          const users = await timed(() => S.httpUsers(n, 'presence-slow'));
          assert.deepEqual(users.value, expected, `presence users on :${n.port} with a slow link`);
          const list = await timed(async () => (await serverSdk(n).get({ path: '/channels', params: { filter_by_prefix: 'slow-' } })).json());
          assert.deepEqual(Object.keys(list.value.channels), ['slow-net'], `channel list on :${n.port}`);
          const count = await timed(async () => (await serverSdk(n).get({ path: '/channels/slow-net', params: { info: 'subscription_count' } })).json());
          assert.equal(count.value.subscription_count, nodes.length, `subscription_count on :${n.port}`);
          full.push(users.ms, list.ms, count.ms);
        }
      }
      fig.fullRequestMaxMs = Math.max(...full);
      fig.fullRequestMinMs = Math.min(...full);
      assert.ok(fig.fullRequestMaxMs <= T[driver] + SLACK_MS, `a full-class answer took ${fig.fullRequestMaxMs} ms (deadline ${T[driver]})`);
      assert.ok(fig.fullRequestMinMs >= 2 * DELAY_MS - 20, `the delay is real (${fig.fullRequestMinMs} ms)`);

      // Fast-class requests: the quota check of a new connection gives up at its deadline. The
      // slow link's round trip (2 x 100 ms) sits right at that 200 ms deadline, so an answer may
      // also just make it: the request must settle, either way, and the connection must not wait
      // past the deadline.
      const fastMs = [];
      const settled = async (n) => (await metricTotal(n, 'sockudo_horizontal_adapter_uncomplete_promises')) +
        (await metricTotal(n, 'sockudo_horizontal_adapter_resolved_promises'));
      for (const n of [slow, fast]) {
        const before = await settled(n);
        const quotaSdk = serverSdk(n, { appId: 'quota', key: 'quota-key', secret: 'quota-secret' });
        const t0 = S.now();
        const q = client(n, { key: 'quota-key', sdk: quotaSdk });
        clients.push({ close: () => q.disconnect() });
        await connected(q);
        fastMs.push(S.now() - t0);
        await S.waitFor(async () => (await settled(n)) > before,
          { timeoutMs: 3000, what: `the quota request on :${n.port} to settle (answered or timed out)` });
      }
      fig.quotaConnectMaxMs = Math.max(...fastMs);
      assert.ok(fig.quotaConnectMaxMs <= FAST_DEADLINE_MS + SLACK_MS, `a connection waited ${fig.quotaConnectMaxMs} ms for its quota check`);

      // Publishes from every node: 200, delivered everywhere once.
      const pub = new S.Publisher({ nodes: () => nodes, channelName: 'slow-net', intervalMs: 20, maxCount: S.LONG ? 600 : S.scale(30, 600), maxMs: 30000 }).start();
      await pub.done;
      const d = await S.settleDeliveries(pub, subs, 5000);
      const deadAfter = await S.metricSum(nodes, 'sockudo_cluster_dead_nodes_total');
      for (const n of nodes) assert.equal(await S.metricSum([n], 'sockudo_cluster_nodes'), nodes.length, `:${n.port} still counts every node`);
      slow.busProxy.delay(0);
      Object.assign(fig, {
        publishes: d.publishes, statuses: d.statuses, deliveriesExpected: d.expected, deliveriesSeen: d.seen,
        lost: d.lost, duplicated: d.duplicated, ghosts: 0, publishAnswerMaxMs: d.maxAnswerMs, nodesDeclaredDead: deadAfter - deadBefore,
      });
      S.figures('slow_network', driver, fig);
      assert.deepEqual(Object.keys(d.statuses), ['200'], `publish answers ${JSON.stringify(d.statuses)}`);
      assert.equal(d.lost, 0, `events lost: ${JSON.stringify(d.lostSeqs)}`);
      assert.equal(d.duplicated, 0, 'an event arrived twice');
      assert.equal(deadAfter, deadBefore, 'a node was declared dead because of a 100 ms delay');
    } finally {
      for (const c of clients) c.close();
      for (const p of cluster.proxies) p.heal();
      await cluster.stop();
    }
  });
}

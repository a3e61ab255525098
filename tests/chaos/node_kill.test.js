// Chaos 4: kill -9 a node during presence churn (spec/cluster.md §8.7, §10.2). Four real nodes;
// pusher-js presence clients keep joining and leaving on every node (bounded churn) while one node
// is SIGKILLed. Some users have a connection on the victim and another one on a survivor.
// Checked: the survivors' clients get member_removed for every user that only had the victim;
// never for a user still connected elsewhere; when the churn stops every client and every
// surviving node lists exactly the connected users (no ghost, nobody missing), and each leaver's
// last event on every client is its member_removed.
'use strict';
const { test } = require('node:test');
const { startCluster, killNode, FAST_HEALTH } = require('../support/cluster');
const S = require('./chaos_support');

const { assert } = S;
const NODE_TIMEOUT_MS = Number(FAST_HEALTH.ADAPTER_CLUSTER_HEALTH_NODE_TIMEOUT_MS);
const HEARTBEAT_MS = Number(FAST_HEALTH.ADAPTER_CLUSTER_HEALTH_HEARTBEAT_INTERVAL_MS);
const ONLY_VICTIM = S.scale(3, 8);
const SHARED = S.scale(2, 4);
const CHURN_CLIENTS = S.scale(3, 8);
const CHURN_MS = S.LONG ? 20000 : 3000;

for (const driver of ['redis', 'redis-cluster', 'nats']) {
  test(`${driver}: a node killed -9 during presence churn: its members go, users still connected elsewhere stay, no ghost`, async () => {
    const clients = [];
    const cluster = await startCluster({ driver, nodes: 4, config: S.CHAOS_CONFIG, env: S.CHAOS_ENV });
    const channelName = 'presence-kill';
    try {
      const [victim, ...survivors] = cluster.nodes;
      const watchers = [];
      for (let i = 0; i < survivors.length; i++) watchers.push(await S.openPresence(survivors[i], `watch-${i}`, channelName, clients));
      const onlyVictim = [];
      for (let i = 0; i < ONLY_VICTIM; i++) onlyVictim.push(await S.openPresence(victim, `gone-${i}`, channelName, clients));
      const shared = [];
      for (let i = 0; i < SHARED; i++) {
        await S.openPresence(victim, `both-${i}`, channelName, clients);
        shared.push(await S.openPresence(survivors[i % survivors.length], `both-${i}`, channelName, clients));
      }
      // Churn: join, wait to be subscribed, leave; on the survivors, until stopped (bounded).
      let stop = false;
      let churned = 0;
      const churnClients = [];
      const churn = (async () => {
        const deadline = S.now() + 60000 * S.TIME_SCALE;
        let k = 0;
        while (!stop && S.now() < deadline && churned < 2000) {
          const batch = [];
          for (let i = 0; i < CHURN_CLIENTS; i++) {
            const c = new S.PresenceClient(survivors[(k + i) % survivors.length], `churn-${k}-${i}`, channelName);
            churnClients.push(c);
            batch.push(c);
          }
          k++;
          await S.waitFor(() => batch.every((c) => c.ready()), { timeoutMs: 10000, what: 'churn clients to join' }).catch(() => {});
          for (const c of batch) c.close();
          churned += batch.length;
          await S.sleep(20);
        }
      })();
      const expectedBefore = [...watchers, ...onlyVictim, ...shared].map((c) => c.userId);
      await S.waitFor(async () => {
        const ids = await S.httpUsers(survivors[0], channelName);
        return ids && expectedBefore.every((id) => ids.includes(id));
      }, { what: 'everyone to be a member' });
      await S.sleep(300);  // some churn before the kill
      const killedAt = S.now();
      await killNode(victim);
      for (const c of clients) if (c.node === victim) c.close();  // only stops pusher-js from retrying
      await S.waitFor(() => watchers.every((w) => onlyVictim.every((v) => w.removedAfter(v.userId, killedAt))),
        { timeoutMs: NODE_TIMEOUT_MS * 5 + 10000, intervalMs: 20, what: 'member_removed for the killed node\'s users' });
      const removedMs = S.now() - killedAt;
      await S.sleep(Math.max(0, CHURN_MS - removedMs));
      stop = true;
      await churn;
      const expected = [...watchers, ...shared].map((c) => c.userId).sort();
      const final = await S.waitPresenceExact({ observers: [...watchers, ...shared], nodes: survivors, channelName, expected },
        { timeoutMs: 20000, what: 'no ghost after the kill and the churn' });
      const recoverMs = S.now() - killedAt;
      const sharedRemoved = watchers.reduce((n, w) => n + shared.filter((s) => w.removedAfter(s.userId, killedAt)).length, 0);
      let unbalanced = 0;
      for (const w of watchers) for (const c of [...onlyVictim, ...churnClients]) if (w.replayHas(c.userId)) unbalanced++;
      S.figures('node_kill', driver, {
        nodes: cluster.nodes.length, victimMembers: onlyVictim.length + shared.length, sharedUsers: shared.length,
        churnJoins: churned, memberAdded: watchers.reduce((s, w) => s + w.added.length, 0),
        memberRemoved: watchers.reduce((s, w) => s + w.removed.length, 0),
        ghosts: final.ghosts, missing: final.missing, unbalanced, wrongRemovals: sharedRemoved,
        memberRemovedAfterKillMs: removedMs, recoverMs,
      });
      assert.equal(sharedRemoved, 0, 'member_removed for a user still connected to a survivor');
      assert.equal(unbalanced, 0, 'a member_added without its member_removed');
      assert.ok(removedMs >= NODE_TIMEOUT_MS - HEARTBEAT_MS - 100, `member_removed ${removedMs} ms after the kill, before node_timeout_ms`);
    } finally {
      for (const c of clients) c.close();
      await cluster.stop();
    }
  });
}

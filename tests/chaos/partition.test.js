// Chaos 1: one node cut off from the bus for longer than node_timeout_ms, then healed
// (spec/cluster.md §10.2, §10.3, §8.6, §8.7). Three real nodes, each reaching the broker through
// its own fault proxy; real pusher-js presence clients on every node. Two kinds of partition:
//   hold       the link holds every byte (TCP rides it out): at the heal the node gets the backlog,
//              including the NodeDead about itself, and runs the zombie procedure;
//   blackhole  the link swallows every byte: at the heal its connections are reset, the node
//              reconnects, resyncs, and learns from a peer's NodeDead that it was declared dead.
// Checked: while cut off, the clients on the other nodes get member_removed for each of its
// members (not before node_timeout_ms); after the heal every client and every node lists exactly
// the connected users (no ghost, nobody missing); at the end, after half of the users leave, the
// same holds for the rest: every member_added was followed by its member_removed.
'use strict';
const { test } = require('node:test');
const { startCluster, FAST_HEALTH } = require('../support/cluster');
const { waitFor } = require('../support/wait');
const S = require('./chaos_support');

const { assert } = S;
const NODE_TIMEOUT_MS = Number(FAST_HEALTH.ADAPTER_CLUSTER_HEALTH_NODE_TIMEOUT_MS);
const HEARTBEAT_MS = Number(FAST_HEALTH.ADAPTER_CLUSTER_HEALTH_HEARTBEAT_INTERVAL_MS);
const USERS_PER_NODE = S.scale(2, 6);
const ROUNDS = S.LONG ? 3 : 1;
// Regressions of four fixes live here:
//  - a node declared dead while alive is told so; when that NodeDead was lost because its
//    subscriptions were not back yet, its resync heartbeat gets it told once more;
//  - a member_removed decided late (a leave check that waited for its deadline, or the cut-off
//    node's own cleanup sent at the heal) is contradicted by the node holding the user, with
//    member_added;
//  - member events heard while a join waits for its peers' member lists are in its list;
//  - a member event that arrives once a node's first joining socket has its list, but before
//    that socket entered the channel, still reaches it (every client's own list is checked).

async function partitionRound(cluster, mode, round, clients) {
  const nodes = cluster.nodes;
  const victimIndex = round % nodes.length;
  const victim = nodes[victimIndex];
  const channelName = `presence-part-${mode}-${round}`;
  const mine = [];
  for (let n = 0; n < nodes.length; n++) {
    for (let k = 0; k < USERS_PER_NODE; k++) {
      mine.push(await S.openPresence(nodes[n], `${mode}${round}-n${n}-u${k}`, channelName, clients));
    }
  }
  const all = () => mine.map((c) => c.userId).sort();
  await S.waitPresenceExact({ observers: mine, nodes, channelName, expected: all() }, { what: 'everyone to see everyone' });

  const victims = mine.filter((c) => c.node === victim);
  const others = mine.filter((c) => c.node !== victim);
  const cut = S.now();
  if (mode === 'hold') victim.busProxy.pause(); else victim.busProxy.blackhole();
  let detectMs;
  try {
    // The other side drops the cut-off node's members with member_removed.
    await waitFor(() => others.every((o) => victims.every((v) => o.removedAfter(v.userId, cut))),
      // The leader's "does the user still have a connection?" check waits up to the request
      // deadline T for the cut-off node (redis counts its still-open subscription): allow 3 T.
      { timeoutMs: NODE_TIMEOUT_MS * 5 + 3 * S.REQUEST_TIMEOUT_MS + 2000, intervalMs: 20, what: 'member_removed for the cut-off node\'s members' });
    detectMs = S.now() - cut;
    for (const o of others) {
      const first = Math.min(...o.removed.filter((r) => r.at >= cut).map((r) => r.at));
      assert.ok(first - cut >= NODE_TIMEOUT_MS - HEARTBEAT_MS - 100, `member_removed ${first - cut} ms after the cut, before node_timeout_ms`);
    }
    // The other side keeps its own members and lists no member of the cut-off node.
    await S.waitPresenceExact({ observers: others, nodes: nodes.filter((n) => n !== victim), channelName,
      expected: others.map((c) => c.userId).sort() }, { what: 'the other side to list only its own members' });
  } finally {
    if (mode === 'hold') victim.busProxy.resume(); else victim.busProxy.heal();
  }
  const healed = S.now();
  await S.waitPresenceExact({ observers: mine, nodes, channelName, expected: all() },
    { timeoutMs: 20000, what: 'every client and node to list every user after the heal' });
  const recoverMs = S.now() - healed;
  await cluster.waitForPeers(nodes.length);
  const clientDiff = await S.presenceDiff({ observers: mine, nodes: [], channelName, expected: all() });

  // Half of the users leave (all of the victim's among them): everyone else sees them go.
  const leaving = new Set([...victims, ...others.filter((_, i) => i % 2 === 0)]);
  for (const c of leaving) c.close();
  const staying = mine.filter((c) => !leaving.has(c));
  const final = await S.waitPresenceExact({ observers: staying, nodes, channelName, expected: staying.map((c) => c.userId).sort() },
    { what: 'the leavers to be gone everywhere' });
  // Balance: on every staying client, replaying what it was told since its last subscription
  // (the list it got, then member_added / member_removed) leaves no leaver in.
  let unbalanced = 0;
  for (const o of staying) for (const l of leaving) if (o.replayHas(l.userId)) unbalanced++;
  assert.equal(unbalanced, 0, 'a member_added without its member_removed');
  for (const c of staying) c.close();
  S.figures('partition', cluster.driver, {
    mode, round, nodes: nodes.length, members: mine.length, victimMembers: victims.length,
    memberAdded: mine.reduce((s, c) => s + c.added.length, 0),
    memberRemoved: mine.reduce((s, c) => s + c.removed.length, 0),
    ghosts: final.ghosts, missing: final.missing, unbalanced,
    rejoinedClients: mine.filter((c) => c.drops > 0).length, clientMissingAfterHeal: clientDiff.missing, clientGhostsAfterHeal: clientDiff.ghosts,
    detectMs, recoverMs,
  });
}

for (const driver of ['redis', 'redis-cluster', 'nats']) {
  test(`${driver}: a node partitioned from the bus past node_timeout_ms, then healed: members dropped, resynced, no ghost`, async () => {
    const clients = [];
    const cluster = await startCluster({ driver, nodes: 3, busProxy: true, config: S.CHAOS_CONFIG, env: S.CHAOS_ENV });
    try {
      for (let r = 0; r < ROUNDS; r++) {
        for (const mode of ['hold', 'blackhole']) await partitionRound(cluster, mode, r, clients);
      }
    } catch (e) {
      // The nodes' warnings (dead peers, NodeDead, bus reconnects) tell the story of a failure.
      cluster.nodes.forEach((n, i) => console.log(`==== node ${i} :${n.port}\n${n.output()}`));
      throw e;
    } finally {
      for (const c of clients) c.close();
      for (const p of cluster.proxies) p.heal();
      await cluster.stop();
    }
  });
}

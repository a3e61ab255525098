// The cluster behaves as one node (spec/cluster.md): the same scenarios for every bus driver,
// with the real pusher-js clients and the real pusher server SDK spread over several real
// sockudo-node processes on one real broker. Each e2e/cluster_<driver>.test.js runs them.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startCluster, killNode, metricValue } = require('./cluster');
const { client, serverSdk, once, connected, subscribed, waitFor } = require('./pusher_clients');
const { httpRequest } = require('./wait');

// The Pusher error code of a pusher-js connection error (it arrives wrapped when the server closes
// the socket right after the pusher:error).
const errorCode = (e) => (e.data && e.data.code) || (e.error && e.error.data && e.error.data.code);

function defineClusterTests(driver, { nodes = 3 } = {}) {
  let cluster;
  const clients = [];
  const open = (node, options) => {
    const c = client(node, options);
    clients.push(c);
    return c;
  };
  const config = { app_manager: { array: { apps: [
    { id: 'app-id', key: 'app-key', secret: 'app-secret', enable_client_messages: true },
    { id: 'quota', key: 'quota-key', secret: 'quota-secret', max_connections: 2 },
  ] } } };
  before(async () => { cluster = await startCluster({ driver, nodes, config }); });
  after(async () => {
    for (const c of clients) c.disconnect();
    if (cluster) await cluster.stop();
  });
  const node = (i) => cluster.nodes[i];
  const sdk = (i) => serverSdk(node(i));

  test(`${driver}: an event published on any node reaches subscribers on every node`, async () => {
    const subs = await Promise.all(cluster.nodes.map(async (n) => {
      const c = open(n);
      const { ok, channel } = await subscribed(c, 'news');
      assert.ok(ok);
      return channel;
    }));
    for (let from = 0; from < cluster.nodes.length; from++) {
      const got = subs.map((ch) => once(ch, 'headline'));
      const res = await sdk(from).trigger('news', 'headline', { from, text: 'h\u00e9llo' });
      assert.equal(res.status, 200);
      for (const g of got) assert.deepEqual((await g).data, { from, text: 'h\u00e9llo' });
    }
  });

  test(`${driver}: socket_id exclusion holds across nodes, batch events reach other nodes`, async () => {
    const a = open(node(0));
    const b = open(node(1));
    const [{ channel: chA }, { channel: chB }] = await Promise.all([subscribed(a, 'excl'), subscribed(b, 'excl')]);
    let aGot = 0;
    chA.bind('ping', () => { aGot++; });
    const bGot = once(chB, 'ping');
    await sdk(1).trigger('excl', 'ping', { n: 1 }, { socket_id: a.connection.socket_id });
    assert.deepEqual((await bGot).data, { n: 1 });
    // `a` is excluded: a later event to it proves the excluded one is not just late.
    const aLater = once(chA, 'after');
    await sdk(2).trigger('excl', 'after', {});
    await aLater;
    assert.equal(aGot, 0);
    const batch = [once(chA, 'b1'), once(chB, 'b2')];
    const res = await sdk(2).triggerBatch([{ channel: 'excl', name: 'b1', data: '1' }, { channel: 'excl', name: 'b2', data: '2' }]);
    assert.equal(res.status, 200);
    await Promise.all(batch);
  });

  test(`${driver}: presence members, member_added and member_removed across nodes`, async () => {
    const ann = open(node(0), { presence: { user_id: 'ann', user_info: { name: 'Ann' } } });
    const { channel: annRoom } = await subscribed(ann, 'presence-room');
    const added = once(annRoom, 'pusher:member_added');
    const bob = open(node(1), { presence: { user_id: 'bob', user_info: { name: 'Bob' } } });
    const { data: bobMembers } = await subscribed(bob, 'presence-room');
    assert.equal(bobMembers.count, 2);
    assert.deepEqual(bobMembers.get('ann'), { id: 'ann', info: { name: 'Ann' } });
    assert.deepEqual((await added).data, { id: 'bob', info: { name: 'Bob' } });

    // The same user on a second node is still one member: no second member_added.
    let extraAdds = 0;
    annRoom.bind('pusher:member_added', () => { extraAdds++; });
    const bob2 = open(node(2), { presence: { user_id: 'bob', user_info: { name: 'Bob' } } });
    const { data: bob2Members } = await subscribed(bob2, 'presence-room');
    assert.equal(bob2Members.count, 2);

    for (let i = 0; i < cluster.nodes.length; i++) {
      const users = await (await sdk(i).get({ path: '/channels/presence-room/users' })).json();
      assert.deepEqual(users.users.map((u) => u.id).sort(), ['ann', 'bob'], `users on node ${i}`);
      const info = await (await sdk(i).get({ path: '/channels/presence-room', params: { info: 'user_count,subscription_count' } })).json();
      assert.deepEqual(info, { occupied: true, user_count: 2, subscription_count: 3 }, `channel on node ${i}`);
    }

    // One of bob's two connections leaves: bob stays. The second: member_removed once.
    bob2.disconnect();
    await waitFor(async () => (await (await sdk(0).get({ path: '/channels/presence-room', params: { info: 'subscription_count' } })).json()).subscription_count === 2,
      { what: 'the departure to be counted cluster-wide' });
    const removed = once(annRoom, 'pusher:member_removed');
    bob.disconnect();
    assert.deepEqual((await removed).data, { id: 'bob', info: { name: 'Bob' } });
    assert.equal(annRoom.members.count, 1);
    assert.equal(extraAdds, 0);
  });

  test(`${driver}: client events on a private channel travel between nodes`, async () => {
    const a = open(node(0));
    const b = open(node(2));
    const [{ channel: chA }, { channel: chB }] = await Promise.all([subscribed(a, 'private-chat'), subscribed(b, 'private-chat')]);
    const got = once(chB, 'client-typing');
    chA.trigger('client-typing', { who: 'a' });
    assert.deepEqual((await got).data, { who: 'a' });
    const back = once(chA, 'client-typing');
    chB.trigger('client-typing', { who: 'b' });
    assert.deepEqual((await back).data, { who: 'b' });
  });

  test(`${driver}: channel lists and counts are cluster-wide`, async () => {
    const a = open(node(0));
    const b = open(node(1));
    await Promise.all([subscribed(a, 'stats-one'), subscribed(b, 'stats-one'), subscribed(b, 'stats-two')]);
    for (let i = 0; i < cluster.nodes.length; i++) {
      const list = await (await sdk(i).get({ path: '/channels', params: { filter_by_prefix: 'stats-' } })).json();
      assert.deepEqual(Object.keys(list.channels).sort(), ['stats-one', 'stats-two'], `list on node ${i}`);
      const one = await (await sdk(i).get({ path: '/channels/stats-one', params: { info: 'subscription_count' } })).json();
      assert.deepEqual(one, { occupied: true, subscription_count: 2 }, `stats-one on node ${i}`);
    }
  });

  test(`${driver}: terminating a user closes its connections on every node`, async () => {
    const u1 = open(node(1), { user: { id: 'carol' } });
    const u2 = open(node(2), { user: { id: 'carol' } });
    await Promise.all([connected(u1), connected(u2)]);
    u1.signin();
    u2.signin();
    await waitFor(() => u1.user.user_data && u2.user.user_data, { what: 'both connections to sign in' });
    const closed = [u1, u2].map((c) => new Promise((resolve) => c.connection.bind('error', (e) => resolve(e))));
    const res = await sdk(0).post({ path: '/users/carol/terminate_connections', body: {} });
    assert.equal(res.status, 200);
    for (const e of await Promise.all(closed)) assert.equal(errorCode(e), 4009);
  });

  test(`${driver}: events sent to a user reach its connections on other nodes`, async () => {
    const hal = open(node(2), { user: { id: 'hal' } });
    await connected(hal);
    hal.signin();
    await waitFor(() => hal.user.serverToUserChannel && hal.user.serverToUserChannel.subscribed,
      { what: 'the #server-to-user channel' });
    const note = new Promise((resolve) => hal.user.bind('note', resolve));
    assert.equal((await sdk(0).sendToUser('hal', 'note', { text: 'hi' })).status, 200);
    assert.deepEqual(await note, { text: 'hi' });
  });

  test(`${driver}: the app connection quota counts every node`, async () => {
    const quotaSdk = (i) => serverSdk(node(i), { appId: 'quota', key: 'quota-key', secret: 'quota-secret' });
    const q1 = open(node(0), { key: 'quota-key', sdk: quotaSdk(0) });
    const q2 = open(node(1), { key: 'quota-key', sdk: quotaSdk(1) });
    await Promise.all([connected(q1), connected(q2)]);
    const q3 = open(node(2), { key: 'quota-key', sdk: quotaSdk(2) });
    const refused = await new Promise((resolve) => q3.connection.bind('error', (e) => {
      const code = errorCode(e);
      if (code) resolve(code);
    }));
    assert.equal(refused, 4004);
    q3.disconnect();
    // A slot freed on one node is usable on another.
    q1.disconnect();
    await waitFor(async () => {
      const q4 = client(node(2), { key: 'quota-key', sdk: quotaSdk(2) });
      const code = await new Promise((resolve) => {
        q4.connection.bind('connected', () => resolve(0));
        q4.connection.bind('error', (e) => { if (errorCode(e)) resolve(errorCode(e)); });
      });
      q4.disconnect();
      return code === 0;
    }, { what: 'the freed slot to be usable on another node' });
  });

  test(`${driver}: a node killed with a member still connected is cleaned up after node_timeout`, async () => {
    const victim = await cluster.addNode();
    await cluster.waitForPeers(cluster.nodes.length);
    const fay = client(victim, { presence: { user_id: 'fay' } });
    const gus = open(node(1), { presence: { user_id: 'gus' } });
    const { channel: gusRoom } = await subscribed(gus, 'presence-crash');
    const added = once(gusRoom, 'pusher:member_added');
    await subscribed(fay, 'presence-crash');
    assert.equal((await added).data.id, 'fay');
    const removed = once(gusRoom, 'pusher:member_removed');
    const started = Date.now();
    await killNode(victim);
    fay.disconnect();  // the process is gone: this only stops pusher-js from reconnecting
    assert.equal((await removed).data.id, 'fay');
    const after = Date.now() - started;
    const dead = await Promise.all(cluster.nodes.filter((n) => !n.exited()).map((n) => metricValue(n, 'sockudo_cluster_dead_nodes_total')));
    assert.ok(dead.reduce((a, b) => a + b, 0) >= 1, `a leader counted the dead node (${dead})`);
    assert.ok(after < 10000, `member_removed ${after} ms after the kill`);
  });

  test(`${driver}: a draining node leaves at once: its members go, nobody waits for the timeout`, async () => {
    const leaver = await cluster.addNode();
    await cluster.waitForPeers(cluster.nodes.filter((n) => !n.exited()).length);
    const stayers = cluster.nodes.filter((n) => !n.exited() && n !== leaver);
    const deadBefore = await Promise.all(stayers.map((n) => metricValue(n, 'sockudo_cluster_dead_nodes_total')));
    const kim = client(leaver, { presence: { user_id: 'kim' } });
    const lee = open(node(0), { presence: { user_id: 'lee' } });
    const { channel: leeRoom } = await subscribed(lee, 'presence-drain');
    const added = once(leeRoom, 'pusher:member_added');
    await subscribed(kim, 'presence-drain');
    assert.equal((await added).data.id, 'kim');
    const removed = once(leeRoom, 'pusher:member_removed');
    const closed = new Promise((resolve) => kim.connection.bind('error', (e) => resolve(errorCode(e))));
    await leaver.stop();  // SIGTERM: drain, exit 0
    kim.disconnect();
    assert.equal(await closed, 4200);
    assert.equal((await removed).data.id, 'kim');
    await cluster.waitForPeers(stayers.length);
    const deadAfter = await Promise.all(stayers.map((n) => metricValue(n, 'sockudo_cluster_dead_nodes_total')));
    assert.deepEqual(deadAfter, deadBefore, 'the leaver said goodbye: no node had to be declared dead');
  });

  test(`${driver}: /up reports the bus, metrics count the peers`, async () => {
    for (const n of cluster.nodes.filter((x) => !x.exited())) {
      assert.equal((await httpRequest({ port: n.port, path: '/up' })).status, 200);
      assert.equal(await metricValue(n, 'sockudo_cluster_bus_healthy'), 1);
      assert.equal(await metricValue(n, 'sockudo_cluster_nodes'), cluster.nodes.filter((x) => !x.exited()).length);
    }
  });

  // Last: it takes the broker away from every node.
  test(`${driver}: the broker restarts: nodes reconnect, resubscribe and deliver again by themselves`, async () => {
    const live = cluster.nodes.filter((x) => !x.exited());
    const [a, b] = [open(live[0]), open(live[1])];
    const [{ channel: chA }, { channel: chB }] = await Promise.all([subscribed(a, 'outage'), subscribed(b, 'outage')]);
    const seenA = [];
    const seenB = [];
    chA.bind('e', (d) => seenA.push(d.n));
    chB.bind('e', (d) => seenB.push(d.n));
    const ivy = open(live[1], { presence: { user_id: 'ivy' } });
    await subscribed(ivy, 'presence-outage');
    const publish = async (i, n) => {
      try { return (await sdk(i).trigger('outage', 'e', { n })).status; } catch (e) { return e.status; }
    };
    assert.equal(await publish(0, 0), 200);
    await waitFor(() => seenB.includes(0), { what: 'the event before the outage' });

    await cluster.broker.stop();
    await waitFor(async () => (await httpRequest({ port: live[0].port, path: '/up' })).status === 503,
      { what: '/up to report the lost bus' });
    // While the bus is down a publish either goes out later (200: it must arrive) or answers 503
    // (it could not go out; local subscribers already had it).
    const during = [await publish(0, 1), await publish(0, 2)];
    for (const status of during) assert.ok(status === 200 || status === 503, `status ${status}`);
    if (driver.startsWith('redis')) assert.ok(during.includes(503), `a redis publish while down answers 503 (${during})`);

    await cluster.broker.start();
    for (const n of live) {
      await waitFor(async () => (await httpRequest({ port: n.port, path: '/up' })).status === 200,
        { timeoutMs: 15000, what: `/up on port ${n.port} after the broker came back` });
    }
    await cluster.waitForPeers(live.length);
    assert.equal(await publish(0, 3), 200);
    assert.equal(await publish(1, 4), 200);
    await waitFor(() => seenB.includes(3) && seenA.includes(4), { what: 'events after the restart' });
    for (let i = 0; i < during.length; i++) {
      if (during[i] === 200) await waitFor(() => seenB.includes(i + 1), { what: `event ${i + 1} answered 200 during the outage` });
    }
    // Local subscribers got everything once; nothing arrived twice anywhere.
    assert.deepEqual([...seenA].sort(), [0, 1, 2, 3, 4]);
    assert.equal(new Set(seenB).size, seenB.length, `no duplicate on b: ${seenB}`);
    // Presence heals (spec/cluster.md §8.6): every node sees ivy again, and only ivy.
    for (let i = 0; i < live.length; i++) {
      await waitFor(async () => {
        const users = await (await sdk(i).get({ path: '/channels/presence-outage/users' })).json();
        return JSON.stringify(users.users.map((u) => u.id)) === '["ivy"]';
      }, { what: `node ${i} to list ivy after the resync` });
    }
    const reconnects = await Promise.all(live.map((n) => metricValue(n, 'sockudo_horizontal_transport_reconnections_total')));
    assert.ok(reconnects.every((r) => r >= 1), `every node counted its reconnection (${reconnects})`);
  });
}

module.exports = { defineClusterTests };

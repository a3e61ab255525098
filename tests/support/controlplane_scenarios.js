// The control plane over a real cluster: a standalone sockudo-controlplane and two sockudo-node
// processes on one real bus (redis or nats), apps in a real Redis app store, real pusher-js
// clients and raw WebSocket clients. The same scenarios for every bus driver; each
// e2e/controlplane_cluster_<driver>.test.js runs them.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { startCluster, killNode } = require('./cluster');
const { startRedis } = require('./brokers');
const { startControlPlane, apiClient, GRPC, grpcError, protoJson, assertSameAnswer } = require('./controlplane');
const { client, serverSdk, once, connected, subscribed } = require('./pusher_clients');
const { RawClient } = require('./raw_client');
const { waitFor } = require('./wait');

const TOKEN = 'cluster-token';
const SERVICES = ['Apps', 'Cluster', 'Users', 'Channels', 'Events'];
// Answers that follow heartbeats: REST and gRPC are asked again until a pair agrees.
const SETTLE = { settleMs: 5000 };
const hmac = (secret, text) => crypto.createHmac('sha256', secret).update(text).digest('hex');

// The close codes of a connected pusher-js client's socket, as they come. pusher-js itself reports
// a close code only as a PusherError, the same shape as a pusher:error frame's.
function closeCodes(pusher) {
  const codes = [];
  pusher.connection.connection.transport.bind('closed', (e) => codes.push(e ? e.code : null));
  return codes;
}

function defineControlPlaneClusterTests(driver) {
  let appRedis = null;  // nats: the app store still lives in Redis
  let cluster;
  let cp;
  let grpc;
  const raws = [];
  const pushers = [];

  // A standalone control plane on the cluster's bus, once it sees both nodes.
  const startApi = async () => {
    cp = await startControlPlane({ token: TOKEN, env: { ...cluster.env } });
    grpc = Object.fromEntries(SERVICES.map((s) => [s, apiClient(cp.grpcPort, s)]));
    await waitFor(async () => (await cp.rest('GET', '/v1/cluster/health')).json.aliveNodes === 2,
      { what: 'the control plane to see both nodes' });
  };
  const stopApi = async () => {
    for (const c of Object.values(grpc || {})) c.close();
    grpc = null;
    const stopping = cp;
    cp = null;
    await stopping.stop();
  };

  before(async () => {
    const env = { APP_MANAGER_DRIVER: 'redis' };
    if (driver !== 'redis') {
      appRedis = await startRedis();
      env.REDIS_URL = appRedis.url;
    }
    cluster = await startCluster({ driver, nodes: 2, env });
    await startApi();
  });
  after(async () => {
    for (const c of pushers) c.disconnect();
    await Promise.all(raws.map((r) => (r.closed ? null : r.close())));
    if (cp) await stopApi();
    if (cluster) await cluster.stop();
    if (appRedis) await appRedis.stop();
  });
  const node = (i) => cluster.nodes[i];
  const raw = async (n, key) => {
    const r = await RawClient.connect(n, key);
    raws.push(r);
    return r;
  };
  const createApp = async (id, fields = {}) => {
    const r = await cp.rest('POST', `/v1/apps?app_id=${id}`, fields);
    assert.equal(r.status, 200, r.text);
    return r.json;
  };
  // Signs raw socket `s` in as user `id` of `app`.
  const signIn = async (s, app, id) => {
    const userData = JSON.stringify({ id });
    s.send({ event: 'pusher:signin', data: { auth: `${app.key}:${hmac(app.secret, `${s.socketId}::user::${userData}`)}`, user_data: userData } });
    await s.next((f) => f.event === 'pusher:signin_success');
  };
  // Waits until a socket of `app` opens on node i (the app reached that node).
  const usable = (app, i) => waitFor(async () => {
    const r = await RawClient.connect(node(i), app.key);
    await r.close();
    return Boolean(r.socketId);
  }, { timeoutMs: 1000, what: `app ${app.id} to be usable on node ${i}` });

  test(`${driver}: an app created through the API is used by pusher-js on both nodes within 1 s; events published over REST and gRPC reach both`, async () => {
    const app = await createApp('fresh');
    await Promise.all([usable(app, 0), usable(app, 1)]);
    const sdk = serverSdk(node(0), { appId: app.id, key: app.key, secret: app.secret });
    const a = client(node(0), { key: app.key, sdk });
    const b = client(node(1), { key: app.key, sdk });
    pushers.push(a, b);
    const subs = await Promise.all([subscribed(a, 'private-room'), subscribed(b, 'private-room')]);
    for (const s of subs) assert.ok(s.ok, 'private subscription signed with the API secret');
    // Published by the control plane itself (Events API), over REST then over gRPC: every node
    // delivers both, and the two answers are the same message.
    const greeting = (hi) => ({ name: 'greeting', data: JSON.stringify({ hi }), channels: ['private-room'] });
    let got = subs.map((s) => once(s.channel, 'greeting'));
    const published = await cp.rest('POST', `/v1/apps/${app.id}/events`, greeting(1));
    assert.equal(published.status, 200, published.text);
    assert.deepEqual(published.json, { channels: 1 });
    for (const { data } of await Promise.all(got)) assert.deepEqual(data, { hi: 1 });
    got = subs.map((s) => once(s.channel, 'greeting'));
    const grpcPublished = await grpc.Events.PublishEvent({ parent: `apps/${app.id}`, ...greeting(2) }, TOKEN);
    assert.deepEqual(protoJson(grpcPublished), published.json);
    for (const { data } of await Promise.all(got)) assert.deepEqual(data, { hi: 2 });
  });

  test(`${driver}: rotating the secret makes the old signature fail on both nodes, open sockets too`, async () => {
    const app = await createApp('rotating');
    await Promise.all([usable(app, 0), usable(app, 1)]);
    const sockets = [await raw(node(0), app.key), await raw(node(1), app.key)];
    const rotated = await grpc.Apps.RotateAppSecret({ name: 'apps/rotating' }, TOKEN);
    assert.notEqual(rotated.secret, app.secret);
    let n = 0;
    for (const s of sockets) {
      // The node applies AppChanged within moments: wait until the new secret signs.
      await waitFor(async () => {
        const ch = `private-new-${n++}`;
        const r = await s.subscribe(ch, { auth: `${app.key}:${hmac(rotated.secret, `${s.socketId}:${ch}`)}` });
        return r.event === 'pusher_internal:subscription_succeeded';
      }, { timeoutMs: 1000, what: 'the new secret to be accepted' });
      const old = await s.subscribe('private-old', { auth: `${app.key}:${hmac(app.secret, `${s.socketId}:private-old`)}` });
      assert.equal(old.event, 'pusher:subscription_error');
      const data = typeof old.data === 'string' ? JSON.parse(old.data) : old.data;
      assert.equal(data.status, 401);
    }
  });

  test(`${driver}: channels, members and user connections are counted across both nodes; REST and gRPC agree`, async () => {
    const app = await createApp('census');
    await Promise.all([usable(app, 0), usable(app, 1)]);
    const sockets = [await raw(node(0), app.key), await raw(node(1), app.key)];
    for (const [i, s] of sockets.entries()) {
      assert.equal((await s.subscribe('news')).event, 'pusher_internal:subscription_succeeded');
      const channelData = JSON.stringify({ user_id: `member-${i}`, user_info: { n: i } });
      const auth = `${app.key}:${hmac(app.secret, `${s.socketId}:presence-room:${channelData}`)}`;
      assert.equal((await s.subscribe('presence-room', { auth, channel_data: channelData })).event,
        'pusher_internal:subscription_succeeded');
      await signIn(s, app, 'dora');
    }
    // Each read over REST, then over gRPC: the same message.
    const list = await assertSameAnswer(cp, '/v1/apps/census/channels', () => grpc.Channels.ListChannels({ parent: 'apps/census' }, TOKEN));
    assert.deepEqual(list.channels.map((c) => [c.channel, c.subscriptionCount]), [['news', '2'], ['presence-room', '2']]);
    assert.deepEqual(list.answer, { responsesReceived: 2, expectedResponses: 2, complete: true });
    const prefixed = await assertSameAnswer(cp, '/v1/apps/census/channels?prefix=presence-',
      () => grpc.Channels.ListChannels({ parent: 'apps/census', prefix: 'presence-' }, TOKEN));
    assert.deepEqual(prefixed.channels.map((c) => c.channel), ['presence-room']);
    const room = await assertSameAnswer(cp, '/v1/apps/census/channels/presence-room',
      () => grpc.Channels.GetChannel({ name: 'apps/census/channels/presence-room' }, TOKEN));
    assert.equal(room.userCount, '2');
    assert.equal(room.subscriptionCount, '2');
    const members = await assertSameAnswer(cp, '/v1/apps/census/channels/presence-room/members',
      () => grpc.Channels.ListMembers({ parent: 'apps/census/channels/presence-room' }, TOKEN));
    assert.deepEqual(members.members.map((m) => [m.userId, m.userInfo]), [['member-0', { n: 0 }], ['member-1', { n: 1 }]]);
    assert.deepEqual(members.answer, { responsesReceived: 2, expectedResponses: 2, complete: true });
    assert.equal(members.totalSize, 2);
    const firstMember = await assertSameAnswer(cp, '/v1/apps/census/channels/presence-room/members?page_size=1',
      () => grpc.Channels.ListMembers({ parent: 'apps/census/channels/presence-room', pageSize: 1 }, TOKEN));
    assert.deepEqual(firstMember.members.map((m) => m.userId), ['member-0']);
    const secondMember = await assertSameAnswer(cp,
      `/v1/apps/census/channels/presence-room/members?page_size=1&page_token=${firstMember.nextPageToken}`,
      () => grpc.Channels.ListMembers({ parent: 'apps/census/channels/presence-room', pageSize: 1, pageToken: firstMember.nextPageToken }, TOKEN));
    assert.deepEqual(secondMember.members.map((m) => m.userId), ['member-1']);
    assert.equal(secondMember.nextPageToken, undefined, 'the last page has no token');
    const users = await assertSameAnswer(cp, '/v1/apps/census/users/dora/connections',
      () => grpc.Users.CountUserConnections({ name: 'apps/census/users/dora' }, TOKEN));
    assert.equal(users.connections, '2');
  });

  test(`${driver}: REST and gRPC give the same cluster view: ListNodes, GetNode, GetClusterHealth`, async () => {
    const { nodes } = await assertSameAnswer(cp, '/v1/cluster/nodes', () => grpc.Cluster.ListNodes({}, TOKEN), SETTLE);
    assert.deepEqual(nodes.map((n) => n.address).sort(), [node(0), node(1)].map((n) => `127.0.0.1:${n.port}`).sort());
    for (const n of nodes) {
      const one = await assertSameAnswer(cp, `/v1/cluster/nodes/${n.id}`, () => grpc.Cluster.GetNode({ name: n.name }, TOKEN), SETTLE);
      assert.equal(one.name, `nodes/${n.id}`);
      assert.equal(one.state, 'ALIVE');
      // The timestamps are part of what was compared.
      for (const t of ['startTime', 'lastHeartbeatTime']) assert.ok(Date.parse(one[t]) > 0, `${t}: ${one[t]}`);
    }
    const page = await assertSameAnswer(cp, '/v1/cluster/nodes?page_size=1', () => grpc.Cluster.ListNodes({ pageSize: 1 }, TOKEN), SETTLE);
    assert.deepEqual(page.nodes.map((n) => n.id), [nodes[0].id]);
    assert.equal(page.totalSize, 2);
    const next = await assertSameAnswer(cp, `/v1/cluster/nodes?page_size=1&page_token=${page.nextPageToken}`,
      () => grpc.Cluster.ListNodes({ pageSize: 1, pageToken: page.nextPageToken }, TOKEN), SETTLE);
    assert.deepEqual(next.nodes.map((n) => n.id), [nodes[1].id]);
    const health = await assertSameAnswer(cp, '/v1/cluster/health', () => grpc.Cluster.GetClusterHealth({}, TOKEN), SETTLE);
    assert.equal(health.aliveNodes, 2);
  });

  test(`${driver}: terminating a user (over gRPC, and another over REST) closes its sockets on both nodes; deleting the app closes the rest with 4001`, async () => {
    const app = await createApp('doomed');
    await Promise.all([usable(app, 0), usable(app, 1)]);
    const users = {};
    for (const id of ['eve', 'mallory']) {
      users[id] = [await raw(node(0), app.key), await raw(node(1), app.key)];
      for (const s of users[id]) await signIn(s, app, id);
    }
    const bystanders = [await raw(node(0), app.key), await raw(node(1), app.key)];
    const terminated = await grpc.Users.TerminateUserConnections({ name: 'apps/doomed/users/eve' }, TOKEN);
    for (const s of users.eve) assert.equal((await s.closedPromise).code, 4009);
    assert.equal(users.mallory.filter((s) => s.closed).length, 0, 'only eve is terminated');
    const count = await cp.rest('GET', '/v1/apps/doomed/users/mallory/connections');
    assert.equal(count.json.connections, '2', count.text);
    // The short form needs the app; with it, it is the same call.
    const noApp = await cp.rest('POST', '/v1/users/mallory:terminate', {});
    assert.equal(noApp.status, 400, noApp.text);
    assert.equal(noApp.json.error.status, 'INVALID_ARGUMENT');
    assert.match(noApp.json.error.message, /^app: /);
    assert.equal(users.mallory.filter((s) => s.closed).length, 0, 'a refused call closes nothing');
    const shortCount = await cp.rest('GET', '/v1/users/mallory/connections?app=doomed');
    assert.deepEqual(shortCount.json, count.json);
    const restTerminated = await cp.rest('POST', '/v1/users/mallory:terminate?app=doomed', {});
    assert.equal(restTerminated.status, 200, restTerminated.text);
    for (const s of users.mallory) assert.equal((await s.closedPromise).code, 4009);
    // Two users alike (a socket on each node): the same answer both ways.
    assert.deepEqual(restTerminated.json, { connectionsBefore: '2', answer: { responsesReceived: 2, expectedResponses: 2, complete: true } });
    assert.deepEqual(protoJson(terminated), restTerminated.json);

    const deleted = await cp.rest('DELETE', '/v1/apps/doomed');
    assert.equal(deleted.status, 200, deleted.text);
    for (const s of bystanders) {
      assert.equal((await s.closedPromise).code, 4001);
      assert.ok(s.events('pusher:error').some((e) => e.data.code === 4001), 'pusher:error before the close');
    }
  });

  test(`${driver}: disabling an app through the API closes its pusher-js sockets on both nodes with 4003`, async () => {
    const app = await createApp('switched-off');
    await Promise.all([usable(app, 0), usable(app, 1)]);
    const clients = [client(node(0), { key: app.key }), client(node(1), { key: app.key })];
    pushers.push(...clients);
    await Promise.all(clients.map(connected));
    const codes = clients.map(closeCodes);
    const errors = clients.map(() => []);
    clients.forEach((c, i) => c.connection.bind('error', (e) => errors[i].push(e)));
    const disabled = await grpc.Apps.DisableApp({ name: 'apps/switched-off' }, TOKEN);
    assert.equal(disabled.enabled, false);
    await waitFor(() => codes.every((c) => c.length > 0), { what: 'both pusher-js sockets to close' });
    assert.deepEqual(codes, [[4003], [4003]]);
    for (const [i, c] of clients.entries()) {
      assert.ok(errors[i].some((e) => e.data && e.data.code === 4003), `node ${i}: the 4003 error in pusher-js`);
      // 4003 is a refusal: pusher-js stays disconnected instead of reconnecting.
      await waitFor(() => c.connection.state === 'disconnected', { what: `pusher-js on node ${i} to stay disconnected` });
    }
    for (const i of [0, 1]) assert.equal((await (await raw(node(i), app.key)).closedPromise).code, 4003, `a new socket on node ${i}`);
  });

  test(`${driver}: a wrong token is UNAUTHENTICATED / 401; bad input is INVALID_ARGUMENT / 400 naming the field`, async () => {
    const denied = await grpcError(grpc.Cluster.ListNodes({}, 'wrong'));
    assert.equal(denied.code, GRPC.UNAUTHENTICATED);
    assert.equal((await cp.rest('GET', '/v1/cluster/nodes', null, 'Bearer wrong')).status, 401);
    assert.equal((await cp.rest('GET', '/v1/apps/fresh/channels', null, null)).status, 401);

    const badName = await grpcError(grpc.Users.CountUserConnections({ name: 'users/eve' }, TOKEN));
    assert.equal(badName.code, GRPC.INVALID_ARGUMENT);
    assert.match(badName.details, /^name: /);
    const badEvent = await cp.rest('POST', '/v1/apps/fresh/events', { name: 'e', data: 'x', channels: ['bad channel'] });
    assert.equal(badEvent.status, 400);
    assert.match(badEvent.json.error.message, /^channels: Invalid channel name/);
    const noApp = await grpcError(grpc.Channels.ListChannels({ parent: 'apps/none' }, TOKEN));
    assert.equal(noApp.code, GRPC.NOT_FOUND);
    assert.equal((await cp.rest('GET', '/v1/cluster/nodes/unknown')).status, 404);
  });

  test(`${driver}: stopping the control plane changes nothing for clients: Pusher HTTP API events still cross nodes`, async () => {
    const app = await createApp('steady');
    await Promise.all([usable(app, 0), usable(app, 1)]);
    const sdks = [0, 1].map((i) => serverSdk(node(i), { appId: app.id, key: app.key, secret: app.secret }));
    const [a, b] = [0, 1].map((i) => client(node(i), { key: app.key, sdk: sdks[i] }));
    pushers.push(a, b);
    const [subA, subB] = await Promise.all([subscribed(a, 'private-steady'), subscribed(b, 'private-steady')]);
    assert.ok(subA.ok && subB.ok);
    const changes = [];
    for (const c of [a, b]) c.connection.bind('state_change', (s) => changes.push(s));
    await stopApi();

    // Published with the Pusher HTTP API on node A, delivered on node B (and on A).
    const got = [once(subA.channel, 'after-stop'), once(subB.channel, 'after-stop')];
    assert.equal((await sdks[0].trigger('private-steady', 'after-stop', { n: 1 })).status, 200);
    for (const { data } of await Promise.all(got)) assert.deepEqual(data, { n: 1 });
    // A new client on node B still signs in to the app and hears node A's publications.
    const late = client(node(1), { key: app.key, sdk: sdks[1] });
    pushers.push(late);
    const subLate = await subscribed(late, 'private-steady');
    assert.ok(subLate.ok, 'a new private subscription while the control plane is down');
    const heard = once(subLate.channel, 'still-here');
    assert.equal((await sdks[0].trigger('private-steady', 'still-here', { n: 2 })).status, 200);
    assert.deepEqual((await heard).data, { n: 2 });
    assert.deepEqual(changes, [], 'the pusher-js clients kept their connections');
    assert.deepEqual([a.connection.state, b.connection.state], ['connected', 'connected']);

    await startApi();  // for the tests after this one
  });

  test(`${driver}: after kill -9 of a node the cluster view shows it dead within node_timeout_ms, and WatchCluster streams it`, async () => {
    const nodes = (await cp.rest('GET', '/v1/cluster/nodes')).json.nodes;
    const victim = nodes.find((n) => n.address === `127.0.0.1:${node(1).port}`);
    assert.ok(victim, `node at port ${node(1).port} in ${JSON.stringify(nodes.map((n) => n.address))}`);
    assert.equal(victim.state, 'ALIVE');
    const stream = grpc.Cluster.WatchCluster({}, TOKEN);
    const events = [];
    stream.on('data', (e) => events.push(e));
    stream.on('error', () => {});
    await waitFor(() => events.filter((e) => e.type === 'SNAPSHOT').length === 2, { what: 'the snapshot' });
    const killedAt = Date.now();
    await killNode(node(1));
    const timeoutMs = Number(cluster.env.ADAPTER_CLUSTER_HEALTH_NODE_TIMEOUT_MS);
    await waitFor(async () => (await cp.rest('GET', `/v1/cluster/nodes/${victim.id}`)).json.state === 'DEAD',
      { timeoutMs: timeoutMs + 1000, what: 'the killed node to show dead' });
    await waitFor(() => events.some((e) => e.type === 'NODE_DEAD' && e.node.id === victim.id),
      { timeoutMs: 1000, what: 'NODE_DEAD on the WatchCluster stream' });
    const seenAfter = Date.now() - killedAt;
    stream.cancel();
    const health = (await cp.rest('GET', '/v1/cluster/health')).json;
    assert.equal(health.aliveNodes, 1);
    assert.equal(health.deadNodes, 1);
    assert.equal(health.status, 'DEGRADED');
    console.log(`# ${driver}: node death seen by the control plane ${seenAfter} ms after kill -9 (node_timeout_ms ${timeoutMs})`);
  });
}

module.exports = { defineControlPlaneClusterTests };

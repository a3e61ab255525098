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
const { startControlPlane, apiClient } = require('./controlplane');
const { client, serverSdk, once, connected, subscribed } = require('./pusher_clients');
const { RawClient } = require('./raw_client');
const { waitFor } = require('./wait');

const TOKEN = 'cluster-token';
const GRPC = { INVALID_ARGUMENT: 3, NOT_FOUND: 5, UNAUTHENTICATED: 16 };
const hmac = (secret, text) => crypto.createHmac('sha256', secret).update(text).digest('hex');
const grpcError = (promise) => promise.then(() => assert.fail('expected an error'), (e) => e);
// The same message as REST JSON and as a gRPC object (proto-loader, longs and enums as strings):
// equal once keys are sorted.
const sorted = (v) => (Array.isArray(v) ? v.map(sorted)
  : v && typeof v === 'object' ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, sorted(v[k])])) : v);

function defineControlPlaneClusterTests(driver) {
  let appRedis = null;  // nats: the app store still lives in Redis
  let cluster;
  let cp;
  let grpc;
  const raws = [];
  const pushers = [];

  before(async () => {
    const env = { APP_MANAGER_DRIVER: 'redis' };
    if (driver !== 'redis') {
      appRedis = await startRedis();
      env.REDIS_URL = appRedis.url;
    }
    cluster = await startCluster({ driver, nodes: 2, env });
    cp = await startControlPlane({ token: TOKEN, env: { ...cluster.env } });
    grpc = Object.fromEntries(['Apps', 'Cluster', 'Users', 'Channels', 'Events']
      .map((s) => [s, apiClient(cp.grpcPort, s)]));
    await waitFor(async () => (await cp.rest('GET', '/v1/cluster/health')).json.aliveNodes === 2,
      { what: 'the control plane to see both nodes' });
  });
  after(async () => {
    for (const c of pushers) c.disconnect();
    await Promise.all(raws.map((r) => (r.closed ? null : r.close())));
    if (grpc) for (const c of Object.values(grpc)) c.close();
    if (cp) await cp.stop();
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
  // Waits until a socket of `app` opens on node i (the app reached that node).
  const usable = (app, i) => waitFor(async () => {
    const r = await RawClient.connect(node(i), app.key);
    await r.close();
    return Boolean(r.socketId);
  }, { timeoutMs: 1000, what: `app ${app.id} to be usable on node ${i}` });

  test(`${driver}: an app created through the API is used by pusher-js on both nodes within 1 s`, async () => {
    const app = await createApp('fresh');
    await Promise.all([usable(app, 0), usable(app, 1)]);
    const sdk = serverSdk(node(0), { appId: app.id, key: app.key, secret: app.secret });
    const a = client(node(0), { key: app.key, sdk });
    const b = client(node(1), { key: app.key, sdk });
    pushers.push(a, b);
    const subs = await Promise.all([subscribed(a, 'private-room'), subscribed(b, 'private-room')]);
    for (const s of subs) assert.ok(s.ok, 'private subscription signed with the API secret');
    const got = subs.map((s) => once(s.channel, 'greeting'));
    // Published by the control plane itself (Events API): every node delivers.
    const published = await cp.rest('POST', `/v1/apps/${app.id}/events`, { name: 'greeting', data: '{"hi":1}', channels: ['private-room'] });
    assert.equal(published.status, 200, published.text);
    for (const { data } of await Promise.all(got)) assert.deepEqual(data, { hi: 1 });
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
      const userData = JSON.stringify({ id: 'dora' });
      s.send({ event: 'pusher:signin', data: { auth: `${app.key}:${hmac(app.secret, `${s.socketId}::user::${userData}`)}`, user_data: userData } });
      await s.next((f) => f.event === 'pusher:signin_success');
    }
    const list = await cp.rest('GET', '/v1/apps/census/channels');
    assert.equal(list.status, 200, list.text);
    assert.deepEqual(list.json.channels.map((c) => [c.channel, c.subscriptionCount]),
      [['news', '2'], ['presence-room', '2']]);
    assert.deepEqual(list.json.answer, { responsesReceived: 2, expectedResponses: 2, complete: true });
    const prefixed = await cp.rest('GET', '/v1/apps/census/channels?prefix=presence-');
    assert.deepEqual(prefixed.json.channels.map((c) => c.channel), ['presence-room']);
    const room = await cp.rest('GET', '/v1/apps/census/channels/presence-room');
    assert.equal(room.json.userCount, '2');
    assert.equal(room.json.subscriptionCount, '2');
    const members = await cp.rest('GET', '/v1/apps/census/channels/presence-room/members');
    assert.deepEqual(members.json.members.map((m) => [m.userId, m.userInfo]), [['member-0', { n: 0 }], ['member-1', { n: 1 }]]);
    const users = await cp.rest('GET', '/v1/apps/census/users/dora/connections');
    assert.equal(users.json.connections, '2');

    // The gRPC answers are the same messages.
    const same = async (restPath, grpcCall) => {
      const [r, g] = [await cp.rest('GET', restPath), await grpcCall()];
      assert.deepEqual(sorted(g), sorted(r.json), restPath);
    };
    await same('/v1/apps/census/channels', () => grpc.Channels.ListChannels({ parent: 'apps/census' }, TOKEN));
    await same('/v1/apps/census/channels/presence-room', () => grpc.Channels.GetChannel({ name: 'apps/census/channels/presence-room' }, TOKEN));
    await same('/v1/apps/census/users/dora/connections', () => grpc.Users.CountUserConnections({ name: 'apps/census/users/dora' }, TOKEN));
    // The health view follows heartbeats: the two calls agree once none lands between them.
    let health = null;
    await waitFor(async () => {
      const [r, g] = [await cp.rest('GET', '/v1/cluster/health'), await grpc.Cluster.GetClusterHealth({}, TOKEN)];
      health = { rest: sorted(r.json), grpc: sorted(g) };
      return JSON.stringify(health.rest) === JSON.stringify(health.grpc);
    }, { timeoutMs: 5000, what: 'REST and gRPC to give the same /v1/cluster/health' }).catch((e) => {
      assert.deepEqual(health.grpc, health.rest, '/v1/cluster/health');
      throw e;
    });
  });

  test(`${driver}: terminating a user closes its sockets on both nodes; deleting the app closes the rest with 4001`, async () => {
    const app = await createApp('doomed');
    await Promise.all([usable(app, 0), usable(app, 1)]);
    const users = [await raw(node(0), app.key), await raw(node(1), app.key)];
    const bystanders = [await raw(node(0), app.key), await raw(node(1), app.key)];
    for (const s of users) {
      const userData = JSON.stringify({ id: 'eve' });
      s.send({ event: 'pusher:signin', data: { auth: `${app.key}:${hmac(app.secret, `${s.socketId}::user::${userData}`)}`, user_data: userData } });
      await s.next((f) => f.event === 'pusher:signin_success');
    }
    const terminated = await grpc.Users.TerminateUserConnections({ name: 'apps/doomed/users/eve' }, TOKEN);
    assert.equal(terminated.connectionsBefore, '2');
    for (const s of users) assert.equal((await s.closedPromise).code, 4009);

    const deleted = await cp.rest('DELETE', '/v1/apps/doomed');
    assert.equal(deleted.status, 200, deleted.text);
    for (const s of bystanders) {
      assert.equal((await s.closedPromise).code, 4001);
      assert.ok(s.events('pusher:error').some((e) => e.data.code === 4001), 'pusher:error before the close');
    }
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

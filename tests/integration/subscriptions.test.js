// Subscribing, presence and cache channels over raw frames (spec/pusher-protocol.md §4-§7, §9).
// Auth signatures come from the real `pusher` server SDK.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const Pusher = require('pusher');
const { useServer } = require('../support/server');
const { RawClient, apiRequest, sign } = require('../support/raw_client');

let sdk;
const ctx = useServer({
    config: { app_manager: { array: { apps: [
      { id: 'app-id', key: 'app-key', secret: 'app-secret', enable_client_messages: true,
        max_presence_members_per_channel: 2, max_presence_member_size_in_kb: 0.1 },
      { id: 'other', key: 'other-key', secret: 'other-secret' },
    ] } } },
  }, (server) => { sdk = new Pusher({ appId: 'app-id', key: 'app-key', secret: 'app-secret', host: server.host, port: String(server.port), useTLS: false }); });

function presenceAuth(client, channel, member) {
  const channelData = JSON.stringify(member);
  const { auth } = sdk.authorizeChannel(client.socketId, channel, member);
  return { auth, channel_data: channelData };
}

test('public channels succeed with data "{}" and ignore auth', async () => {
  const c = await RawClient.connect(ctx.server);
  const ok = await c.subscribe('news', { auth: 'junk', channel_data: null });
  assert.deepEqual(ok, { event: 'pusher_internal:subscription_succeeded', channel: 'news', data: '{}' });
  // data as a JSON string (old clients)
  const mark = c.frames.length;
  c.send({ event: 'pusher:subscribe', data: JSON.stringify({ channel: 'legacy' }) });
  const legacy = await c.next((f) => f.channel === 'legacy', { from: mark });
  assert.equal(legacy.event, 'pusher_internal:subscription_succeeded');
  await c.close();
});

test('channel names: 164 characters pass, 165 fail with LimitReached, bad characters with InvalidChannel', async () => {
  const c = await RawClient.connect(ctx.server);
  assert.equal((await c.subscribe('a'.repeat(164))).event, 'pusher_internal:subscription_succeeded');
  const long = await c.subscribe('a'.repeat(165));
  assert.equal(long.event, 'pusher:subscription_error');
  assert.deepEqual({ type: long.data.type, status: long.data.status }, { type: 'LimitReached', status: 4009 });
  for (const name of ['has space', 'ns:colon', 'caf\u00e9', '#private']) {
    const bad = await c.subscribe(name);
    assert.equal(bad.event, 'pusher:subscription_error', name);
    assert.deepEqual({ type: bad.data.type, status: bad.data.status }, { type: 'InvalidChannel', status: 4009 });
  }
  await c.close();
});

test('private channels: valid signature succeeds; wrong socket, channel, secret or key fail with AuthError 401', async () => {
  const c = await RawClient.connect(ctx.server);
  const other = await RawClient.connect(ctx.server);
  const good = sdk.authorizeChannel(c.socketId, 'private-a').auth;
  assert.equal((await c.subscribe('private-a', { auth: good })).event, 'pusher_internal:subscription_succeeded');
  const wrongSocket = sdk.authorizeChannel(other.socketId, 'private-b').auth;
  const wrongSecret = new Pusher({ appId: 'x', key: 'app-key', secret: 'nope', host: 'h' }).authorizeChannel(c.socketId, 'private-b').auth;
  for (const auth of [wrongSocket, wrongSecret, sdk.authorizeChannel(c.socketId, 'private-c').auth, '', 'app-key:', `other-key:${good.split(':')[1]}`]) {
    const r = await c.subscribe('private-b', { auth });
    assert.equal(r.event, 'pusher:subscription_error');
    assert.equal(r.data.type, 'AuthError');
    assert.equal(r.data.status, 401);
  }
  // Encrypted channels use the private formula and need no master key on the ctx.server.
  const encSdk = new Pusher({ appId: 'app-id', key: 'app-key', secret: 'app-secret', host: 'h',
                              encryptionMasterKeyBase64: Buffer.alloc(32, 7).toString('base64') });
  const enc = encSdk.authorizeChannel(c.socketId, 'private-encrypted-x').auth;
  assert.equal((await c.subscribe('private-encrypted-x', { auth: enc })).event, 'pusher_internal:subscription_succeeded');
  await Promise.all([c.close(), other.close()]);
});

test('presence: members, member_added to others only, one member per user, member_removed on last socket', async () => {
  const a = await RawClient.connect(ctx.server);
  const okA = await a.subscribe('presence-room', presenceAuth(a, 'presence-room', { user_id: 'u1', user_info: { name: 'Ann' } }));
  assert.equal(typeof okA.data, 'string');
  assert.deepEqual(JSON.parse(okA.data), { presence: { ids: ['u1'], hash: { u1: { name: 'Ann' } }, count: 1 } });

  const b = await RawClient.connect(ctx.server);
  const okB = await b.subscribe('presence-room', presenceAuth(b, 'presence-room', { user_id: 7, user_info: null }));
  const dataB = JSON.parse(okB.data).presence;
  assert.equal(dataB.count, 2);
  assert.deepEqual(dataB.ids.sort(), [7, 'u1'].sort());  // numeric id keeps its type
  const added = await a.next((f) => f.event === 'pusher_internal:member_added');
  assert.deepEqual(JSON.parse(added.data), { user_id: 7, user_info: null });
  assert.equal(b.events('pusher_internal:member_added').length, 0);

  // Same user on a second socket: no member_added, count unchanged.
  const a2 = await RawClient.connect(ctx.server);
  const okA2 = await a2.subscribe('presence-room', presenceAuth(a2, 'presence-room', { user_id: 'u1', user_info: { name: 'Other' } }));
  assert.equal(JSON.parse(okA2.data).presence.count, 2);
  assert.deepEqual(JSON.parse(okA2.data).presence.hash.u1, { name: 'Ann' });
  assert.ok(await b.nothingBeforePong((f) => f.event === 'pusher_internal:member_added'));

  const users = await apiRequest(ctx.server, { path: '/apps/app-id/channels/presence-room/users' });
  assert.equal(users.status, 200);
  assert.deepEqual(users.json.users.map((u) => u.id).sort(), [7, 'u1'].sort());

  await a.close();
  assert.ok(await b.nothingBeforePong((f) => f.event === 'pusher_internal:member_removed'));
  await a2.close();
  const removed = await b.next((f) => f.event === 'pusher_internal:member_removed');
  assert.deepEqual(JSON.parse(removed.data), { user_id: 'u1' });
  await b.close();
});

test('presence limits: full channel refuses new users with 4100, big user_info with 4301', async () => {
  const clients = [];
  for (const id of ['m1', 'm2']) {
    const c = await RawClient.connect(ctx.server);
    assert.equal((await c.subscribe('presence-full', presenceAuth(c, 'presence-full', { user_id: id }))).event,
      'pusher_internal:subscription_succeeded');
    clients.push(c);
  }
  const third = await RawClient.connect(ctx.server);
  const full = await third.subscribe('presence-full', presenceAuth(third, 'presence-full', { user_id: 'm3' }));
  assert.deepEqual({ type: full.data.type, status: full.data.status }, { type: 'LimitReached', status: 4100 });
  // An existing member can always add a socket.
  const again = await third.subscribe('presence-full', presenceAuth(third, 'presence-full', { user_id: 'm1' }));
  assert.equal(again.event, 'pusher_internal:subscription_succeeded');
  const big = await third.subscribe('presence-big', presenceAuth(third, 'presence-big', { user_id: 'x', user_info: { b: 'y'.repeat(200) } }));
  assert.deepEqual({ type: big.data.type, status: big.data.status }, { type: 'LimitReached', status: 4301 });
  // Bad channel_data shapes.
  // Correctly signed channel_data of the wrong shape.
  for (const data of ['not json', '[]', '{"user_info":{}}', '{"user_id":""}', '{"user_id":true}']) {
    const auth = `app-key:${sign('app-secret', `${third.socketId}:presence-bad:${data}`)}`;
    const r = await third.subscribe('presence-bad', { auth, channel_data: data });
    assert.equal(r.data.type, 'AuthError', data);
    assert.equal(r.data.status, 401, data);
  }
  // Presence without channel_data needs a signed-in socket.
  const noData = await third.subscribe('presence-bad', { auth: sdk.authorizeChannel(third.socketId, 'presence-bad').auth });
  assert.equal(noData.data.type, 'AuthError');
  await Promise.all([...clients, third].map((c) => c.close()));
});

test('re-subscribing succeeds again without duplicating counts', async () => {
  const c = await RawClient.connect(ctx.server);
  await c.subscribe('dup');
  await c.subscribe('dup');
  const info = await apiRequest(ctx.server, { path: '/apps/app-id/channels/dup' });
  assert.equal(info.json.subscription_count, 1);
  c.send({ event: 'pusher:unsubscribe', data: { channel: 'dup' } });
  c.send({ event: 'pusher:unsubscribe', data: { channel: 'never-subscribed' } });
  await c.nothingBeforePong(() => false);
  const after = await apiRequest(ctx.server, { path: '/apps/app-id/channels/dup' });
  assert.deepEqual(after.json, { occupied: false, subscription_count: 0 });
  await c.close();
});

test('cache channels: cache_miss without data, then the last published event', async () => {
  const c = await RawClient.connect(ctx.server);
  await c.subscribe('cache-prices');
  const miss = await c.next((f) => f.event === 'pusher:cache_miss');
  assert.deepEqual(miss, { event: 'pusher:cache_miss', channel: 'cache-prices' });
  const successIndex = c.frames.findIndex((f) => f.json.event === 'pusher_internal:subscription_succeeded' && f.json.channel === 'cache-prices');
  const missIndex = c.frames.findIndex((f) => f.json.event === 'pusher:cache_miss');
  assert.ok(successIndex < missIndex);
  await sdk.trigger('cache-prices', 'price', { v: 1 });
  await sdk.trigger('cache-prices', 'price', { v: 2 });
  const d = await RawClient.connect(ctx.server);
  await d.subscribe('cache-prices');
  const replay = await d.next((f) => f.event === 'price');
  assert.deepEqual(replay, { event: 'price', channel: 'cache-prices', data: '{"v":2}' });
  const info = await apiRequest(ctx.server, { path: '/apps/app-id/channels/cache-prices', query: { info: 'cache' } });
  assert.equal(info.json.cache.event, 'price');
  assert.equal(info.json.cache.data, '{"v":2}');
  assert.ok(info.json.cache.ttl > 3500);
  await Promise.all([c.close(), d.close()]);
});

test('apps are isolated: the same channel name in two apps', async () => {
  const a = await RawClient.connect(ctx.server, 'app-key');
  const b = await RawClient.connect(ctx.server, 'other-key');
  await a.subscribe('shared');
  await b.subscribe('shared');
  await sdk.trigger('shared', 'only-app-id', 'x');
  await a.next((f) => f.event === 'only-app-id');
  assert.ok(await b.nothingBeforePong((f) => f.event === 'only-app-id'));
  await Promise.all([a.close(), b.close()]);
});

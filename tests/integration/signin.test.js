// User authentication (spec/pusher-protocol.md §8, §10): sign-in, #server-to-user-{id},
// terminate_connections, watchlist events, authorized-connection timeout.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const Pusher = require('pusher');
const { useServer } = require('../support/server');
const { RawClient, apiRequest } = require('../support/raw_client');

let sdk;
const ctx = useServer({
    config: { app_manager: { array: { apps: [
      { id: 'app-id', key: 'app-key', secret: 'app-secret', enable_watchlist_events: true },
      { id: 'auth', key: 'auth-key', secret: 'auth-secret', enable_user_authentication: true },
    ] } } },
    env: { USER_AUTHENTICATION_TIMEOUT: '1' },
  }, (server) => { sdk = new Pusher({ appId: 'app-id', key: 'app-key', secret: 'app-secret', host: server.host, port: String(server.port), useTLS: false }); });

async function signIn(c, user) {
  const { auth, user_data: userData } = sdk.authenticateUser(c.socketId, user);
  const mark = c.frames.length;
  c.send({ event: 'pusher:signin', data: { auth, user_data: userData } });
  return c.next((f) => f.event === 'pusher:signin_success' || f.event === 'pusher:error', { from: mark });
}

test('sign-in echoes user_data and enables #server-to-user delivery on every socket of the user', async () => {
  const a1 = await RawClient.connect(ctx.server);
  const a2 = await RawClient.connect(ctx.server);
  const b = await RawClient.connect(ctx.server);
  const ok = await signIn(a1, { id: 'alice', user_info: { n: 1 } });
  assert.equal(ok.event, 'pusher:signin_success');
  assert.equal(ok.data.user_data, JSON.stringify({ id: 'alice', user_info: { n: 1 } }));
  await signIn(a2, { id: 'alice' });
  await signIn(b, { id: 'bob' });
  const sub = await a1.subscribe('#server-to-user-alice');
  assert.deepEqual(sub, { event: 'pusher_internal:subscription_succeeded', channel: '#server-to-user-alice', data: '{}' });
  const refused = await b.subscribe('#server-to-user-alice');
  assert.equal(refused.data.type, 'AuthError');
  await sdk.sendToUser('alice', 'note', { hi: 1 });
  for (const x of [a1, a2]) {
    assert.deepEqual(await x.next((f) => f.event === 'note'), { event: 'note', channel: '#server-to-user-alice', data: '{"hi":1}' });
  }
  assert.ok(await b.nothingBeforePong((f) => f.event === 'note'));
  // Not listed as a channel.
  const list = await apiRequest(ctx.server, { path: '/apps/app-id/channels' });
  assert.deepEqual(Object.keys(list.json.channels).filter((n) => n.startsWith('#')), []);
  await Promise.all([a1, a2, b].map((x) => x.close()));
});

test('a bad sign-in is refused with 4009 and the socket closed', async () => {
  for (const data of [{ auth: 'app-key:' + '0'.repeat(64), user_data: '{"id":"x"}' }, { auth: 5 }, 'nope']) {
    const c = await RawClient.connect(ctx.server);
    c.send({ event: 'pusher:signin', data });
    const err = await c.next((f) => f.event === 'pusher:error');
    assert.equal(err.data.code, 4009);
    assert.equal((await c.closedPromise).code, 4009);
  }
  // Signed user_data without an id.
  const c = await RawClient.connect(ctx.server);
  const userData = JSON.stringify({ name: 'no id' });
  const auth = `app-key:${require('../support/raw_client').sign('app-secret', `${c.socketId}::user::${userData}`)}`;
  c.send({ event: 'pusher:signin', data: { auth, user_data: userData } });
  const err = await c.next((f) => f.event === 'pusher:error');
  assert.match(err.data.message, /"id"/);
  assert.equal((await c.closedPromise).code, 4009);
});

test('terminate_connections closes the signed-in sockets of that user only, with 4009', async () => {
  const target = await RawClient.connect(ctx.server);
  const presenceOnly = await RawClient.connect(ctx.server);
  const bystander = await RawClient.connect(ctx.server);
  await signIn(target, { id: 'mallory' });
  await signIn(bystander, { id: 'bystander' });
  const member = { user_id: 'mallory' };
  await presenceOnly.subscribe('presence-t', { auth: sdk.authorizeChannel(presenceOnly.socketId, 'presence-t', member).auth, channel_data: JSON.stringify(member) });
  const r = await sdk.terminateUserConnections('mallory');
  assert.equal(r.status, 200);
  const err = await target.next((f) => f.event === 'pusher:error');
  assert.deepEqual(err.data, { code: 4009, message: 'You got disconnected by the app.' });
  assert.equal((await target.closedPromise).code, 4009);
  assert.ok(await presenceOnly.nothingBeforePong(() => false));
  assert.equal(presenceOnly.closed, null);
  assert.equal(bystander.closed, null);
  // Unknown users are fine too.
  assert.equal((await sdk.terminateUserConnections('nobody')).status, 200);
  await Promise.all([presenceOnly.close(), bystander.close()]);
});

test('watchlist: initial status, then online and offline transitions', async () => {
  const friend = await RawClient.connect(ctx.server);
  await signIn(friend, { id: 'friend' });
  const watcher = await RawClient.connect(ctx.server);
  await signIn(watcher, { id: 'watcher', watchlist: ['friend', 'stranger'] });
  const initial = await watcher.next((f) => f.event === 'pusher_internal:watchlist_events');
  assert.equal(typeof initial.data, 'string');
  assert.deepEqual(JSON.parse(initial.data), { events: [{ name: 'online', user_ids: ['friend'] }, { name: 'offline', user_ids: ['stranger'] }] });
  const mark = watcher.frames.length;
  const stranger = await RawClient.connect(ctx.server);
  await signIn(stranger, { id: 'stranger' });
  const online = await watcher.next((f) => f.event === 'pusher_internal:watchlist_events', { from: mark });
  assert.deepEqual(JSON.parse(online.data), { events: [{ name: 'online', user_ids: ['stranger'] }] });
  const mark2 = watcher.frames.length;
  await stranger.close();
  const offline = await watcher.next((f) => f.event === 'pusher_internal:watchlist_events', { from: mark2 });
  assert.deepEqual(JSON.parse(offline.data), { events: [{ name: 'offline', user_ids: ['stranger'] }] });
  await Promise.all([friend.close(), watcher.close()]);
});

test('authorized connections: unauthorized sockets are closed with 4009 after the timeout', async () => {
  const authSdk = new Pusher({ appId: 'auth', key: 'auth-key', secret: 'auth-secret', host: 'h' });
  const idle = await RawClient.connect(ctx.server, 'auth-key');
  const authorized = await RawClient.connect(ctx.server, 'auth-key');
  await authorized.subscribe('private-ok', { auth: authSdk.authorizeChannel(authorized.socketId, 'private-ok').auth });
  const err = await idle.next((f) => f.event === 'pusher:error', { timeoutMs: 5000 });
  assert.equal(err.data.code, 4009);
  assert.equal((await idle.closedPromise).code, 4009);
  assert.ok(await authorized.nothingBeforePong(() => false));
  assert.equal(authorized.closed, null);
  await authorized.close();
});

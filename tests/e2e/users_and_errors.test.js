// User features and failure paths with pusher-js and the pusher SDK: signin, sendToUser,
// terminateUserConnections, watchlist; refused connections, rejected subscriptions and client
// events, SDK calls that the server rejects.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { useServer } = require('../support/server');
const { client, serverSdk, once, connected, subscribed, waitFor } = require('../support/pusher_clients');

let sdk;
const ctx = useServer({ config: { app_manager: { array: { apps: [
    { id: 'app-id', key: 'app-key', secret: 'app-secret', enable_client_messages: true, enable_watchlist_events: true },
    { id: 'off', key: 'off-key', secret: 'off-secret', enabled: false },
  ] } } } }, (server) => { sdk = serverSdk(server); });

test('signin, sendToUser and terminateUserConnections', async () => {
  const alice = client(ctx.server, { user: { id: 'alice', user_info: { name: 'Alice' } } });
  await connected(alice);
  alice.signin();
  await waitFor(() => alice.user.user_data && alice.user.user_data.id === 'alice', { what: 'pusher-js sign-in' });
  await waitFor(() => alice.user.serverToUserChannel && alice.user.serverToUserChannel.subscribed,
    { what: 'the #server-to-user channel' });
  const note = new Promise((resolve) => alice.user.bind('note', resolve));
  assert.equal((await sdk.sendToUser('alice', 'note', { text: 'hi' })).status, 200);
  assert.deepEqual(await note, { text: 'hi' });

  const errors = [];
  alice.connection.bind('error', (e) => errors.push(e));
  const r = await sdk.terminateUserConnections('alice');
  assert.equal(r.status, 200);
  await waitFor(() => errors.some((e) => e.data && e.data.code === 4009), { what: 'the 4009 error in pusher-js' });
  await waitFor(() => ['unavailable', 'failed', 'disconnected'].includes(alice.connection.state), { what: 'pusher-js to stop' });
  alice.disconnect();
});

test('watchlist online/offline events reach pusher-js', async () => {
  const watcher = client(ctx.server, { user: { id: 'w', watchlist: ['friend'] } });
  await connected(watcher);
  const events = [];
  watcher.user.watchlist.bind('online', (e) => events.push(['online', e.user_ids]));
  watcher.user.watchlist.bind('offline', (e) => events.push(['offline', e.user_ids]));
  watcher.signin();
  await waitFor(() => events.length === 1, { what: 'the initial watchlist status' });
  assert.deepEqual(events[0], ['offline', ['friend']]);
  const friend = client(ctx.server, { user: { id: 'friend' } });
  await connected(friend);
  friend.signin();
  await waitFor(() => events.length === 2, { what: 'friend online' });
  assert.deepEqual(events[1], ['online', ['friend']]);
  friend.disconnect();
  await waitFor(() => events.length === 3, { what: 'friend offline' });
  assert.deepEqual(events[2], ['offline', ['friend']]);
  watcher.disconnect();
});

test('unknown and disabled apps are refused with 4001 / 4003 and pusher-js ends disconnected', async () => {
  for (const [key, code] of [['no-such-key', 4001], ['off-key', 4003]]) {
    const c = client(ctx.server, { key });
    const err = await once(c.connection, 'error');
    assert.equal(err.data.error.data.code, code);
    await waitFor(() => c.connection.state === 'disconnected', { what: `${key} to settle` });
    c.disconnect();
  }
});

test('a wrong channel signature is a subscription_error with status 401; the connection stays up', async () => {
  const c = client(ctx.server, { authorizerError: true });
  const { ok, data } = await subscribed(c, 'private-nope');
  assert.equal(ok, false);
  assert.equal(data.type, 'AuthError');
  assert.equal(data.status, 401);
  const good = client(ctx.server);
  assert.ok((await subscribed(good, 'private-yes')).ok);
  assert.equal(c.connection.state, 'connected');
  c.disconnect();
  good.disconnect();
});

test('a client event on a public channel comes back as pusher:error on that channel', async () => {
  const c = client(ctx.server);
  const { channel } = await subscribed(c, 'public-room');
  const err = once(channel, 'pusher:error');
  channel.trigger('client-nope', {});
  const { data } = await err;
  assert.equal(data.code, 4301);
  assert.equal(c.connection.state, 'connected');
  c.disconnect();
});

test('SDK calls the server rejects surface their status', async () => {
  const tooBig = await sdk.trigger('big', 'e', 'x'.repeat(101 * 1024)).catch((e) => e);
  assert.equal(tooBig.status, 413);
  const wrongSecret = serverSdk(ctx.server, { secret: 'wrong' });
  const denied = await wrongSecret.trigger('c', 'e', {}).catch((e) => e);
  assert.equal(denied.status, 401);
  const unknownApp = serverSdk(ctx.server, { appId: 'ghost' });
  const missing = await unknownApp.trigger('c', 'e', {}).catch((e) => e);
  assert.equal(missing.status, 404);
  const disabled = serverSdk(ctx.server, { appId: 'off', key: 'off-key', secret: 'off-secret' });
  assert.equal((await disabled.trigger('c', 'e', {}).catch((e) => e)).status, 403);
  const tooManyChannels = await sdk.triggerBatch(Array.from({ length: 11 }, () => ({ channel: 'c', name: 'e', data: '' }))).catch((e) => e);
  assert.equal(tooManyChannels.status, 400);
  // The server still serves everyone afterwards.
  assert.equal((await sdk.trigger('c', 'e', {})).status, 200);
});

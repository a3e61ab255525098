// The acceptance scenario with the real pusher-js and pusher packages: a pusher-js client
// joins presence-room with an auth signature made by the pusher SDK, sees itself in the members,
// receives an event triggered through the SDK, and sees others join and leave.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { useServer } = require('../support/server');
const { client, serverSdk, once, connected, subscribed, waitFor } = require('../support/pusher_clients');

let sdk;
const ctx = useServer({}, (server) => { sdk = serverSdk(server); });

test('presence-room: members, SDK-triggered event, member_added and member_removed', async () => {
  const ann = client(ctx.server, { presence: { user_id: 'ann', user_info: { name: 'Ann' } } });
  const { ok, data: members, channel } = await subscribed(ann, 'presence-room');
  assert.ok(ok);
  assert.equal(members.count, 1);
  assert.deepEqual(members.me, { id: 'ann', info: { name: 'Ann' } });
  assert.deepEqual(members.get('ann'), { id: 'ann', info: { name: 'Ann' } });

  const received = once(channel, 'greeting');
  const res = await sdk.trigger('presence-room', 'greeting', { message: 'hello', unicode: 'h\u00e9\u20ac' });
  assert.equal(res.status, 200);
  assert.deepEqual((await received).data, { message: 'hello', unicode: 'h\u00e9\u20ac' });

  const added = once(channel, 'pusher:member_added');
  const bob = client(ctx.server, { presence: { user_id: 'bob', user_info: { name: 'Bob' } } });
  const bobJoin = await subscribed(bob, 'presence-room');
  assert.equal(bobJoin.data.count, 2);
  assert.deepEqual((await added).data, { id: 'bob', info: { name: 'Bob' } });
  assert.equal(channel.members.count, 2);

  const users = await (await sdk.get({ path: '/channels/presence-room/users' })).json();
  assert.deepEqual(users.users.map((u) => u.id).sort(), ['ann', 'bob']);
  const channels = await (await sdk.get({ path: '/channels', params: { filter_by_prefix: 'presence-', info: 'user_count' } })).json();
  assert.deepEqual(channels, { channels: { 'presence-room': { occupied: true, subscription_count: 2, user_count: 2 } } });

  const removed = once(channel, 'pusher:member_removed');
  bob.disconnect();
  assert.deepEqual((await removed).data, { id: 'bob', info: { name: 'Bob' } });
  await waitFor(async () => (await (await sdk.get({ path: '/channels/presence-room' })).json()).subscription_count === 1,
    { what: 'the departure to be counted' });
  ann.disconnect();
});

test('numeric user ids stay numbers for pusher-js', async () => {
  const a = client(ctx.server, { presence: { user_id: 1001 } });
  const { data: members } = await subscribed(a, 'presence-numeric');
  assert.strictEqual(members.me.id, 1001);
  const b = client(ctx.server, { presence: { user_id: 1002 } });
  const added = once(a.channel('presence-numeric'), 'pusher:member_added');
  await subscribed(b, 'presence-numeric');
  assert.strictEqual((await added).data.id, 1002);
  a.disconnect();
  b.disconnect();
});

test('the same user on two connections is one member', async () => {
  const a1 = client(ctx.server, { presence: { user_id: 'same' } });
  const a2 = client(ctx.server, { presence: { user_id: 'same' } });
  const watcher = client(ctx.server, { presence: { user_id: 'watcher' } });
  const w = await subscribed(watcher, 'presence-dup');
  let addedCount = 0;
  w.channel.bind('pusher:member_added', () => { addedCount += 1; });
  await subscribed(a1, 'presence-dup');
  const second = await subscribed(a2, 'presence-dup');
  assert.equal(second.data.count, 2);
  await waitFor(() => w.channel.members.count === 2, { what: 'the watcher to see two members' });
  const removed = once(w.channel, 'pusher:member_removed');
  a1.disconnect();
  await connected(a2);
  a2.disconnect();
  assert.equal((await removed).data.id, 'same');
  assert.equal(addedCount, 1);
  watcher.disconnect();
});

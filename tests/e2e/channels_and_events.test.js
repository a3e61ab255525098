// Private, encrypted, cache and public channels with pusher-js; publishing with every pusher SDK
// call (trigger, trigger to many channels, triggerBatch, socket_id exclusion); client events.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { useServer } = require('../support/server');
const { client, serverSdk, once, connected, subscribed, waitFor } = require('../support/pusher_clients');

let sdk;
const ctx = useServer({}, (server) => { sdk = serverSdk(server); });

test('private channel client events reach the others, not the sender; presence adds user_id', async () => {
  const a = client(ctx.server, { presence: { user_id: 'alpha' } });
  const b = client(ctx.server, { presence: { user_id: 'beta' } });
  const [pa, pb] = await Promise.all([subscribed(a, 'private-room'), subscribed(b, 'private-room')]);
  assert.ok(pa.ok && pb.ok);
  let echoed = false;
  pa.channel.bind('client-typing', () => { echoed = true; });
  const got = once(pb.channel, 'client-typing');
  assert.equal(pa.channel.trigger('client-typing', { typing: true }), true);
  assert.deepEqual((await got).data, { typing: true });

  const [qa, qb] = await Promise.all([subscribed(a, 'presence-room'), subscribed(b, 'presence-room')]);
  const meta = once(qb.channel, 'client-wave');
  qa.channel.trigger('client-wave', { hi: 1 });
  const r = await meta;
  assert.deepEqual(r.data, { hi: 1 });
  assert.equal(r.meta.user_id, 'alpha');
  // A round trip from the other side proves the sender saw nothing in between.
  const back = once(qa.channel, 'client-back');
  qb.channel.trigger('client-back', {});
  await back;
  assert.equal(echoed, false);
  a.disconnect();
  b.disconnect();
});

test('encrypted channels: the server relays the SDK ciphertext and pusher-js decrypts it', async () => {
  const c = client(ctx.server);
  const { ok, channel } = await subscribed(c, 'private-encrypted-secrets');
  assert.ok(ok);
  const got = once(channel, 'secret');
  await sdk.trigger('private-encrypted-secrets', 'secret', { pin: 1234 });
  assert.deepEqual((await got).data, { pin: 1234 });
  c.disconnect();
});

test('trigger to several channels, triggerBatch in order, socket_id exclusion', async () => {
  const a = client(ctx.server);
  const b = client(ctx.server);
  const [ca, cb] = await Promise.all([subscribed(a, 'multi-1'), subscribed(b, 'multi-2')]);
  const ga = once(ca.channel, 'fanout');
  const gb = once(cb.channel, 'fanout');
  await sdk.trigger(['multi-1', 'multi-2'], 'fanout', 'plain text');
  assert.equal((await ga).data, 'plain text');
  assert.equal((await gb).data, 'plain text');

  const seen = [];
  cb.channel.bind('seq', (d) => seen.push(d.i));
  const res = await sdk.triggerBatch(Array.from({ length: 10 }, (_, i) => ({ channel: 'multi-2', name: 'seq', data: { i } })));
  assert.equal(res.status, 200);
  await waitFor(() => seen.length === 10, { what: 'ten batched events' });
  assert.deepEqual(seen, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);

  const both = await subscribed(a, 'multi-2');
  let excludedGot = false;
  both.channel.bind('not-for-a', () => { excludedGot = true; });
  const forB = once(cb.channel, 'not-for-a');
  await sdk.trigger('multi-2', 'not-for-a', {}, { socket_id: a.connection.socket_id });
  await forB;
  const marker = once(both.channel, 'marker');
  await sdk.trigger('multi-2', 'marker', {});
  await marker;
  assert.equal(excludedGot, false);

  const info = await sdk.trigger('multi-2', 'counted', {}, { info: 'subscription_count' });
  assert.deepEqual(await info.json(), { channels: { 'multi-2': { subscription_count: 2 } } });
  a.disconnect();
  b.disconnect();
});

test('cache channels with pusher-js: cache_miss, then the cached event on subscribe', async () => {
  const a = client(ctx.server);
  const channel = a.subscribe('cache-quotes');
  const miss = await once(channel, 'pusher:cache_miss');
  assert.equal(miss.data, undefined);
  await sdk.trigger('cache-quotes', 'quote', { price: 42 });
  const b = client(ctx.server);
  const bc = b.subscribe('cache-quotes');
  assert.deepEqual((await once(bc, 'quote')).data, { price: 42 });
  a.disconnect();
  b.disconnect();
});

test('many subscribers on one channel all receive every event in order', async () => {
  const clients = Array.from({ length: 20 }, () => client(ctx.server));
  const channels = await Promise.all(clients.map((c) => subscribed(c, 'crowd')));
  const received = channels.map(() => []);
  channels.forEach((ch, i) => ch.channel.bind('tick', (d) => received[i].push(d.n)));
  for (let n = 0; n < 25; n++) await sdk.trigger('crowd', 'tick', { n });
  await waitFor(() => received.every((r) => r.length === 25), { timeoutMs: 10000, what: 'every subscriber to get 25 events' });
  for (const r of received) assert.deepEqual(r, Array.from({ length: 25 }, (_, n) => n));
  clients.forEach((c) => c.disconnect());
});

test('unsubscribe stops delivery', async () => {
  const a = client(ctx.server);
  const { channel } = await subscribed(a, 'leaving');
  a.unsubscribe('leaving');
  await waitFor(async () => (await (await sdk.get({ path: '/channels/leaving' })).json()).subscription_count === 0,
    { what: 'the unsubscribe to be counted' });
  let got = false;
  channel.bind('late', () => { got = true; });
  await connected(a);
  const { channel: other } = await subscribed(a, 'still-here');
  const marker = once(other, 'marker');
  await sdk.trigger(['leaving', 'still-here'], 'late', {});
  await sdk.trigger('still-here', 'marker', {});
  await marker;
  assert.equal(got, false);
  a.disconnect();
});

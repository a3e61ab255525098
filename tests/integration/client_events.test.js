// Client events (spec/pusher-protocol.md §11): relay rules, user_id on presence, every rejection.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const Pusher = require('pusher');
const { useServer } = require('../support/server');
const { RawClient } = require('../support/raw_client');
const { httpRequest, waitFor } = require('../support/wait');

let sdk;
const ctx = useServer({
    config: { app_manager: { array: { apps: [
      { id: 'app-id', key: 'app-key', secret: 'app-secret', enable_client_messages: true,
        max_client_events_per_second: 3, max_event_payload_in_kb: 1 },
      { id: 'quiet', key: 'quiet-key', secret: 'quiet-secret', enable_client_messages: false },
      { id: 'strict', key: 'strict-key', secret: 'strict-secret', enable_client_messages: true,
        max_client_events_per_second: 1, terminate_on_limit: true },
      { id: 'chatty', key: 'chatty-key', secret: 'chatty-secret',
        message_rate_limit: { enabled: true, max_attempts: 3, decay_seconds: 60, terminate_on_limit: false } },
      { id: 'chatty-strict', key: 'chatty-strict-key', secret: 'chatty-strict-secret',
        message_rate_limit: { enabled: true, max_attempts: 2, decay_seconds: 60, terminate_on_limit: true } },
    ] } } },
  }, (server) => { sdk = new Pusher({ appId: 'app-id', key: 'app-key', secret: 'app-secret', host: server.host, port: String(server.port), useTLS: false }); });

async function joinPrivate(c, channel, app = sdk) {
  return c.subscribe(channel, { auth: app.authorizeChannel(c.socketId, channel).auth });
}

test('relayed to every other subscriber, never echoed, data kept as sent', async () => {
  const [a, b, c] = await Promise.all([0, 1, 2].map(() => RawClient.connect(ctx.server)));
  for (const x of [a, b, c]) await joinPrivate(x, 'private-chat');
  a.send({ event: 'client-typing', channel: 'private-chat', data: { typing: true, n: 1.5 } });
  a.send({ event: 'client-text', channel: 'private-chat', data: 'plain string' });
  for (const x of [b, c]) {
    assert.deepEqual(await x.next((f) => f.event === 'client-typing'),
      { event: 'client-typing', channel: 'private-chat', data: { typing: true, n: 1.5 } });
    assert.deepEqual(await x.next((f) => f.event === 'client-text'),
      { event: 'client-text', channel: 'private-chat', data: 'plain string' });
  }
  assert.ok(await a.nothingBeforePong((f) => f.event.startsWith('client-')));
  await Promise.all([a, b, c].map((x) => x.close()));
});

test('presence channels add the sender user_id with its JSON type', async () => {
  const a = await RawClient.connect(ctx.server);
  const b = await RawClient.connect(ctx.server);
  for (const [x, id] of [[a, 42], [b, 'bee']]) {
    const member = { user_id: id };
    await x.subscribe('presence-chat', { auth: sdk.authorizeChannel(x.socketId, 'presence-chat', member).auth, channel_data: JSON.stringify(member) });
  }
  a.send({ event: 'client-hi', channel: 'presence-chat', data: {} });
  assert.deepEqual(await b.next((f) => f.event === 'client-hi'), { event: 'client-hi', channel: 'presence-chat', data: {}, user_id: 42 });
  await Promise.all([a.close(), b.close()]);
});

test('rejections carry code 4301 and the channel, and the connection stays open', async () => {
  const c = await RawClient.connect(ctx.server);
  await joinPrivate(c, 'private-mine');
  const tooLongName = 'client-' + 'x'.repeat(200);
  const cases = [
    [{ event: 'client-a', channel: 'public-chan', data: {} }, /only supported on private and presence/],
    [{ event: 'client-a', channel: 'cache-x', data: {} }, /only supported/],
    [{ event: 'client-a', channel: 'private-encrypted-x', data: {} }, /only supported/],
    [{ event: 'client-a', channel: 'private-not-joined', data: {} }, /must be subscribed/],
    [{ event: tooLongName, channel: 'private-mine', data: {} }, /Event name is too long/],
    [{ event: 'client-big', channel: 'private-mine', data: 'x'.repeat(1025) }, /less than 1 KB/],
  ];
  for (const [frame, message] of cases) {
    const mark = c.frames.length;
    c.send(frame);
    const err = await c.next((f) => f.event === 'pusher:error', { from: mark });
    assert.equal(err.data.code, 4301);
    assert.equal(err.channel, frame.channel);
    assert.match(err.data.message, message);
  }
  const mark = c.frames.length;
  c.send({ event: 'client-nochannel', data: {} });
  const err = await c.next((f) => f.event === 'pusher:error', { from: mark });
  assert.equal(err.data.code, 4301);
  assert.equal(c.closed, null);
  await c.close();
});

test('the app flag disables client events', async () => {
  const quietSdk = new Pusher({ appId: 'quiet', key: 'quiet-key', secret: 'quiet-secret', host: 'h' });
  const c = await RawClient.connect(ctx.server, 'quiet-key');
  await joinPrivate(c, 'private-q', quietSdk);
  c.send({ event: 'client-a', channel: 'private-q', data: {} });
  const err = await c.next((f) => f.event === 'pusher:error');
  assert.match(err.data.message, /client messaging enabled/);
  await c.close();
});

test('rate limit: events over the per-second budget are rejected, others relayed', async () => {
  const a = await RawClient.connect(ctx.server);
  const b = await RawClient.connect(ctx.server);
  await joinPrivate(a, 'private-rate');
  await joinPrivate(b, 'private-rate');
  for (let i = 0; i < 5; i++) a.send({ event: 'client-n', channel: 'private-rate', data: { i } });
  await a.nothingBeforePong(() => false);
  await b.nothingBeforePong(() => false);
  const errors = a.events('pusher:error').filter((e) => /rate limit/.test(e.data.message));
  assert.equal(errors.length, 2);
  assert.equal(b.events('client-n').length, 3);
  await Promise.all([a.close(), b.close()]);
});

test('terminate_on_limit closes with 4301', async () => {
  const strictSdk = new Pusher({ appId: 'strict', key: 'strict-key', secret: 'strict-secret', host: 'h' });
  const c = await RawClient.connect(ctx.server, 'strict-key');
  await joinPrivate(c, 'private-s', strictSdk);
  c.send({ event: 'client-a', channel: 'private-s', data: {} });
  c.send({ event: 'client-a', channel: 'private-s', data: {} });
  assert.equal((await c.closedPromise).code, 4301);
  // The per-socket limit is counted with the other limiters (spec/backends.md §4.4).
  const text = (await httpRequest({ port: ctx.server.metricsPort, path: '/metrics' })).text;
  const sample = (name) => Number((text.match(new RegExp(`^sockudo_${name}\\{limiter="client_events"[^}]*\\} (\\d+)`, 'm')) || [])[1]);
  assert.ok(sample('rate_limit_checks_total') >= 2, text.match(/rate_limit.*client_events.*/g).join('\n'));
  assert.ok(sample('rate_limit_triggered_total') >= 1);
});

test('message_rate_limit: messages over the limit get 4301 (or close the socket), counted in /metrics', async () => {
  const c = await RawClient.connect(ctx.server, 'chatty-key');
  for (let i = 0; i < 5; i++) c.send({ event: 'pusher:ping', data: {} });
  await c.next((f) => f.event === 'pusher:error' && f.data && f.data.code === 4301);
  // Three pings answered, the other two refused; the socket stays open.
  await waitFor(() => c.events('pusher:error').length === 2, { what: 'two refusals' });
  assert.equal(c.events('pusher:pong').length, 3);
  assert.equal(c.events('pusher:error')[0].data.message, 'Message rate limit exceeded.');
  assert.equal(c.closed, null);

  const d = await RawClient.connect(ctx.server, 'chatty-strict-key');
  for (let i = 0; i < 3; i++) d.send({ event: 'pusher:ping', data: {} });
  assert.equal((await d.closedPromise).code, 4301);

  const text = (await httpRequest({ port: ctx.server.metricsPort, path: '/metrics' })).text;
  const sample = (name) => Number((text.match(new RegExp(`^sockudo_${name}\\{limiter="websocket_messages"[^}]*\\} (\\d+)`, 'm')) || [])[1]);
  assert.equal(sample('rate_limit_checks_total'), 8);
  assert.equal(sample('rate_limit_triggered_total'), 3);
  await c.close();
});

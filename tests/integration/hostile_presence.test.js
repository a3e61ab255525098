// Hostile Pusher-protocol messages: deeply nested JSON (answered with pusher:error code null, the
// connection stays open, the parser does not blow the stack), huge presence channel_data (4301
// over max_presence_member_size_in_kb), and presence user_ids that are integers beyond what a
// double holds, which must stay distinct members and be echoed digit for digit (the raw frame
// text is checked, never a JS-parsed number). channel_data is signed by hand as raw text
// (HMAC-SHA256 of socket_id:channel:channel_data) so that JSON.stringify never touches the numbers.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { HostileSocket, assertAlive, useHostileServer, presenceAuth } = require('../support/hostile');

const ctx = useHostileServer({}, 'pusher-level-healthy');

const DEPTH = 100000;
const nested = [
  ['100k unclosed "["', '['.repeat(DEPTH), 'Invalid JSON'],
  ['100k unclosed \'{"a":\'', '{"a":'.repeat(DEPTH), 'Invalid JSON'],
  ['100k balanced "[...]"', '['.repeat(DEPTH) + ']'.repeat(DEPTH), null],
  ['a pusher:subscribe whose data nests 100k arrays', `{"event":"pusher:subscribe","data":${'['.repeat(DEPTH)}${']'.repeat(DEPTH)}}`, null],
  ['a pusher:subscribe whose channel nests 100k objects',
    `{"event":"pusher:subscribe","data":{"channel":${'{"a":'.repeat(DEPTH)}1${'}'.repeat(DEPTH)}}}`, null],
];
for (const [name, text, message] of nested) {
  test(`${name}: pusher:error code null${message ? ` "${message}"` : ''}, connection open`, async () => {
    const c = await HostileSocket.connect(ctx.server);
    await c.sendText(text);
    const err = await c.next((f) => f.event === 'pusher:error');
    assert.equal(err.data.code, null, JSON.stringify(err));
    if (message) assert.equal(err.data.message, message);
    await c.roundTrip();
    assert.equal(c.closedAt, null);
    assert.equal(c.frames.some((f) => f.opcode === 0x8), false, 'no close frame');
    await c.destroy();
    await assertAlive(ctx.server, ctx.healthy, name);
  });
}

test('signed presence channel_data nested 100k deep is refused without taking the node down', async () => {
  const c = await HostileSocket.connect(ctx.server);
  const channelData = `{"user_id":"deep","user_info":${'['.repeat(DEPTH)}${']'.repeat(DEPTH)}}`;
  const mark = c.frames.length;
  await c.sendJson({ event: 'pusher:subscribe', data: { channel: 'presence-deep', ...presenceAuth(c.socketId, 'presence-deep', channelData) } });
  const answer = await c.next((f) => f.event === 'pusher:subscription_error' || f.event === 'pusher:error' ||
    f.event === 'pusher_internal:subscription_succeeded', { from: mark });
  assert.notEqual(answer.event, 'pusher_internal:subscription_succeeded', 'a member over 2 KB (and 100k deep) is not admitted');
  await c.roundTrip();
  assert.equal(c.closedAt, null);
  await c.destroy();
  await assertAlive(ctx.server, ctx.healthy, 'deep channel_data');
});

test('presence channel_data with 100 KB of user_info: pusher:subscription_error status 4301', async () => {
  const c = await HostileSocket.connect(ctx.server);
  const channelData = JSON.stringify({ user_id: 'huge', user_info: { blob: 'u'.repeat(100 * 1024) } });
  await c.sendJson({ event: 'pusher:subscribe', data: { channel: 'presence-huge', ...presenceAuth(c.socketId, 'presence-huge', channelData) } });
  const answer = await c.next((f) => f.channel === 'presence-huge' || f.event === 'pusher:error');
  assert.equal(answer.event, 'pusher:subscription_error', JSON.stringify(answer).slice(0, 300));
  assert.equal(answer.data.status, 4301, JSON.stringify(answer.data));
  await c.roundTrip();
  assert.equal(c.closedAt, null);
  // The same socket can still join with a normal member.
  const small = '{"user_id":"small"}';
  await c.sendJson({ event: 'pusher:subscribe', data: { channel: 'presence-huge', ...presenceAuth(c.socketId, 'presence-huge', small) } });
  assert.equal((await c.next((f) => f.channel === 'presence-huge' && f.event.startsWith('pusher_internal'))).event,
    'pusher_internal:subscription_succeeded');
  await c.destroy();
  await assertAlive(ctx.server, ctx.healthy, 'huge channel_data');
});

// [first id, second id] as raw JSON number text: equal as doubles, different as integers.
const bigIds = [
  ['100000000000000000000000000001', '100000000000000000000000000000'],
  ['9007199254740993', '9007199254740992'],
];
for (const [first, second] of bigIds) {
  test(`presence user_ids ${first} and ${second} are two members, echoed digit for digit`, async () => {
    const channel = `presence-big-${first.length}`;
    const a = await HostileSocket.connect(ctx.server);
    const b = await HostileSocket.connect(ctx.server);
    const join = async (c, id) => {
      const mark = c.frames.length;
      await c.sendJson({ event: 'pusher:subscribe', data: { channel, ...presenceAuth(c.socketId, channel, `{"user_id":${id}}`) } });
      await c.next((f) => f.channel === channel && (f.event === 'pusher_internal:subscription_succeeded' || f.event === 'pusher:subscription_error'), { from: mark });
      return c.frames.slice(mark).find((f) => f.json && f.json.channel === channel);
    };
    const okA = await join(a, first);
    assert.equal(okA.json.event, 'pusher_internal:subscription_succeeded', okA.text);
    const okB = await join(b, second);
    assert.equal(okB.json.event, 'pusher_internal:subscription_succeeded', okB.text);
    // data is a JSON string: its text is the server's own, not re-parsed by JavaScript.
    const presence = okB.json.data;
    const ids = (/"ids":\[([^\]]*)\]/.exec(presence) || [])[1] || '';
    assert.deepEqual(ids.split(',').sort(), [first, second].sort(), `both ids, digit for digit: ${presence}`);
    assert.ok(presence.includes('"count":2'), `two members: ${presence}`);
    assert.doesNotMatch(okB.text, /e\+/i);

    // The member events, as the raw text of their frames (digits are never escaped in a string).
    const rawFrame = async (c, event) => {
      const json = await c.next((f) => f.event === event && f.channel === channel);
      return c.frames.find((f) => f.json === json).text;
    };
    const added = await rawFrame(a, 'pusher_internal:member_added');
    assert.ok(added.includes(second), `member_added: ${added}`);
    assert.ok(!added.includes(first), `member_added names the new member only: ${added}`);
    assert.doesNotMatch(added, /e\+/i);

    // Leaving removes exactly that member.
    await b.destroy();
    const removed = await rawFrame(a, 'pusher_internal:member_removed');
    assert.ok(removed.includes(second) && !removed.includes(first), `member_removed: ${removed}`);
    assert.doesNotMatch(removed, /e\+/i);

    await a.destroy();
    await assertAlive(ctx.server, ctx.healthy, `big ids ${first}`);
  });
}

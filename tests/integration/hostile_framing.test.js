// Hostile RFC 6455 framing on a raw TCP socket (tests/support/hostile.js): protocol errors (1002),
// frames and messages over WEBSOCKET_MAX_PAYLOAD_KB (1009), text that is not UTF-8 (1007),
// client close frames (every code and reason shape), ping frames with their payloads, frames
// glued to the upgrade request and frames trickled one byte at a time. After every case the node
// must still answer /ready and deliver an HTTP-published event to a healthy subscriber on another
// connection; server.stop() at the end fails on a crash or a sanitizer report.
'use strict';
const net = require('node:net');
const { describe, test } = require('node:test');
const assert = require('node:assert/strict');
const { waitFor } = require('../support/wait');
const { OP, frame, closePayload, HostileSocket, assertAlive, useHostileServer } = require('../support/hostile');

const ctx = useHostileServer({}, 'framing-healthy');  // defaults: WEBSOCKET_MAX_PAYLOAD_KB 10240

const MAX_PAYLOAD = 10240 * 1024;
const PING_EVENT = JSON.stringify({ event: 'pusher:ping', data: {} });
const subscribeText = (channel) => JSON.stringify({ event: 'pusher:subscribe', data: { channel } });

// RFC 6455 §5.2-§5.5: each of these is a protocol error; the server sends close 1002 and closes.
const protocolErrors = [
  ['an unmasked text frame', () => frame({ mask: false, payload: PING_EVENT })],
  ['RSV1 set (no extension negotiated)', () => frame({ rsv: 4, payload: PING_EVENT })],
  ['RSV2 set', () => frame({ rsv: 2, payload: PING_EVENT })],
  ['RSV3 set', () => frame({ rsv: 1, payload: PING_EVENT })],
  ['RSV1 set on a ping', () => frame({ rsv: 4, opcode: OP.PING })],
  ...[3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf].map((op) =>
    [`unknown opcode 0x${op.toString(16)}`, () => frame({ opcode: op, payload: PING_EVENT })]),
  ['a ping with FIN=0', () => frame({ opcode: OP.PING, fin: false, payload: 'x' })],
  ['a pong with FIN=0', () => frame({ opcode: OP.PONG, fin: false })],
  ['a close with FIN=0', () => frame({ opcode: OP.CLOSE, fin: false, payload: closePayload(1000) })],
  ['a ping with a 126-byte payload', () => frame({ opcode: OP.PING, payload: Buffer.alloc(126, 0x61) })],
  ['a pong with a 200-byte payload', () => frame({ opcode: OP.PONG, payload: Buffer.alloc(200, 0x61) })],
  ['a close with a 126-byte payload', () => frame({ opcode: OP.CLOSE, payload: closePayload(1000, 'r'.repeat(124)) })],
  ['a continuation frame without a started message', () => frame({ opcode: OP.CONTINUATION, payload: PING_EVENT })],
  ['a final continuation frame without a started message', () => frame({ opcode: OP.CONTINUATION, fin: true, payload: 'x' })],
  ['a text frame while a fragmented message is open', () => Buffer.concat([
    frame({ opcode: OP.TEXT, fin: false, payload: '{"event":' }), frame({ opcode: OP.TEXT, payload: PING_EVENT })])],
  ['a binary frame while a fragmented message is open', () => Buffer.concat([
    frame({ opcode: OP.TEXT, fin: false, payload: '{"event":' }), frame({ opcode: OP.BINARY, payload: PING_EVENT })])],
  ['a fragmented text message restarted with a new non-final text frame', () => Buffer.concat([
    frame({ opcode: OP.BINARY, fin: false, payload: '{' }), frame({ opcode: OP.TEXT, fin: false, payload: '{' })])],
  ['a 64-bit length of 2^63', () => frame({ payload: 'abc', lengthOverride: 2n ** 63n })],
  ['a 64-bit length of 2^64-1', () => frame({ payload: 'abc', lengthOverride: 2n ** 64n - 1n })],
  ['a 64-bit length of 2^63 on a continuation of an open message', () => Buffer.concat([
    frame({ opcode: OP.TEXT, fin: false, payload: '{' }), frame({ opcode: OP.CONTINUATION, payload: 'abc', lengthOverride: 2n ** 63n })])],
];

// The server cannot read our close reply behind a frame it could not parse, so it ends these
// connections on its 5 s close timer: the cases run concurrently.
describe('protocol errors', { concurrency: true }, () => {
  for (const [name, bytes] of protocolErrors) {
    test(`${name}: close 1002 and the server closes`, async () => {
      const c = await HostileSocket.connect(ctx.server);
      await c.write(bytes());
      await c.expectClose(1002);
      assert.equal(c.events('pusher:pong').length, 0, 'the bad frame was not handled as a message');
      await assertAlive(ctx.server, ctx.healthy, name);
    });
  }
});

// RFC 6455 §5.5.2-§5.5.3: pings are answered with a pong carrying the same payload.
for (const [name, payload] of [['an empty ping', Buffer.alloc(0)], ['a 125-byte binary ping', Buffer.from(Array.from({ length: 125 }, (_, i) => (i * 37) & 0xff))]]) {
  test(`${name} is answered with a pong carrying the same payload`, async () => {
    assert.ok(payload.length <= 125);
    const c = await HostileSocket.connect(ctx.server);
    await c.write(frame({ opcode: OP.PING, payload }));
    const pong = await waitFor(() => c.frames.find((f) => f.opcode === OP.PONG), { what: 'the pong' });
    assert.deepEqual(pong.payload, payload);
    assert.equal(pong.fin, true);
    assert.equal(pong.masked, false);
    await c.roundTrip();
    assert.equal(c.closedAt, null);
    await c.destroy();
    await assertAlive(ctx.server, ctx.healthy, name);
  });
}

test('the bare ping 0x89 0x80 + mask gets an empty pong', async () => {
  const c = await HostileSocket.connect(ctx.server);
  await c.write(Buffer.from([0x89, 0x80, 1, 2, 3, 4]));
  const pong = await waitFor(() => c.frames.find((f) => f.opcode === OP.PONG), { what: 'the pong' });
  assert.equal(pong.payload.length, 0);
  await c.destroy();
  await assertAlive(ctx.server, ctx.healthy, 'bare ping');
});

test('control frames between the fragments of a message are handled and the message is reassembled', async () => {
  const c = await HostileSocket.connect(ctx.server);
  const text = subscribeText('between-fragments');
  await c.write(Buffer.concat([
    frame({ opcode: OP.TEXT, fin: false, payload: text.slice(0, 5) }),
    frame({ opcode: OP.PING, payload: 'mid' }),
    frame({ opcode: OP.CONTINUATION, fin: false, payload: text.slice(5, 20) }),
    frame({ opcode: OP.PONG, payload: 'unsolicited' }),
    frame({ opcode: OP.CONTINUATION, fin: true, payload: text.slice(20) }),
  ]));
  const ok = await c.next((f) => f.channel === 'between-fragments');
  assert.equal(ok.event, 'pusher_internal:subscription_succeeded');
  assert.equal(c.frames.find((f) => f.opcode === OP.PONG).payload.toString(), 'mid');
  await c.destroy();
  await assertAlive(ctx.server, ctx.healthy, 'control between fragments');
});

// Over WEBSOCKET_MAX_PAYLOAD_KB: close 1009.
const tooBig = [
  ['one frame of max + 1 bytes, all sent', () => frame({ payload: Buffer.alloc(MAX_PAYLOAD + 1, 0x20) })],
  ['a frame announcing 2^40 bytes with 300 sent', () => frame({ payload: Buffer.alloc(300, 0x20), lengthOverride: 2n ** 40n })],
  ['a frame announcing max + 1 bytes with 300 sent', () => frame({ payload: Buffer.alloc(300, 0x20), lengthOverride: MAX_PAYLOAD + 1 })],
  ['a message of 11 fragments of 1 MiB (each under the limit)', () => Buffer.concat(Array.from({ length: 11 }, (_, i) =>
    frame({ opcode: i === 0 ? OP.TEXT : OP.CONTINUATION, fin: i === 10, payload: Buffer.alloc(1024 * 1024, 0x20) })))],
];
describe('messages over the size limit', { concurrency: true }, () => {
  for (const [name, bytes] of tooBig) {
    test(`${name}: close 1009`, async () => {
      const c = await HostileSocket.connect(ctx.server);
      c.write(bytes());  // not awaited: the server may stop reading once it has decided
      await c.expectClose(1009, { timeoutMs: 10000 });
      await assertAlive(ctx.server, ctx.healthy, name);
    });
  }
});

test('a message of exactly the maximum size is accepted', async () => {
  const c = await HostileSocket.connect(ctx.server);
  // {"event":"pusher:ping","data":"xxxx..."} padded to exactly MAX_PAYLOAD bytes.
  const prefix = '{"event":"pusher:ping","data":"';
  const text = prefix + 'x'.repeat(MAX_PAYLOAD - prefix.length - 2) + '"}';
  assert.equal(Buffer.byteLength(text), MAX_PAYLOAD);
  await c.write(frame({ payload: text }));
  await c.next((f) => f.event === 'pusher:pong', { timeoutMs: 10000 });
  assert.equal(c.closedAt, null);
  await c.destroy();
  await assertAlive(ctx.server, ctx.healthy, 'max-size message');
});

// RFC 6455 §8.1: a text message that is not UTF-8 fails the connection with 1007.
const badUtf8 = [
  ['0xff 0xfe', Buffer.from([0xff, 0xfe])],
  ['an overlong "/" (0xc0 0xaf)', Buffer.from([0xc0, 0xaf])],
  ['a UTF-16 surrogate (0xed 0xa0 0x80)', Buffer.from([0xed, 0xa0, 0x80])],
  ['a code point over U+10FFFF (0xf4 0x90 0x80 0x80)', Buffer.from([0xf4, 0x90, 0x80, 0x80])],
  ['a truncated sequence at the end', Buffer.concat([Buffer.from('{"event":"x"}'), Buffer.from([0xe2, 0x82])])],
  ['a lone continuation byte inside JSON', Buffer.from([0x7b, 0x22, 0x80, 0x22, 0x7d])],
];
for (const [name, bytes] of badUtf8) {
  test(`a text frame with ${name}: close 1007`, async () => {
    const c = await HostileSocket.connect(ctx.server);
    await c.write(frame({ opcode: OP.TEXT, payload: bytes }));
    await c.expectClose(1007);
    await assertAlive(ctx.server, ctx.healthy, `bad UTF-8 ${name}`);
  });
}

test('a fragmented text message that is not UTF-8 once reassembled: close 1007', async () => {
  const c = await HostileSocket.connect(ctx.server);
  await c.write(Buffer.concat([
    frame({ opcode: OP.TEXT, fin: false, payload: '{"event":"pusher:ping","data":"' }),
    frame({ opcode: OP.CONTINUATION, fin: false, payload: Buffer.from([0xe2, 0x82]) }),  // € without its last byte
    frame({ opcode: OP.CONTINUATION, fin: true, payload: '"}' }),
  ]));
  await c.expectClose(1007);
  await assertAlive(ctx.server, ctx.healthy, 'fragmented bad UTF-8');
});

test('a UTF-8 character split across fragments is valid', async () => {
  const c = await HostileSocket.connect(ctx.server);
  const euro = Buffer.from('\u20ac');  // e2 82 ac
  await c.write(Buffer.concat([
    frame({ opcode: OP.TEXT, fin: false, payload: Buffer.concat([Buffer.from('{"event":"pusher:ping","data":"'), euro.subarray(0, 1)]) }),
    frame({ opcode: OP.CONTINUATION, fin: false, payload: euro.subarray(1, 2) }),
    frame({ opcode: OP.CONTINUATION, fin: true, payload: Buffer.concat([euro.subarray(2), Buffer.from('"}')]) }),
  ]));
  await c.next((f) => f.event === 'pusher:pong');
  assert.equal(c.closedAt, null);
  await c.destroy();
  await assertAlive(ctx.server, ctx.healthy, 'split UTF-8');
});

for (const [name, bytes] of [['not JSON', Buffer.from('{"event": nope')], ['not UTF-8 either', Buffer.from([0xff, 0xfe, 0x00])]]) {
  test(`a binary frame that is ${name} gets pusher:error code null "Invalid JSON" and stays open`, async () => {
    const c = await HostileSocket.connect(ctx.server);
    await c.write(frame({ opcode: OP.BINARY, payload: bytes }));
    const err = await c.next((f) => f.event === 'pusher:error');
    assert.equal(err.data.code, null);
    assert.equal(err.data.message, 'Invalid JSON');
    await c.roundTrip();
    assert.equal(c.closedAt, null);
    assert.equal(c.frames.some((f) => f.opcode === OP.CLOSE), false);
    await c.destroy();
    await assertAlive(ctx.server, ctx.healthy, `binary ${name}`);
  });
}

// RFC 6455 §5.5.1, §7.1.5, §7.4: the server's answer to a client close frame.
const closeCases = [
  ['an empty payload', Buffer.alloc(0), 1000],
  ['a 1-byte payload', Buffer.from([0x03]), 1002],
  ...[999, 1004, 1005, 1006, 1015, 2999, 5000, 65535].map((code) => [`code ${code}`, closePayload(code), 1002]),
  ...[1000, 1001, 3000, 4321].map((code) => [`code ${code} with a UTF-8 reason`, closePayload(code, 'bye \u2713'), code]),
  ...[1000, 3000].map((code) => [`code ${code} with no reason`, closePayload(code), code]),
  ...[1000, 4321].map((code) => [`code ${code} with an invalid UTF-8 reason`, closePayload(code, Buffer.from([0x62, 0xff, 0xfe])), 1007]),
];
for (const [name, payload, expected] of closeCases) {
  test(`a client close with ${name} is answered with ${expected}`, async () => {
    const c = await HostileSocket.connect(ctx.server, { echoClose: false });
    await c.write(frame({ opcode: OP.CLOSE, payload }));
    await c.expectClose(expected);
    await assertAlive(ctx.server, ctx.healthy, `client close ${name}`);
  });
}

test('frames glued to the upgrade request in the same write are processed after connection_established', async () => {
  const sock = net.connect(ctx.server.port, '127.0.0.1');
  const c = new HostileSocket(sock);
  await new Promise((resolve) => sock.once('connect', resolve));
  sock.write(Buffer.concat([
    Buffer.from('GET /app/app-key?protocol=7 HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
                'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n'),
    frame({ payload: subscribeText('glued') }),
    frame({ payload: PING_EVENT }),
  ]));
  await c.next((f) => f.event === 'pusher:pong');
  const events = c.frames.filter((f) => f.json).map((f) => f.json.event);
  assert.deepEqual(events, ['pusher:connection_established', 'pusher_internal:subscription_succeeded', 'pusher:pong']);
  await c.destroy();
  await assertAlive(ctx.server, ctx.healthy, 'glued frames');
});

// Writes `bytes` one byte per write, `intervalMs` apart (pacing the attack, not waiting for it).
async function trickle(c, bytes, intervalMs = 2) {
  for (const b of bytes) {
    await c.write(Buffer.from([b]));
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

test('a frame trickled one byte at a time is reassembled', async () => {
  const c = await HostileSocket.connect(ctx.server);
  await trickle(c, frame({ payload: subscribeText('trickled') }));
  const ok = await c.next((f) => f.channel === 'trickled');
  assert.equal(ok.event, 'pusher_internal:subscription_succeeded');
  await assertAlive(ctx.server, ctx.healthy, 'trickled frame');
  await c.destroy();
});

test('a fragmented message with a ping in the middle, trickled one byte at a time, is reassembled', async () => {
  const c = await HostileSocket.connect(ctx.server);
  const text = subscribeText('trickled-fragments');
  await trickle(c, Buffer.concat([
    frame({ opcode: OP.TEXT, fin: false, payload: text.slice(0, 12) }),
    frame({ opcode: OP.PING, payload: 'tr' }),
    frame({ opcode: OP.CONTINUATION, fin: true, payload: text.slice(12) }),
  ]));
  const ok = await c.next((f) => f.channel === 'trickled-fragments');
  assert.equal(ok.event, 'pusher_internal:subscription_succeeded');
  assert.equal(c.frames.find((f) => f.opcode === OP.PONG).payload.toString(), 'tr');
  await c.destroy();
  await assertAlive(ctx.server, ctx.healthy, 'trickled fragments');
});

test('a 64 KiB frame (16-bit and 64-bit length forms) trickled in 7-byte pieces is reassembled', async () => {
  const c = await HostileSocket.connect(ctx.server);
  const prefix = '{"event":"pusher:ping","data":"';
  for (const size of [300, 70000]) {
    const bytes = frame({ payload: prefix + 'y'.repeat(size) + '"}' });
    const mark = c.frames.length;
    for (let i = 0; i < bytes.length; i += 7) await c.write(bytes.subarray(i, i + 7));
    await c.next((f) => f.event === 'pusher:pong', { from: mark, timeoutMs: 10000 });
  }
  await c.destroy();
  await assertAlive(ctx.server, ctx.healthy, '7-byte pieces');
});

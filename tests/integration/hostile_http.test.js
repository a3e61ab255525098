// Hostile HTTP on raw TCP connections: refused WebSocket upgrades, wrong methods and paths,
// oversized headers (431), malformed request lines, Content-Length / Transfer-Encoding abuse
// (400, 501), bodies over http_api.request_limit_in_mb (413), slowloris and silent sockets (408
// or a silent close after ~10 s) and request-smuggling shapes. Every refusal of a request that
// does not parse must carry `Connection: close` and the server must close the connection; after
// every case the node still answers /ready and delivers an HTTP-published event to a healthy
// subscriber.
'use strict';
const net = require('node:net');
const { describe, test } = require('node:test');
const assert = require('node:assert/strict');
const { waitFor } = require('../support/wait');
const { WS_KEY, rawHttp, assertAlive, useHostileServer } = require('../support/hostile');

const ctx = useHostileServer({ config: { http_api: { request_limit_in_mb: 1 } } }, 'http-healthy');

// Asserts that `result` (from rawHttp) is exactly one refusal with `status`, `Connection: close`,
// never a 101, and that the server closed the connection.
function assertRefused(result, status, what) {
  const detail = `${what}: got ${JSON.stringify(result.text.slice(0, 300))}`;
  assert.ok(result.responses.length >= 1, `no complete response; ${detail}`);
  const [r] = result.responses;
  assert.equal(r.status, status, detail);
  assert.equal((r.headers.connection || '').toLowerCase(), 'close', `Connection: close missing; ${detail}`);
  assert.doesNotMatch(result.text, /^HTTP\/1\.1 101/m, detail);
  assert.equal(result.responses.length, 1, `one response only; ${detail}`);
  assert.equal(result.closed, true, `the server did not close the connection; ${detail}`);
  return r;
}

const upgrade = (headers, path = '/app/app-key?protocol=7') =>
  `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n${headers}\r\n`;

// Each case: [name, request bytes (string, Buffer or chunks), expected status].
const refusals = [
  // WebSocket upgrades that must not be upgraded (RFC 6455 §4.2.1).
  ['an upgrade without Sec-WebSocket-Key', upgrade('Sec-WebSocket-Version: 13\r\n'), 400],
  ['an upgrade without Sec-WebSocket-Version', upgrade(`Sec-WebSocket-Key: ${WS_KEY}\r\n`), 400],
  ['an upgrade with Sec-WebSocket-Version 8', upgrade(`Sec-WebSocket-Key: ${WS_KEY}\r\nSec-WebSocket-Version: 8\r\n`), 400],
  ['an upgrade with key "abc"', upgrade('Sec-WebSocket-Key: abc\r\nSec-WebSocket-Version: 13\r\n'), 400],
  ['an upgrade with an empty key', upgrade('Sec-WebSocket-Key: \r\nSec-WebSocket-Version: 13\r\n'), 400],
  ['an upgrade with "*" in the key', upgrade('Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25j*Q==\r\nSec-WebSocket-Version: 13\r\n'), 400],
  ['an upgrade with a key of only "*"', upgrade('Sec-WebSocket-Key: ************************\r\nSec-WebSocket-Version: 13\r\n'), 400],
  ['an upgrade with the base64 of 15 bytes', upgrade(`Sec-WebSocket-Key: ${Buffer.alloc(15, 1).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n`), 400],
  ['an upgrade with the base64 of 17 bytes', upgrade(`Sec-WebSocket-Key: ${Buffer.alloc(17, 1).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n`), 400],
  // The WebSocket path without an upgrade, other methods on it, unknown paths. These requests
  // parse, so their answers are ordinary HTTP (keep-alive unless asked otherwise): they ask for
  // `Connection: close` here so that the server's close can be asserted like the others.
  ['GET /app/app-key without upgrade headers', 'GET /app/app-key HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 400],
  ...['POST', 'PUT', 'DELETE', 'PATCH'].map((m) => [`${m} /app/app-key`, `${m} /app/app-key HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`, 405]),
  ['GET of an unknown path', 'GET /nowhere/at/all HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 404],
  // Targets without a path. `GET ?a` once threw in the router and stopped the node
  // (found by tests/fuzz/http_api_fuzz).
  ['GET ?a (a target without a path)', 'GET ?a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 404],
  ['GET * (asterisk form)', 'GET * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 404],
  // Header blocks over 16 KiB.
  ['one 100 KB header', `GET /up HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(100 * 1024)}\r\n\r\n`, 431],
  ['10,000 small headers', `GET /up HTTP/1.1\r\nHost: x\r\n${Array.from({ length: 10000 }, (_, i) => `X-H${i}: v\r\n`).join('')}\r\n`, 431],
  ['a 100 KB header on a WebSocket upgrade', upgrade(`Sec-WebSocket-Key: ${WS_KEY}\r\nSec-WebSocket-Version: 13\r\nX-Big: ${'b'.repeat(100 * 1024)}\r\n`), 431],
  // Request lines and header lines that do not parse.
  ['"GARBAGE"', 'GARBAGE\r\n\r\n', 400],
  ['HTTP/9.9', 'GET / HTTP/9.9\r\nHost: x\r\n\r\n', 400],
  ['a request line without a version', 'GET /\r\nHost: x\r\n\r\n', 400],
  ['binary garbage', Buffer.from([0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00, 0x00, 0xa1, 0x03, 0x03, 0x0d, 0x0a, 0x0d, 0x0a]), 400],
  ['whitespace between a header name and its colon (RFC 9112 §5.1)', 'GET /up HTTP/1.1\r\nHost : x\r\n\r\n', 400],
  // Content-Length and Transfer-Encoding (RFC 9112 §6.1, §6.3).
  ['Content-Length: abc', 'POST /apps/app-id/events HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\nhello', 400],
  ['Content-Length: -1', 'POST /apps/app-id/events HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\nhello', 400],
  ['two equal Content-Length headers', 'POST /apps/app-id/events HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello', 400],
  ['two different Content-Length headers', 'POST /apps/app-id/events HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 0\r\n\r\nhello', 400],
  ['Content-Length: 5, 5', 'POST /apps/app-id/events HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 5\r\n\r\nhello', 400],
  ['Content-Length with Transfer-Encoding: chunked', 'POST /apps/app-id/events HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 400],
  ['Transfer-Encoding: chunked with Content-Length after it', 'POST /apps/app-id/events HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n', 400],
  ['Transfer-Encoding: gzip', 'POST /apps/app-id/events HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\nhello', 501],
  ['Transfer-Encoding: gzip, chunked', 'POST /apps/app-id/events HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n', 501],
  ['Transfer-Encoding: foo', 'POST /apps/app-id/events HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: foo\r\n\r\nhello', 501],
  ['a chunked body with chunk size "zz"', 'POST /nowhere HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n', 400],
  ['a chunked body with a chunk size that overflows 64 bits', 'POST /nowhere HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1ffffffffffffffff\r\nhello\r\n0\r\n\r\n', 400],
];

describe('refusals', { concurrency: 4 }, () => {
  for (const [name, request, status] of refusals) {
    test(`${name}: ${status} with Connection: close`, async () => {
      const result = await rawHttp(ctx.server.port, request);
      assertRefused(result, status, name);
      await assertAlive(ctx.server, ctx.healthy, name);
    });
  }
});

// http_api.request_limit_in_mb is 1 in this file.
const MB = 1024 * 1024;
const bodyOver = (n) => `{"name":"e","channel":"c","data":"${'x'.repeat(n)}"}`;
const bodies = [
  ['a 1.1 MiB body with Content-Length', () => {
    const body = bodyOver(1.1 * MB);
    return `POST /apps/app-id/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
  }],
  ['Content-Length of 100 MiB with 1 KB sent', () =>
    `POST /apps/app-id/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${100 * MB}\r\n\r\n${'x'.repeat(1024)}`],
  ['a chunked body of 1.1 MiB in 64 KiB chunks', () => {
    const chunk = 'x'.repeat(64 * 1024);
    const chunks = Array.from({ length: 18 }, () => `${chunk.length.toString(16)}\r\n${chunk}\r\n`).join('');
    return `POST /apps/app-id/events HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${chunks}0\r\n\r\n`;
  }],
];
for (const [name, request] of bodies) {
  test(`${name}: 413 with the JSON error`, async () => {
    const result = await rawHttp(ctx.server.port, request(), { timeoutMs: 10000 });
    const r = assertRefused(result, 413, name);
    assert.match(r.headers['content-type'], /^application\/json/);
    assert.deepEqual(JSON.parse(r.body), { error: 'The payload size is too big.', code: 413 });
    await assertAlive(ctx.server, ctx.healthy, name);
  });
}

// Smuggling: a message must end where its own framing says, and what follows is a request of its
// own (or the connection is refused), never part of the previous one.
test('a request glued after a chunked body ending in 0\\r\\n\\r\\n is its own request (or refused)', async () => {
  for (const body of ['0\r\n\r\n', '5\r\nhello\r\n0\r\n\r\n']) {
    const glued = `POST /nowhere HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${body}` +
                  'GET /up/app-id HTTP/1.1\r\nHost: x\r\n\r\n';
    const result = await rawHttp(ctx.server.port, glued, { wantResponses: 2 });
    const statuses = result.responses.map((r) => r.status);
    assert.ok(statuses.length >= 1, `no response: ${JSON.stringify(result.text)}`);
    assert.equal(statuses[0], 404, `the first request's own answer: ${JSON.stringify(result.text)}`);
    if (statuses.length === 1) {
      assert.equal(result.closed, true, `the glued request was neither answered nor refused: ${JSON.stringify(result.text)}`);
    } else {
      assert.deepEqual(statuses, [404, 200]);
      assert.equal(result.responses[1].body, 'OK');
    }
    await assertAlive(ctx.server, ctx.healthy, `glued after ${JSON.stringify(body)}`);
  }
});

test('a Content-Length body that looks like a request is not parsed as one', async () => {
  const inner = 'GET /apps/app-id/channels HTTP/1.1\r\nHost: x\r\n\r\n';
  const request = `POST /nowhere HTTP/1.1\r\nHost: x\r\nContent-Length: ${inner.length}\r\n\r\n${inner}` +
                  'GET /up HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n';
  const result = await rawHttp(ctx.server.port, request);
  assert.deepEqual(result.responses.map((r) => r.status), [404, 200], JSON.stringify(result.text));
  assert.equal(result.closed, true);
  await assertAlive(ctx.server, ctx.healthy, 'request in a body');
});

// Slowloris and silent sockets, all at once (each takes ~10 s). Meanwhile the node keeps serving:
// the healthy subscriber gets an event, again and again, until every slow socket is settled.
test('slow and silent connections get 408 or a silent close within ~10 s while others are served', async () => {
  const LIMIT_MS = 12000;  // ~10 s of the spec plus scheduling slack
  const slow = (name, firstBytes, trickle = null) => {
    const sock = net.connect(ctx.server.port, '127.0.0.1');
    const s = { name, text: '', closedAt: null, firstByteAt: null, timer: null };
    sock.on('error', () => {});
    sock.on('data', (d) => { s.text += d.toString('latin1'); });
    sock.on('close', () => { s.closedAt = Date.now(); clearInterval(s.timer); });
    sock.on('connect', () => {
      s.connectedAt = Date.now();
      if (firstBytes) { sock.write(firstBytes); s.firstByteAt = Date.now(); }
      if (trickle) {
        let n = 0;  // paced attack traffic, at most 80 lines over 20 s
        s.timer = setInterval(() => { if (n++ < 80 && !sock.destroyed) sock.write(trickle(n)); }, 250);
      }
    });
    s.sock = sock;
    return s;
  };
  const sockets = [
    slow('a partial request line, then nothing', 'GET /apps/app-id/chan'),
    slow('headers trickled forever', 'GET /up HTTP/1.1\r\nHost: x\r\n', (n) => `X-Slow-${n}: y\r\n`),
    slow('a request line trickled one byte every 250 ms', 'G', (n) => 'ET /up HTTP/1.1\r\n'[n - 1] || 'x'),
    slow('half a WebSocket upgrade', 'GET /app/app-key?protocol=7 HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n'),
    slow('a complete upgrade missing only the final CRLF',
      `GET /app/app-key?protocol=7 HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${WS_KEY}\r\nSec-WebSocket-Version: 13\r\n`),
    slow('nothing at all', null),
  ];
  try {
    let checks = 0;
    await waitFor(async () => {
      if (checks < 100) await assertAlive(ctx.server, ctx.healthy, `slowloris check ${++checks}`);
      return sockets.every((s) => s.closedAt !== null);
    }, { timeoutMs: LIMIT_MS + 3000, intervalMs: 200, what: 'every slow connection to be closed by the server' });
    assert.ok(checks >= 5, `the node was checked while the slow sockets were open (${checks} checks)`);
    for (const s of sockets) {
      const since = s.firstByteAt ?? s.connectedAt;
      assert.ok(s.closedAt - since <= LIMIT_MS, `${s.name}: closed ${s.closedAt - since} ms after its first byte`);
      if (s.firstByteAt === null) {
        assert.equal(s.text, '', `${s.name}: closed without an answer`);
      } else {
        assert.match(s.text, /^HTTP\/1\.1 408 /, `${s.name}: ${JSON.stringify(s.text)}`);
        assert.match(s.text, /\r\nConnection: close\r\n/i, s.name);
      }
    }
  } finally {
    for (const s of sockets) { clearInterval(s.timer); s.sock.destroy(); }
  }
  await assertAlive(ctx.server, ctx.healthy, 'slowloris');
});

test('many sockets that never finish the handshake do not stop new connections', async () => {
  const idle = await Promise.all(Array.from({ length: 200 }, () => new Promise((resolve) => {
    const sock = net.connect(ctx.server.port, '127.0.0.1', () => resolve(sock));
    sock.on('error', () => {});
  })));
  try {
    for (const [i, sock] of idle.entries()) if (i % 2) sock.write('GET /app/app-key HTTP/1.1\r\n');
    await assertAlive(ctx.server, ctx.healthy, '200 idle sockets');
    const ok = await rawHttp(ctx.server.port, 'GET /up HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    assert.equal(ok.responses[0].status, 200);
  } finally {
    for (const sock of idle) sock.destroy();
  }
});

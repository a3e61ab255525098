// Tools for the hostile-client tests (tests/integration/hostile_*.test.js): a WebSocket client on
// a plain TCP socket that does the upgrade by hand and sends any bytes at all (frames built by
// `frame`, including lying lengths), a parser for the frames the server sends, raw HTTP
// exchanges, the server's resident memory, and a healthy subscriber that proves the node still
// delivers events to everyone else after each attack.
'use strict';
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const net = require('node:net');
const { waitFor, httpRequest } = require('./wait');
const { RawClient, apiRequest, sign } = require('./raw_client');
const { startServer } = require('./server');

const OP = { CONTINUATION: 0x0, TEXT: 0x1, BINARY: 0x2, CLOSE: 0x8, PING: 0x9, PONG: 0xa };
const WS_KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const WS_PATH = '/app/app-key?protocol=7&client=hostile&version=1.0';

const toBuffer = (payload) => (Buffer.isBuffer(payload) ? payload : Buffer.from(payload, 'utf8'));

// One client frame. `lengthOverride` (a number or BigInt) is the length the header announces,
// whatever the payload really is: with it a frame can promise gigabytes and carry 300 bytes. The
// length field is the shortest encoding of the announced length (7, 16 or 64 bits). `rsv` is the
// three RSV bits as a number 0-7; `mask: false` sends the payload in the clear (a protocol error
// for a client).
function frame({ fin = true, rsv = 0, opcode = OP.TEXT, mask = true, payload = Buffer.alloc(0), lengthOverride,
                 maskKey = crypto.randomBytes(4) } = {}) {
  const body = toBuffer(payload);
  const length = lengthOverride === undefined ? BigInt(body.length) : BigInt(lengthOverride);
  const b0 = (fin ? 0x80 : 0) | ((rsv & 7) << 4) | (opcode & 0xf);
  const maskBit = mask ? 0x80 : 0;
  let header;
  if (length < 126n) {
    header = Buffer.from([b0, maskBit | Number(length)]);
  } else if (length < 65536n) {
    header = Buffer.from([b0, maskBit | 126, 0, 0]);
    header.writeUInt16BE(Number(length), 2);
  } else {
    header = Buffer.alloc(10);
    header[0] = b0;
    header[1] = maskBit | 127;
    header.writeBigUInt64BE(length, 2);
  }
  if (!mask) return Buffer.concat([header, body]);
  const masked = Buffer.allocUnsafe(body.length);
  for (let i = 0; i < body.length; i++) masked[i] = body[i] ^ maskKey[i & 3];
  return Buffer.concat([header, maskKey, masked]);
}

// A close frame's payload: a 16-bit code and a reason (string or raw bytes).
function closePayload(code, reason = '') {
  const r = toBuffer(reason);
  const out = Buffer.alloc(2 + r.length);
  out.writeUInt16BE(code, 0);
  r.copy(out, 2);
  return out;
}

// Splits `buf` into whole frames and the unparsed rest. Server frames are not masked; a masked one
// is unmasked and reported (`masked: true`) so that a test can fail on it.
function parseFrames(buf) {
  const frames = [];
  let off = 0;
  for (;;) {
    if (buf.length - off < 2) break;
    const b0 = buf[off];
    const b1 = buf[off + 1];
    let len = b1 & 0x7f;
    let header = 2;
    if (len === 126) {
      if (buf.length - off < 4) break;
      len = buf.readUInt16BE(off + 2);
      header = 4;
    } else if (len === 127) {
      if (buf.length - off < 10) break;
      len = Number(buf.readBigUInt64BE(off + 2));
      header = 10;
    }
    const masked = (b1 & 0x80) !== 0;
    const maskKey = masked ? buf.subarray(off + header, off + header + 4) : null;
    if (masked) header += 4;
    if (buf.length - off < header + len) break;
    const payload = Buffer.from(buf.subarray(off + header, off + header + len));
    if (masked) for (let i = 0; i < payload.length; i++) payload[i] ^= maskKey[i & 3];
    const f = { fin: (b0 & 0x80) !== 0, rsv: (b0 >> 4) & 7, opcode: b0 & 0xf, masked, payload };
    if (f.opcode === OP.CLOSE) {
      f.code = payload.length >= 2 ? payload.readUInt16BE(0) : null;
      f.reason = payload.subarray(2).toString('utf8');
    } else if (f.opcode === OP.TEXT || f.opcode === OP.BINARY) {
      f.text = payload.toString('utf8');
      try { f.json = JSON.parse(f.text); } catch (_) { f.json = undefined; }
    }
    frames.push(f);
    off += header + len;
  }
  return { frames, rest: buf.subarray(off) };
}

// A WebSocket client on a raw TCP socket. `connect` sends the upgrade request by hand and waits
// for the 101 and pusher:connection_established; from then on `write` sends any bytes. Every
// frame the server sends is parsed into `frames` (pongs only counted once `countOnlyPongs` is
// set, for floods). A close frame from the server is answered with the same code, as a client
// completing the close handshake would, unless `echoClose` is false.
class HostileSocket {
  constructor(sock, { echoClose = true } = {}) {
    this.sock = sock;
    this.echoClose = echoClose;
    this.head = null;          // the HTTP response head (string) once it arrived
    this.status = null;        // its status code
    this.frames = [];
    this.pongCount = 0;
    this.countOnlyPongs = false;
    this.closeSent = false;
    this.pending = Buffer.alloc(0);  // bytes of an incomplete response head or frame
    this.closedAt = null;            // when the TCP connection closed (either side)
    this.closed = new Promise((resolve) => sock.on('close', () => { this.closedAt = Date.now(); resolve(); }));
    sock.on('error', () => {});      // resets after a close are expected; `closed` still resolves
    sock.on('data', (d) => this.onData(d));
  }

  static async connect(server, { path = WS_PATH, headers = '', echoClose = true, timeoutMs = 5000 } = {}) {
    const sock = net.connect(server.port, '127.0.0.1');
    sock.setNoDelay(true);
    const c = new HostileSocket(sock, { echoClose });
    await new Promise((resolve, reject) => { sock.once('connect', resolve); sock.once('error', reject); });
    sock.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
               `Sec-WebSocket-Key: ${WS_KEY}\r\nSec-WebSocket-Version: 13\r\n${headers}\r\n`);
    await waitFor(() => c.head !== null || c.closedAt !== null, { timeoutMs, what: 'the upgrade response' });
    assert.equal(c.status, 101, `upgrade refused: ${c.head}`);
    const first = await c.next((f) => f.event === 'pusher:connection_established' || f.event === 'pusher:error', { timeoutMs });
    assert.equal(first.event, 'pusher:connection_established', JSON.stringify(first));
    c.socketId = JSON.parse(first.data).socket_id;
    return c;
  }

  onData(d) {
    let buf = this.pending.length ? Buffer.concat([this.pending, d]) : d;
    if (this.head === null) {
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) { this.pending = Buffer.from(buf); return; }
      this.head = buf.subarray(0, end).toString('latin1');
      this.status = Number((/^HTTP\/1\.\d (\d{3})/.exec(this.head) || [])[1]);
      buf = buf.subarray(end + 4);
    }
    if (this.status !== 101) { this.pending = Buffer.from(buf); return; }  // a refusal's body: not frames
    const { frames, rest } = parseFrames(buf);
    this.pending = Buffer.from(rest);
    for (const f of frames) {
      if (f.opcode === OP.PONG) {
        this.pongCount++;
        if (this.countOnlyPongs) continue;
      }
      this.frames.push(f);
      if (f.opcode === OP.CLOSE && this.echoClose && !this.closeSent) {
        this.closeSent = true;
        this.sock.write(frame({ opcode: OP.CLOSE, payload: f.code === null ? Buffer.alloc(0) : closePayload(f.code) }), () => {});
      }
    }
  }

  // Writes bytes; resolves once they are handed to the kernel (or the socket failed).
  write(bytes) {
    return new Promise((resolve) => {
      if (this.sock.destroyed) return resolve(false);
      this.sock.write(bytes, (err) => resolve(!err));
    });
  }

  sendText(text) { return this.write(frame({ opcode: OP.TEXT, payload: text })); }
  sendJson(obj) { return this.sendText(JSON.stringify(obj)); }

  // The parsed JSON of the first text frame (from index `from`) matching `predicate`.
  async next(predicate, { timeoutMs = 5000, from = 0 } = {}) {
    const f = await waitFor(() => this.frames.slice(from).find((x) => x.json !== undefined && predicate(x.json)),
      { timeoutMs, what: `a frame matching ${predicate}` });
    return f.json;
  }

  events(name) { return this.frames.filter((f) => f.json && f.json.event === name).map((f) => f.json); }

  // A pusher:ping / pusher:pong round trip: everything the server did with earlier frames of
  // this socket is visible once it returns.
  async roundTrip(timeoutMs = 5000) {
    const mark = this.frames.length;
    await this.sendJson({ event: 'pusher:ping', data: {} });
    await this.next((f) => f.event === 'pusher:pong', { from: mark, timeoutMs });
  }

  // Waits for the server's close frame, asserts its code, then waits for the server to close the
  // TCP connection. Returns the close frame.
  async expectClose(code, { timeoutMs = 5000, closeTimeoutMs = 7000 } = {}) {
    const closeFrame = () => this.frames.find((x) => x.opcode === OP.CLOSE);
    await waitFor(() => closeFrame() || this.closedAt !== null, { timeoutMs, what: `a close frame ${code}` });
    const f = closeFrame();
    assert.ok(f, `the server closed the connection without a close frame (expected ${code})`);
    assert.equal(f.code, code, `close code ${f.code} (reason ${JSON.stringify(f.reason)}), expected ${code}`);
    assert.equal(f.masked, false, 'server frames are not masked');
    await waitFor(() => this.closedAt !== null, { timeoutMs: closeTimeoutMs, what: 'the server to close the connection' });
    return f;
  }

  pause() { this.sock.pause(); }
  resume() { this.sock.resume(); }
  destroy() { this.sock.destroy(); return this.closed; }
}

// Sends `data` (a string or Buffer, or an array of chunks written one by one) on a fresh TCP
// connection and reads until the server closes it or `timeoutMs` passes. Returns the raw text,
// the responses split by Content-Length, whether the server closed, and when the first response
// byte / the close came (ms after connecting).
function rawHttp(port, data, { timeoutMs = 5000, wantResponses = Infinity } = {}) {
  return new Promise((resolve) => {
    const started = Date.now();
    const sock = net.connect(port, '127.0.0.1');
    let raw = Buffer.alloc(0);
    let firstByteMs = null;
    let done = false;
    const finish = (closed) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      const text = raw.toString('latin1');
      resolve({ text, responses: splitResponses(text), closed, firstByteMs, elapsedMs: Date.now() - started });
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    sock.on('data', (d) => {
      if (firstByteMs === null) firstByteMs = Date.now() - started;
      raw = Buffer.concat([raw, d]);
      if (splitResponses(raw.toString('latin1')).length >= wantResponses) finish(false);
    });
    sock.on('close', () => finish(true));
    sock.on('error', () => {});  // a reset after the response: the close above still resolves
    sock.on('connect', () => {
      for (const chunk of Array.isArray(data) ? data : [data]) sock.write(chunk, () => {});
    });
  });
}

// HTTP/1.x responses in `text`, each { status, headers (lower-case names), body, raw }.
function splitResponses(text) {
  const out = [];
  let rest = text;
  for (;;) {
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) break;
    const head = rest.slice(0, end);
    const lines = head.split('\r\n');
    const m = /^HTTP\/1\.\d (\d{3})/.exec(lines[0]);
    if (!m) break;
    const headers = {};
    for (const line of lines.slice(1)) {
      const i = line.indexOf(':');
      if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
    }
    const length = Number(headers['content-length'] || 0);
    if (rest.length < end + 4 + length) break;
    out.push({ status: Number(m[1]), headers, body: rest.slice(end + 4, end + 4 + length), raw: rest.slice(0, end + 4 + length) });
    rest = rest.slice(end + 4 + length);
  }
  return out;
}

// Resident memory of a process in KiB.
function rssKb(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m[1]);
}

// Samples the RSS of `pid` every `intervalMs` until stop(); `peakKb()` is the highest so far.
function watchRss(pid, intervalMs = 20) {
  let peak = rssKb(pid);
  const timer = setInterval(() => { try { peak = Math.max(peak, rssKb(pid)); } catch (_) { /* exited */ } }, intervalMs);
  timer.unref();
  return {
    peakKb() { try { peak = Math.max(peak, rssKb(pid)); } catch (_) { /* exited */ } return peak; },
    stop() { clearInterval(timer); return this.peakKb(); },
  };
}

// Memory assertions hold for the release build only: under AddressSanitizer freed memory sits in
// a quarantine and every allocation carries redzones, so resident memory neither stays small nor
// comes back. ctest sets SOCKUDO_SANITIZER in the sanitizer build trees.
const RSS_CHECKS = !process.env.SOCKUDO_SANITIZER;

// Asserts that RSS grew by less than `limitKb` (release builds only, see RSS_CHECKS).
function assertRssGrowth(growthKb, limitKb, message) {
  if (RSS_CHECKS) assert.ok(growthKb < limitKb, `${message}: RSS grew ${growthKb} KB (limit ${limitKb} KB)`);
}

// Waits (up to `timeoutMs`) for the server's RSS to come back to `baselineKb + toleranceKb`
// (release builds only, see RSS_CHECKS).
async function expectRssBack(server, baselineKb, { toleranceKb = 8 * 1024, timeoutMs = 10000, what = 'the case' } = {}) {
  if (!RSS_CHECKS) return rssKb(server.child.pid);
  let last;
  try {
    await waitFor(() => (last = rssKb(server.child.pid)) <= baselineKb + toleranceKb,
      { timeoutMs, intervalMs: 50, what: 'RSS to return near its baseline' });
  } catch (_) {
    assert.fail(`RSS after ${what} stays at ${last} KB, baseline ${baselineKb} KB (+${last - baselineKb} KB, tolerance ${toleranceKb} KB)`);
  }
  return last;
}

// Bytes the server has not read yet on its sockets to the given client ports (its receive
// queues, from /proc/net/tcp): 0 means it has consumed everything those clients sent.
function serverUnreadBytes(serverPort, clientPorts) {
  const wanted = new Set(clientPorts);
  let total = 0;
  for (const line of fs.readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const cols = line.trim().split(/\s+/);
    if (cols.length < 5) continue;
    const local = parseInt(cols[1].split(':')[1], 16);
    const remote = parseInt(cols[2].split(':')[1], 16);
    if (local === serverPort && wanted.has(remote)) total += parseInt(cols[4].split(':')[1], 16);
  }
  return total;
}

// Metrics text of the node.
async function metricsText(server) {
  return (await httpRequest({ port: server.metricsPort, path: '/metrics' })).text;
}

async function publish(server, channel, name, data) {
  const r = await apiRequest(server, { method: 'POST', path: '/apps/app-id/events', body: { name, channel, data } });
  assert.equal(r.status, 200, `publish to ${channel}: ${r.status} ${r.text}`);
  return r;
}

// A subscriber on its own connection that must keep receiving what the HTTP API publishes,
// whatever other clients do to the node.
async function healthySubscriber(server, channel = 'healthy') {
  const client = await RawClient.connect(server);
  assert.ok(client.socketId, 'the healthy subscriber connects');
  const ok = await client.subscribe(channel);
  assert.equal(ok.event, 'pusher_internal:subscription_succeeded');
  let n = 0;
  return {
    client,
    // Publishes one event through the HTTP API and waits for it to arrive.
    async assertReceives(label = 'check', timeoutMs = 5000) {
      const data = `${label} #${++n}`;
      await publish(server, channel, 'healthy-check', data);
      await client.next((f) => f.event === 'healthy-check' && f.data === data, { timeoutMs });
      assert.equal(client.closed, null, 'the healthy subscriber is still connected');
    },
    close: () => client.close(),
  };
}

// The node is alive: still running, /ready answers 200, and the healthy subscriber gets an event.
async function assertAlive(server, healthy, label) {
  assert.equal(server.exited(), null, `sockudo-node exited after ${label}:\n${server.output()}`);
  const ready = await httpRequest({ port: server.metricsPort, path: '/ready' });
  assert.equal(ready.status, 200, `/ready after ${label}`);
  if (healthy) await healthy.assertReceives(label);
}

// Registers before/after hooks of node:test that start a server for the file with a healthy
// subscriber on `channel`, and close both at the end (stop() fails on a crash or sanitizer report).
// Returns a handle whose `server` and `healthy` fields are set once the hook has run; `setup`
// (async, optional) runs in the same hook, after them. (Two top-level before hooks of one file
// are not ordered reliably, so there is one.)
function useHostileServer(options = {}, channel = 'healthy', setup = null) {
  const { before, after } = require('node:test');
  const handle = { server: null, healthy: null };
  before(async () => {
    handle.server = await startServer(options);
    handle.healthy = await healthySubscriber(handle.server, channel);
    if (setup) await setup(handle.server, handle.healthy);
  });
  after(async () => {
    if (handle.healthy) await handle.healthy.close();
    if (handle.server) await handle.server.stop();
  });
  return handle;
}

// Starts a server of its own with a healthy subscriber for one test, runs `body(server, healthy)`
// and always stops the server (so a crash is reported even when the body failed first).
async function withServer(options, channel, body) {
  const server = await startServer(options);
  let healthy = null;
  try {
    healthy = await healthySubscriber(server, channel);
    return await body(server, healthy);
  } finally {
    if (healthy) await healthy.close().catch(() => {});
    await server.stop();
  }
}

// Presence auth with `channelData` as raw text (so that numbers JSON.stringify would mangle stay
// as written): HMAC-SHA256 of socket_id:channel:channel_data.
function presenceAuth(socketId, channel, channelData, key = 'app-key', secret = 'app-secret') {
  return { auth: `${key}:${sign(secret, `${socketId}:${channel}:${channelData}`)}`, channel_data: channelData };
}

function privateAuth(socketId, channel, key = 'app-key', secret = 'app-secret') {
  return `${key}:${sign(secret, `${socketId}:${channel}`)}`;
}

module.exports = { assertRssGrowth, RSS_CHECKS,
  OP, WS_KEY, WS_PATH, frame, closePayload, parseFrames, HostileSocket, rawHttp, splitResponses,
  rssKb, watchRss, expectRssBack, serverUnreadBytes, metricsText, publish, healthySubscriber, assertAlive,
  presenceAuth, privateAuth, useHostileServer, withServer,
};

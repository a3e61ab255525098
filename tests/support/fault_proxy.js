// A TCP fault proxy for the chaos tests: listens on a free loopback port in front of one upstream
// (a broker) and forwards bytes both ways until told to misbehave. Each direction
// ('up' = client to upstream, 'down' = upstream to client) has its own state:
//
//   pause(dir)     hold: bytes are read and kept in order, nothing is forwarded, sockets stay
//                  open (a partition that TCP would ride out by retransmitting)
//   resume(dir)    forward what was held, in order, and everything after it
//   blackhole(dir) swallow: bytes are read and thrown away, no RST; new connections are accepted
//                  but never reach the upstream (a partition that drops packets)
//   heal()         every direction flows again; a connection that lost bytes to the blackhole
//                  is a broken byte stream that no real network produces, so heal() resets it
//                  (RST) and the client dials again, as it would after TCP gave up
//   delay(ms, dir) added latency per chunk, order preserved (0 removes it)
//   reset()        RST every current connection (socket.resetAndDestroy())
//   setUpstream(p) new connections go to port p
//   close()        ends every connection and the listener
//
// `dir` is 'up', 'down' or omitted (both). `rewriteDown` (optional) maps the upstream's bytes
// before they reach the client: a function (text, flush) => { out, keep } used by the Redis Cluster
// fixture to replace the cluster nodes' ports with proxy ports (portRewriter below).
'use strict';
const net = require('node:net');

const DIRS = (dir) => (dir === undefined || dir === 'both' ? ['up', 'down'] : [dir]);

// One direction of one connection: an ordered queue of chunks, each released at its time.
class Pipe {
  constructor(proxy, dir, src, dst, conn) {
    Object.assign(this, { proxy, dir, src, dst, conn, queue: [], timer: null, lost: false, pendingText: '' });
    src.on('data', (chunk) => this.onData(chunk));
  }

  state() { return this.proxy.dirs[this.dir]; }

  onData(chunk) {
    const st = this.state();
    if (st.mode === 'drop' || this.conn.blackholed) {
      this.lost = true;
      this.proxy.stats.dropped += chunk.length;
      return;
    }
    if (this.dir === 'down' && this.proxy.rewriteDown) chunk = this.rewrite(chunk, false);
    if (chunk.length === 0) return;
    this.queue.push({ chunk, at: Date.now() + st.delayMs });
    this.pump();
  }

  rewrite(chunk, flush) {
    const { out, keep } = this.proxy.rewriteDown(this.pendingText + chunk.toString('latin1'), flush);
    this.pendingText = keep;
    if (keep && !this.flushTimer) {
      // A possible pattern cut at the end of a chunk waits for the next one, but not for long.
      this.flushTimer = setTimeout(() => {
        this.flushTimer = null;
        if (!this.pendingText) return;
        const rest = this.rewrite(Buffer.alloc(0), true);
        if (rest.length) { this.queue.push({ chunk: rest, at: Date.now() + this.state().delayMs }); this.pump(); }
      }, 5);
    }
    return Buffer.from(out, 'latin1');
  }

  pump() {
    if (this.timer) return;
    const st = this.state();
    if (st.mode !== 'flow' || this.dst.destroyed) return;
    const now = Date.now();
    while (this.queue.length && this.queue[0].at <= now) {
      const { chunk } = this.queue.shift();
      this.proxy.stats.forwarded += chunk.length;
      if (!this.dst.write(chunk) && !this.src.isPaused()) {
        this.src.pause();
        this.dst.once('drain', () => this.src.resume());
      }
    }
    if (this.queue.length) {
      this.timer = setTimeout(() => { this.timer = null; this.pump(); }, Math.max(1, this.queue[0].at - Date.now()));
    }
  }

  clear() {
    if (this.timer) clearTimeout(this.timer);
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.timer = null;
    this.flushTimer = null;
  }
}

async function startFaultProxy({ upstreamPort, upstreamHost = '127.0.0.1', rewriteDown = null, name = 'proxy' } = {}) {
  const proxy = {
    name,
    upstreamPort, upstreamHost, rewriteDown,
    dirs: { up: { mode: 'flow', delayMs: 0 }, down: { mode: 'flow', delayMs: 0 } },
    conns: new Set(),
    stats: { accepted: 0, forwarded: 0, dropped: 0, resets: 0 },
  };

  const pumpAll = () => { for (const c of proxy.conns) for (const p of c.pipes) p.pump(); };

  const server = net.createServer((client) => {
    proxy.stats.accepted++;
    client.on('error', () => {});
    const blackholed = proxy.dirs.up.mode === 'drop' || proxy.dirs.down.mode === 'drop';
    const conn = { client, upstream: null, pipes: [], blackholed };
    proxy.conns.add(conn);
    const finish = () => {
      if (!proxy.conns.has(conn)) return;
      proxy.conns.delete(conn);
      for (const p of conn.pipes) p.clear();
      client.destroy();
      if (conn.upstream) conn.upstream.destroy();
    };
    client.on('close', finish);
    if (blackholed) {
      // Accepted, never forwarded: everything the client sends is lost.
      client.on('data', (d) => { proxy.stats.dropped += d.length; });
      conn.lost = true;
      return;
    }
    const upstream = net.connect({ host: proxy.upstreamHost, port: proxy.upstreamPort });
    conn.upstream = upstream;
    upstream.on('error', () => {});
    upstream.on('close', finish);
    conn.pipes.push(new Pipe(proxy, 'up', client, upstream, conn), new Pipe(proxy, 'down', upstream, client, conn));
    // Bytes the client sends before the upstream connect completes wait in the up pipe.
    upstream.once('connect', () => { for (const p of conn.pipes) p.pump(); });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.port = server.address().port;
  proxy.host = '127.0.0.1';

  const setMode = (mode, dir) => { for (const d of DIRS(dir)) proxy.dirs[d].mode = mode; };
  const rst = (s) => { if (s && !s.destroyed) { try { s.resetAndDestroy(); } catch (_) { s.destroy(); } } };

  Object.assign(proxy, {
    pause(dir) { setMode('hold', dir); },
    resume(dir) { setMode('flow', dir); pumpAll(); },
    blackhole(dir) { setMode('drop', dir); },
    heal() {
      setMode('flow');
      for (const d of DIRS()) proxy.dirs[d].delayMs = 0;
      for (const c of [...proxy.conns]) {
        if (c.lost || c.pipes.some((p) => p.lost)) {
          proxy.stats.resets++;
          rst(c.client);
          rst(c.upstream);
        }
      }
      pumpAll();
    },
    delay(ms, dir) { for (const d of DIRS(dir)) proxy.dirs[d].delayMs = ms; },
    reset() {
      for (const c of [...proxy.conns]) { proxy.stats.resets++; rst(c.client); rst(c.upstream); }
    },
    setUpstream(port, host = proxy.upstreamHost) { proxy.upstreamPort = port; proxy.upstreamHost = host; },
    connections: () => proxy.conns.size,
    close() {
      for (const c of [...proxy.conns]) {
        for (const p of c.pipes) p.clear();
        c.client.destroy();
        if (c.upstream) c.upstream.destroy();
      }
      proxy.conns.clear();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  });
  return proxy;
}

// Several proxies driven as one (a node's links to every node of a Redis Cluster).
function proxyGroup(proxies) {
  const all = (fn) => (...args) => { for (const p of proxies) p[fn](...args); };
  return {
    proxies,
    pause: all('pause'), resume: all('resume'), blackhole: all('blackhole'), heal: all('heal'),
    delay: all('delay'), reset: all('reset'),
    connections: () => proxies.reduce((n, p) => n + p.connections(), 0),
    stats: () => proxies.map((p) => p.stats),
    close: () => Promise.all(proxies.map((p) => p.close())),
  };
}

// For Redis Cluster behind proxies: the cluster tells its clients where its nodes are (CLUSTER
// SHARDS / CLUSTER SLOTS integers `:port\r\n`, -MOVED/-ASK `host:port`); this replaces each real
// port by the proxy port that client must use. `map` is { realPort: proxyPort }. A text that ends
// in what could be the start of a pattern keeps that tail for the next chunk (or the flush).
function portRewriter(map) {
  const entries = Object.entries(map).map(([real, prox]) => [String(real), String(prox)]);
  const patterns = [];
  for (const [real, prox] of entries) {
    patterns.push([`:${real}\r\n`, `:${prox}\r\n`]);
    patterns.push([`127.0.0.1:${real}`, `127.0.0.1:${prox}`]);
  }
  const maxLen = Math.max(...patterns.map(([p]) => p.length));
  return (text, flush) => {
    let out = text;
    for (const [from, to] of patterns) if (out.includes(from)) out = out.split(from).join(to);
    if (flush) return { out, keep: '' };
    // Keep the longest tail that is a proper prefix of a pattern.
    for (let n = Math.min(maxLen - 1, out.length); n > 0; n--) {
      const tail = out.slice(out.length - n);
      if (patterns.some(([p]) => p.startsWith(tail))) return { out: out.slice(0, out.length - n), keep: tail };
    }
    return { out, keep: '' };
  };
}

module.exports = { startFaultProxy, proxyGroup, portRewriter };

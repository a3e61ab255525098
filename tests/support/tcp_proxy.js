// A round-robin TCP proxy on a free loopback port, standing in for a Kubernetes Service in front
// of several nodes: each new connection goes to the next backend that accepts it (a refused
// connect, e.g. a draining node that closed its listener, moves on to the next one). Backends can
// be replaced while it runs. close() ends every piped connection and the listener.
'use strict';
const net = require('node:net');

async function startTcpProxy(backends) {
  const state = { backends: [...backends], next: 0, sockets: new Set() };
  const track = (s) => { state.sockets.add(s); s.on('close', () => state.sockets.delete(s)); };

  const connectBackend = (attempt = 0) => new Promise((resolve, reject) => {
    if (state.backends.length === 0 || attempt >= state.backends.length) {
      reject(new Error('no backend accepts connections'));
      return;
    }
    const port = state.backends[state.next++ % state.backends.length];
    const upstream = net.connect({ host: '127.0.0.1', port });
    upstream.once('connect', () => { upstream.removeAllListeners('error'); resolve(upstream); });
    upstream.once('error', () => { upstream.destroy(); connectBackend(attempt + 1).then(resolve, reject); });
  });

  const server = net.createServer((client) => {
    track(client);
    client.pause();
    client.on('error', () => {});
    connectBackend().then((upstream) => {
      track(upstream);
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
    }, () => client.destroy());
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: server.address().port,
    host: '127.0.0.1',
    setBackends(ports) { state.backends = [...ports]; },
    backends: () => [...state.backends],
    close() {
      for (const s of state.sockets) s.destroy();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

module.exports = { startTcpProxy };

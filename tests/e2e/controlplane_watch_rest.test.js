// WatchCluster over REST: GET /v1/cluster:watch on a standalone control plane in front of two real
// nodes on redis streams server-sent events, one `data:` line per event in the JSON mapping: the
// same snapshot as the gRPC stream, then a node joining and a node killed with -9. A wrong token
// gets the JSON 401 and no stream; a client that leaves ends its watch.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const { startCluster, killNode } = require('../support/cluster');
const { startControlPlane, apiClient, protoJson } = require('../support/controlplane');
const { waitFor } = require('../support/wait');

const TOKEN = 'watch-token';
let cluster;
let cp;

before(async () => {
  cluster = await startCluster({ driver: 'redis', nodes: 2, env: { APP_MANAGER_DRIVER: 'redis' } });
  cp = await startControlPlane({ token: TOKEN, env: { ...cluster.env } });
  await waitFor(async () => (await cp.rest('GET', '/v1/cluster/health')).json.aliveNodes === 2,
    { what: 'the control plane to see both nodes' });
});
after(async () => {
  if (cp) await cp.stop();
  if (cluster) await cluster.stop();
});

// Opens the stream; `events` fills as they come. Resolves once the headers are in.
function watch(auth = `Bearer ${TOKEN}`) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port: cp.restPort, path: '/v1/cluster:watch', agent: false,
      headers: { authorization: auth, accept: 'text/event-stream' } }, (res) => {
      const stream = { res, req, events: [], raw: '', body: '', status: res.statusCode, headers: res.headers };
      stream.ended = new Promise((done) => res.on('end', done));
      res.setEncoding('utf8');
      res.on('data', (chunk) => {
        stream.body += chunk;
        stream.raw += chunk;
        let end;
        while ((end = stream.raw.indexOf('\n\n')) >= 0) {
          const block = stream.raw.slice(0, end);
          stream.raw = stream.raw.slice(end + 2);
          const data = block.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
          if (data) stream.events.push(JSON.parse(data));
        }
      });
      res.on('error', () => {});
      resolve(stream);
    });
    req.on('error', reject);
  });
}

test('the REST stream starts with the same snapshot as gRPC WatchCluster', async () => {
  const sse = await watch();
  assert.equal(sse.status, 200);
  assert.match(sse.headers['content-type'], /^text\/event-stream/);
  const grpc = apiClient(cp.grpcPort, 'Cluster');
  const call = grpc.WatchCluster({}, TOKEN);
  const viaGrpc = [];
  call.on('data', (e) => viaGrpc.push(protoJson(e)));
  call.on('error', () => {});
  try {
    await waitFor(() => sse.events.length >= 2 && viaGrpc.length >= 2, { what: 'both snapshots' });
    const snapshot = (events) => events.filter((e) => e.type === 'SNAPSHOT')
      .map((e) => ({ id: e.node.id, address: e.node.address, state: e.node.state, version: e.node.version }))
      .sort((a, b) => a.id.localeCompare(b.id));
    assert.equal(snapshot(sse.events).length, 2);
    assert.deepEqual(snapshot(sse.events), snapshot(viaGrpc));
    const ports = snapshot(sse.events).map((n) => Number(n.address.split(':')[1])).sort();
    assert.deepEqual(ports, cluster.nodes.map((n) => n.port).sort());
  } finally {
    call.cancel();
    grpc.close();
    sse.req.destroy();
  }
});

test('a node joining and a node killed with -9 arrive on the REST stream', async () => {
  const sse = await watch();
  try {
    await waitFor(() => sse.events.filter((e) => e.type === 'SNAPSHOT').length === 2, { what: 'the snapshot' });
    const third = await cluster.addNode();
    const joined = await waitFor(() => sse.events.find((e) => e.type === 'NODE_JOINED' &&
      e.node.address === `127.0.0.1:${third.port}`), { what: 'NODE_JOINED of the third node' });
    await killNode(third);
    await waitFor(() => sse.events.some((e) => e.type === 'NODE_DEAD' && e.node.id === joined.node.id),
      { timeoutMs: 10000, what: 'NODE_DEAD of the killed node' });
  } finally {
    sse.req.destroy();
  }
});

test('a wrong token gets the JSON 401 and no stream; a client that leaves ends its watch', async () => {
  const refused = await watch('Bearer nope');
  assert.equal(refused.status, 401);
  assert.match(refused.headers['content-type'], /application\/json/);
  await refused.ended;
  assert.equal(JSON.parse(refused.body).error.status, 'UNAUTHENTICATED');

  // Streams opened and dropped leave the control plane serving (each leave unwatches).
  for (let i = 0; i < 5; i++) {
    const s = await watch();
    await waitFor(() => s.events.length >= 1, { what: 'a first event' });
    s.req.destroy();
  }
  assert.equal((await cp.rest('GET', '/v1/cluster/health')).status, 200);
});

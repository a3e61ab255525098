// The control plane while its bus is down: a standalone sockudo-controlplane and two sockudo-node
// processes on one real redis-server (bus and app store). With that redis-server stopped, every
// app write is refused before it touches the store (the write gate: the nodes would miss the
// change): UNAVAILABLE over gRPC, 503 with a JSON error over REST. Once redis is back on the same
// port, writes succeed again and the nodes serve what was written.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startCluster } = require('../support/cluster');
const { startControlPlane, appsClient, GRPC, grpcError } = require('../support/controlplane');
const { RawClient } = require('../support/raw_client');
const { waitFor } = require('../support/wait');

const TOKEN = 'outage-token';
let cluster;
let cp;
let grpc;

before(async () => {
  cluster = await startCluster({ driver: 'redis', nodes: 2, env: { APP_MANAGER_DRIVER: 'redis' } });
  cp = await startControlPlane({ token: TOKEN, env: { ...cluster.env } });
  grpc = appsClient(cp.grpcPort);
  await waitFor(async () => (await cp.rest('GET', '/v1/cluster/health')).json.aliveNodes === 2,
    { what: 'the control plane to see both nodes' });
});
after(async () => {
  if (grpc) grpc.close();
  if (cp) await cp.stop();
  if (cluster) await cluster.stop();
});

// proto3 JSON leaves a false bool out.
const busConnected = async () => (await cp.rest('GET', '/v1/cluster/health')).json.busConnected === true;

// Every app write, over gRPC and over REST, on an app that exists (before the outage).
const WRITES = [
  { method: 'CreateApp', grpc: { appId: 'during', app: {} }, rest: ['POST', '/v1/apps?app_id=during', {}] },
  { method: 'UpdateApp', grpc: { app: { name: 'apps/kept', maxConnections: '3' }, updateMask: { paths: ['max_connections'] } },
    rest: ['PATCH', '/v1/apps/kept?update_mask=maxConnections', { maxConnections: '3' }] },
  { method: 'RotateAppSecret', grpc: { name: 'apps/kept' }, rest: ['POST', '/v1/apps/kept:rotateSecret'] },
  { method: 'DisableApp', grpc: { name: 'apps/kept' }, rest: ['POST', '/v1/apps/kept:disable'] },
  { method: 'EnableApp', grpc: { name: 'apps/kept' }, rest: ['POST', '/v1/apps/kept:enable'] },
  { method: 'DeleteApp', grpc: { name: 'apps/kept' }, rest: ['DELETE', '/v1/apps/kept'] },
];

test('with the redis bus down app writes are UNAVAILABLE / 503; with redis back on its port they succeed again', async () => {
  const redis = cluster.broker;
  assert.equal(await busConnected(), true);
  const kept = await grpc.CreateApp({ appId: 'kept', app: {} }, TOKEN);
  assert.equal(kept.id, 'kept');

  await redis.stop();  // the redis-server this test started (SIGKILL)
  await waitFor(async () => !(await busConnected()), { what: 'the control plane to see the bus down' });
  for (const w of WRITES) {
    const e = await grpcError(grpc[w.method](w.grpc, TOKEN));
    assert.equal(e.code, GRPC.UNAVAILABLE, `${w.method} over gRPC: ${e.code} ${e.details}`);
    assert.equal(e.details, 'the redis bus is not connected: the nodes would miss this change');
    const r = await cp.rest(...w.rest);
    assert.equal(r.status, 503, `${w.method} over REST: ${r.text}`);
    assert.match(r.headers['content-type'], /^application\/json/);
    assert.deepEqual(r.json, { error: { code: 503, message: e.details, status: 'UNAVAILABLE' } }, w.method);
  }

  await redis.start();  // same port, same arguments (empty: no persistence)
  await waitFor(busConnected, { timeoutMs: 15000, what: 'the control plane to see the bus again' });
  // Written once the gate opens; any error but UNAVAILABLE fails the test at once.
  const created = await waitFor(() => grpc.CreateApp({ appId: 'after', app: {} }, TOKEN)
    .catch((e) => { if (e.code === GRPC.UNAVAILABLE) return null; throw e; }),
  { timeoutMs: 5000, what: 'CreateApp to succeed again' });
  assert.equal(created.id, 'after');
  const restCreated = await cp.rest('POST', '/v1/apps?app_id=after-rest', {});
  assert.equal(restCreated.status, 200, restCreated.text);
  // Both nodes serve the apps written after the outage.
  for (const app of [created, restCreated.json]) {
    for (const n of cluster.nodes) {
      await waitFor(async () => {
        const s = await RawClient.connect(n, app.key);
        await s.close();
        return Boolean(s.socketId);
      }, { timeoutMs: 15000, what: `app ${app.id} to be usable on the node on port ${n.port}` });
    }
  }
});

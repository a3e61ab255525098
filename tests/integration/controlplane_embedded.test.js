// The control plane embedded in the real sockudo-node (adapter.driver=local, the default, as with
// `make run`): an app created over REST is usable at once by pusher-js and the `pusher` SDK with
// the returned secret; rotating the secret makes the old signature fail; disabling an app closes
// its sockets with 4003 and deleting one with 4001 (pusher:error first); without a token the
// embedded control plane listens on 127.0.0.1 only; gRPC answers on its own port; the standalone
// control plane still refuses `local`.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const net = require('node:net');
const os = require('node:os');
const { startServer, freePort } = require('../support/server');
const { httpRequest, waitFor } = require('../support/wait');
const { client, serverSdk, once, connected, subscribed } = require('../support/pusher_clients');
const { RawClient } = require('../support/raw_client');
const { appsClient, apiClient, GRPC, grpcError, runOnce: runControlPlane } = require('../support/controlplane');

let server;
let restPort;
let grpcPort;

before(async () => {
  grpcPort = await freePort();
  restPort = await freePort();
  // No SOCKUDO_CONTROL_PLANE_EMBEDDED and no token: embedded because the adapter is `local`.
  server = await startServer({
    env: { CONTROL_PLANE_GRPC_PORT: String(grpcPort), CONTROL_PLANE_REST_PORT: String(restPort),
           LOG_LEVEL: 'info', SOCKUDO_CONTROL_PLANE_EMBEDDED: null },
  });
  await waitFor(() => /embedded control plane: grpc/.test(server.output()),
    { what: 'the embedded control plane to listen' });
});
after(() => server && server.stop());

function rest(method, urlPath, body = null) {
  const headers = {};
  let text = null;
  if (body !== null) {
    text = JSON.stringify(body);
    headers['content-type'] = 'application/json';
    headers['content-length'] = Buffer.byteLength(text);
  }
  return httpRequest({ port: restPort, path: urlPath, method, body: text, headers });
}

async function createApp(id, fields = {}) {
  const r = await rest('POST', `/v1/apps?app_id=${id}`, fields);
  assert.equal(r.status, 200, r.text);
  return r.json;
}

function sdkFor(app) {
  return serverSdk(server, { appId: app.id, key: app.key, secret: app.secret });
}

async function triggerStatus(sdk, channel, event, data) {
  try {
    const res = await sdk.trigger(channel, event, data);
    return res.status;
  } catch (e) {
    if (e.status) return e.status;
    throw e;
  }
}

test('an app created over REST is used by pusher-js and the pusher SDK at once; deleting it closes the socket with 4001', async () => {
  const app = await createApp('live');
  assert.match(app.secret, /^[0-9a-f]{40}$/);
  const sdk = sdkFor(app);
  const c = client(server, { key: app.key, sdk });
  await connected(c);
  const { channel, ok } = await subscribed(c, 'private-news');
  assert.ok(ok, 'private channel auth signed with the new secret');
  const got = once(channel, 'headline');
  assert.equal(await triggerStatus(sdk, 'private-news', 'headline', { n: 1 }), 200);
  assert.deepEqual((await got).data, { n: 1 });

  const raw = await RawClient.connect(server, app.key);
  assert.ok(raw.socketId);
  const error = once(c.connection, 'error');
  const del = await rest('DELETE', '/v1/apps/live');
  assert.equal(del.status, 200, del.text);

  const closed = await raw.closedPromise;
  assert.equal(closed.code, 4001);
  const frame = raw.frames.map((f) => f.json).find((f) => f.event === 'pusher:error');
  assert.equal(frame.data.code, 4001);
  assert.equal(frame.data.message, `App key ${app.key} does not exist.`);
  // An established pusher-js connection reports the pusher:error as {type: 'PusherError', data}.
  const reported = (await error).data;
  assert.equal(reported.type, 'PusherError');
  assert.equal(reported.data.code, 4001);
  await waitFor(() => c.connection.state === 'disconnected', { what: 'pusher-js to stop' });
  c.disconnect();

  // Gone for new sockets and for the HTTP API too.
  const again = await RawClient.connect(server, app.key);
  assert.equal((await again.closedPromise).code, 4001);
  assert.equal(await triggerStatus(sdk, 'news', 'x', {}), 404);
});

test('rotating the secret makes the old signature fail (401) and the new one work', async () => {
  const app = await createApp('rotating');
  const old = sdkFor(app);
  assert.equal(await triggerStatus(old, 'news', 'e', {}), 200);
  const rotated = await rest('POST', '/v1/apps/rotating:rotateSecret');
  assert.equal(rotated.status, 200, rotated.text);
  assert.notEqual(rotated.json.secret, app.secret);
  assert.equal(await triggerStatus(old, 'news', 'e', {}), 401);
  assert.equal(await triggerStatus(sdkFor({ ...app, secret: rotated.json.secret }), 'news', 'e', {}), 200);
  assert.equal((await rest('DELETE', '/v1/apps/rotating')).status, 200);
});

test('disabling an app closes its sockets with 4003 and refuses new ones; enabling admits again', async () => {
  const app = await createApp('switch');
  const other = await RawClient.connect(server);  // the config's default app is untouched
  const raw = await RawClient.connect(server, app.key);
  assert.ok(raw.socketId);
  assert.equal((await rest('POST', '/v1/apps/switch:disable')).status, 200);
  assert.equal((await raw.closedPromise).code, 4003);
  assert.equal(raw.frames.map((f) => f.json).find((f) => f.event === 'pusher:error').data.code, 4003);
  assert.equal((await (await RawClient.connect(server, app.key)).closedPromise).code, 4003);
  assert.equal(await triggerStatus(sdkFor(app), 'news', 'e', {}), 403);
  // The Events API refuses it too: PERMISSION_DENIED, 403, like the Pusher HTTP API.
  const refused = await rest('POST', '/v1/apps/switch/events', { name: 'e', data: '{}', channels: ['news'] });
  assert.equal(refused.status, 403, refused.text);
  assert.match(refused.json.error.message, /disabled/);
  assert.ok(await other.nothingBeforePong((f) => f.event === 'pusher:error'));

  assert.equal((await rest('POST', '/v1/apps/switch:enable')).status, 200);
  const back = await RawClient.connect(server, app.key);
  assert.ok(back.socketId);
  await back.close();
  await other.close();
  assert.equal((await rest('DELETE', '/v1/apps/switch')).status, 200);
});

test('an event published through the Events API on a cache channel is replayed to later subscribers', async () => {
  const sent = await rest('POST', '/v1/apps/app-id/events', { name: 'price', data: '{"v":3}', channels: ['cache-cp'] });
  assert.equal(sent.status, 200, sent.text);
  const later = await RawClient.connect(server);
  await later.subscribe('cache-cp');
  const replay = await later.next((f) => f.channel === 'cache-cp' && (f.event === 'price' || f.event === 'pusher:cache_miss'));
  assert.deepEqual(replay, { event: 'price', channel: 'cache-cp', data: '{"v":3}' });
  await later.close();
});

test('the Events API spends the same backend-event budget as the HTTP API: one token a channel, 429 over it', async () => {
  // A bucket of one token a second: two channels never fit.
  const app = await createApp('budget', { maxBackendEventsPerSecond: '1' });
  const over = await rest('POST', '/v1/apps/budget/events', { name: 'e', data: '1', channels: ['a', 'b'] });
  assert.equal(over.status, 429, over.text);
  assert.equal(over.json.error.status, 'RESOURCE_EXHAUSTED');
  assert.match(over.json.error.message, /^apps\/budget: over max_backend_events_per_second \(1 a second/);
  const events = apiClient(grpcPort, 'Events');
  try {
    const e = await grpcError(events.PublishEvent({ parent: 'apps/budget', name: 'e', data: '1', channels: ['a', 'b'] }, null));
    assert.equal(e.code, GRPC.RESOURCE_EXHAUSTED, e.message);
    assert.match(e.details, /over max_backend_events_per_second/);
  } finally {
    events.close();
  }
  // One budget for both APIs, in the node's limiter: right after the Events API took the token,
  // the HTTP API finds the bucket empty. The bucket refills a token a second, so a round slower
  // than that (a loaded machine) proves nothing and is tried again.
  const sdk = sdkFor(app);
  let shared = false;
  for (let round = 0; round < 5 && !shared; round++) {
    await waitFor(async () => (await rest('POST', '/v1/apps/budget/events', { name: 'e', data: '1', channels: ['a'] })).status === 200,
      { what: 'the Events API to take the bucket\'s token' });
    shared = (await triggerStatus(sdk, 'a', 'e', '1')) === 429;
  }
  assert.ok(shared, 'the HTTP API found the token the Events API took');
  assert.equal((await rest('DELETE', '/v1/apps/budget')).status, 200);
});

test('changed limits apply to new connections', async () => {
  const app = await createApp('limited');
  const first = await RawClient.connect(server, app.key);
  const second = await RawClient.connect(server, app.key);
  assert.ok(first.socketId && second.socketId);
  const patched = await rest('PATCH', '/v1/apps/limited?update_mask=maxConnections', { maxConnections: '2' });
  assert.equal(patched.status, 200, patched.text);
  // The open ones stay; the third is over the new quota.
  const third = await RawClient.connect(server, app.key);
  assert.equal((await third.closedPromise).code, 4004);
  assert.equal(first.closed, null);
  await first.close();
  await second.close();
  assert.equal((await rest('DELETE', '/v1/apps/limited')).status, 200);
});

test('without a token the embedded control plane answers on 127.0.0.1 only, REST and gRPC', async () => {
  const list = await rest('GET', '/v1/apps');
  assert.equal(list.status, 200, list.text);
  assert.ok(list.json.apps.some((a) => a.id === 'app-id'), 'the node\'s configured app is listed');
  assert.match(server.output(), /listens on 127\.0\.0\.1 only/);
  assert.match(server.output(), new RegExp(`embedded control plane: grpc 127\\.0\\.0\\.1:${grpcPort}, rest http://127\\.0\\.0\\.1:${restPort}`));

  const grpc = appsClient(grpcPort);
  try {
    const created = await grpc.CreateApp({ app: { id: 'via-grpc' } }, null);
    const raw = await RawClient.connect(server, created.key);
    assert.ok(raw.socketId, 'an app created over gRPC is usable at once');
    await grpc.DeleteApp({ name: 'apps/via-grpc' }, null);
    assert.equal((await raw.closedPromise).code, 4001);
  } finally {
    grpc.close();
  }

  // Not reachable through another address of this host.
  const external = Object.values(os.networkInterfaces()).flat()
    .find((i) => i && i.family === 'IPv4' && !i.internal);
  if (external) {
    const outcome = await new Promise((resolve) => {
      const s = net.connect({ host: external.address, port: restPort });
      s.once('connect', () => { s.destroy(); resolve('connected'); });
      s.once('error', (e) => resolve(e.code));
    });
    assert.equal(outcome, 'ECONNREFUSED', `REST on ${external.address}:${restPort}`);
  }
});

test('SOCKUDO_CONTROL_PLANE_EMBEDDED=false: no control plane; the standalone binary still refuses local', async () => {
  const grpcOff = await freePort();
  const restOff = await freePort();
  const plain = await startServer({
    env: { SOCKUDO_CONTROL_PLANE_EMBEDDED: 'false', CONTROL_PLANE_GRPC_PORT: String(grpcOff),
           CONTROL_PLANE_REST_PORT: String(restOff) },
  });
  try {
    await assert.rejects(httpRequest({ port: restOff, path: '/v1/apps' }), /ECONNREFUSED/);
    const raw = await RawClient.connect(plain);
    assert.ok(raw.socketId);
    await raw.close();
  } finally {
    await plain.stop();
  }
  const local = await runControlPlane([], { ADAPTER_DRIVER: 'local', CONTROL_PLANE_TOKEN: 't' });
  assert.equal(local.code, 2);
  assert.match(local.stderr, /adapter\.driver=local/);
});

test('with the file store, the embedded control plane writes the file and the node reloads it on SIGHUP', async () => {
  const fs = require('node:fs');
  const { writeAppsFile } = require('../support/controlplane');
  const file = writeAppsFile([{ id: 'seed', key: 'seed-key', secret: 'seed-secret' }]);
  const fileRest = await freePort();
  const node = await startServer({
    env: { SOCKUDO_CONTROL_PLANE_EMBEDDED: 'true', APP_MANAGER_DRIVER: 'file', APP_MANAGER_FILE_PATH: file,
           CONTROL_PLANE_GRPC_PORT: String(await freePort()), CONTROL_PLANE_REST_PORT: String(fileRest),
           LOG_LEVEL: 'info' },
  });
  const call = (method, urlPath, body = null) => {
    const text = body === null ? null : JSON.stringify(body);
    const headers = text === null ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) };
    return httpRequest({ port: fileRest, path: urlPath, method, body: text, headers });
  };
  try {
    await waitFor(async () => (await call('GET', '/v1/apps/seed').catch(() => ({}))).status === 200,
      { what: 'the embedded control plane' });
    const created = await call('POST', '/v1/apps?app_id=persisted', { key: 'persisted-key', secret: 'p-secret' });
    assert.equal(created.status, 200, created.text);
    const onDisk = JSON.parse(fs.readFileSync(file, 'utf8'));
    assert.equal(onDisk.find((a) => a.id === 'persisted').secret, 'p-secret');

    // An operator edits the file and sends SIGHUP: the node serves the new set.
    onDisk.push({ id: 'edited', key: 'edited-key', secret: 'e' });
    fs.writeFileSync(file, JSON.stringify(onDisk));
    node.child.kill('SIGHUP');
    await waitFor(() => /SIGHUP: reloaded/.test(node.output()), { what: 'the reload' });
    const raw = await RawClient.connect(node, 'edited-key');
    assert.ok(raw.socketId);
    // Removed from the file by hand (no API call, so no AppChanged): its socket closes with 4001
    // on the next SIGHUP, the other apps' sockets stay.
    const seed = await RawClient.connect(node, 'seed-key');
    fs.writeFileSync(file, JSON.stringify(onDisk.filter((a) => a.id !== 'edited')));
    node.child.kill('SIGHUP');
    assert.equal((await raw.closedPromise).code, 4001);
    assert.ok(await seed.nothingBeforePong((f) => f.event === 'pusher:error'));
    await seed.close();
    // A broken file keeps the current set.
    fs.writeFileSync(file, 'not json');
    node.child.kill('SIGHUP');
    await waitFor(() => /reload failed/.test(node.output()), { what: 'the reload error' });
    assert.equal((await call('GET', '/v1/apps/persisted')).status, 200);
  } finally {
    await node.stop();
  }
});

// The control plane's Apps API against the real sockudo-controlplane binary: REST and gRPC give
// the same answers (the proto3 JSON mapping of one message) for every call, a wrong token is
// UNAUTHENTICATED / 401, bad input is INVALID_ARGUMENT / 400 naming the field, apps live in the
// shared Redis store, and the standalone binary refuses what it cannot run.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { startControlPlane, runOnce, writeAppsFile, appsClient, GRPC, grpcError, protoJson, toValue } = require('../support/controlplane');
const { waitFor } = require('../support/wait');

let cp;
let grpc;

before(async () => {
  cp = await startControlPlane({ apps: [{ id: 'seed', key: 'seed-key', secret: 'seed-secret' }] });
  grpc = appsClient(cp.grpcPort);
});
after(async () => {
  if (grpc) grpc.close();
  if (cp) await cp.stop();
});

// The fields a create generates or names (they differ between two apps made alike).
const withoutIdentity = ({ name, id, key, secret, ...rest }) => rest;

test('REST and gRPC give the same answers for every Apps call', async () => {
  // The same app created both ways: the same answer but for name, id, key and secret.
  const fields = {
    maxConnections: '5', enableClientMessages: true, maxPresenceMemberSizeInKb: 2.5,
    allowedOrigins: ['https://a.example'], messageRateLimit: { enabled: true, maxAttempts: '3', decaySeconds: '2' },
  };
  const webhooks = [{ url: 'http://127.0.0.1:9/hook', event_types: ['channel_occupied'] }];
  const created = await cp.rest('POST', '/v1/apps?app_id=same', { key: 'same-key', ...fields, webhooks });
  assert.equal(created.status, 200, created.text);
  assert.equal(created.json.name, 'apps/same');
  assert.ok(created.json.secret.length > 0);
  assert.deepEqual(created.json.webhooks, webhooks);
  const grpcCreated = await grpc.CreateApp({ appId: 'twin', app: { key: 'twin-key', ...fields, webhooks: toValue(webhooks).listValue } }, cp.token);
  assert.deepEqual([grpcCreated.name, grpcCreated.id, grpcCreated.key], ['apps/twin', 'twin', 'twin-key']);
  assert.ok(grpcCreated.secret.length > 0);
  assert.deepEqual(withoutIdentity(protoJson(grpcCreated)), withoutIdentity(created.json));

  const restGet = await cp.rest('GET', '/v1/apps/same');
  const grpcGet = await grpc.GetApp({ name: 'apps/same' }, cp.token);
  assert.equal(restGet.status, 200);
  assert.deepEqual(protoJson(grpcGet), restGet.json);
  assert.equal(restGet.json.secret, undefined);

  const restList = await cp.rest('GET', '/v1/apps?page_size=1');
  const grpcList = await grpc.ListApps({ pageSize: 1 }, cp.token);
  assert.deepEqual(protoJson(grpcList), restList.json);
  assert.ok(restList.json.nextPageToken);
  const restPage2 = await cp.rest('GET', `/v1/apps?page_size=1&page_token=${restList.json.nextPageToken}`);
  const grpcPage2 = await grpc.ListApps({ pageSize: 1, pageToken: grpcList.nextPageToken }, cp.token);
  assert.deepEqual(protoJson(grpcPage2), restPage2.json);

  // An update through gRPC is what REST then reads, and vice versa.
  const grpcUpdated = await grpc.UpdateApp({
    app: { name: 'apps/same', maxConnections: '9', enableClientMessages: true },
    updateMask: { paths: ['max_connections', 'enable_client_messages'] },
  }, cp.token);
  assert.equal(grpcUpdated.maxConnections, '9');
  const restAfter = await cp.rest('GET', '/v1/apps/same');
  assert.deepEqual(protoJson(grpcUpdated), restAfter.json);
  const restUpdated = await cp.rest('PATCH', '/v1/apps/same?update_mask=maxEventBatchSize', { maxEventBatchSize: '4' });
  assert.equal(restUpdated.status, 200, restUpdated.text);
  assert.deepEqual(protoJson(await grpc.GetApp({ name: 'apps/same' }, cp.token)), restUpdated.json);

  // Disable and enable, each both ways: what one transport answers, the other then reads.
  const restDisabled = await cp.rest('POST', '/v1/apps/same:disable');
  assert.equal(restDisabled.status, 200, restDisabled.text);
  assert.equal(restDisabled.json.enabled, false);
  assert.deepEqual(protoJson(await grpc.GetApp({ name: 'apps/same' }, cp.token)), restDisabled.json);
  const grpcDisabled = await grpc.DisableApp({ name: 'apps/twin' }, cp.token);
  assert.equal(grpcDisabled.enabled, false);
  assert.deepEqual(protoJson(grpcDisabled), (await cp.rest('GET', '/v1/apps/twin')).json);
  const grpcEnabled = await grpc.EnableApp({ name: 'apps/same' }, cp.token);
  assert.equal(grpcEnabled.enabled, true);
  assert.deepEqual(protoJson(grpcEnabled), (await cp.rest('GET', '/v1/apps/same')).json);
  const restEnabled = await cp.rest('POST', '/v1/apps/twin:enable');
  assert.equal(restEnabled.json.enabled, true);
  assert.deepEqual(protoJson(await grpc.GetApp({ name: 'apps/twin' }, cp.token)), restEnabled.json);

  const restRotated = await cp.rest('POST', '/v1/apps/same:rotateSecret');
  const grpcRotated = await grpc.RotateAppSecret({ name: 'apps/same' }, cp.token);
  assert.notEqual(restRotated.json.secret, created.json.secret);
  assert.notEqual(grpcRotated.secret, restRotated.json.secret);
  delete restRotated.json.secret;
  delete grpcRotated.secret;
  assert.deepEqual(protoJson(grpcRotated), restRotated.json);

  // Errors: same code on both sides.
  const restDup = await cp.rest('POST', '/v1/apps', { id: 'same' });
  const grpcDup = await grpcError(grpc.CreateApp({ app: { id: 'same' } }, cp.token));
  assert.equal(restDup.status, 409);
  assert.equal(restDup.json.error.status, 'ALREADY_EXISTS');
  assert.equal(grpcDup.code, GRPC.ALREADY_EXISTS);
  assert.equal(grpcDup.details, restDup.json.error.message);

  // Delete both ways: the same empty answer, and the app is gone for both transports.
  const grpcDeleted = await grpc.DeleteApp({ name: 'apps/same' }, cp.token);
  assert.deepEqual(grpcDeleted, {});
  const restDeleted = await cp.rest('DELETE', '/v1/apps/twin');
  assert.equal(restDeleted.status, 200, restDeleted.text);
  assert.deepEqual(restDeleted.json, grpcDeleted);
  for (const id of ['same', 'twin']) {
    const restMissing = await cp.rest('DELETE', `/v1/apps/${id}`);
    const grpcMissing = await grpcError(grpc.GetApp({ name: `apps/${id}` }, cp.token));
    assert.equal(restMissing.status, 404, id);
    assert.equal(restMissing.json.error.status, 'NOT_FOUND');
    assert.equal(grpcMissing.code, GRPC.NOT_FOUND, id);
    assert.equal((await cp.rest('GET', `/v1/apps/${id}`)).status, 404, id);
    assert.equal((await grpcError(grpc.DeleteApp({ name: `apps/${id}` }, cp.token))).code, GRPC.NOT_FOUND, id);
  }
});

test('a create through gRPC generates id, key and secret and is readable over REST', async () => {
  const app = await grpc.CreateApp({ app: {} }, cp.token);
  assert.match(app.id, /^[0-9a-f]{16}$/);
  assert.match(app.key, /^[0-9a-f]{20}$/);
  assert.match(app.secret, /^[0-9a-f]{40}$/);
  const rest = await cp.rest('GET', `/v1/apps/${app.id}`);
  assert.equal(rest.status, 200);
  assert.equal(rest.json.key, app.key);
});

test('a wrong or missing token is UNAUTHENTICATED / 401', async () => {
  for (const auth of ['Bearer wrong', 'Bearer test-token-and-more', 'Basic dGVzdA==', null]) {
    const r = await cp.rest('GET', '/v1/apps', null, auth);
    assert.equal(r.status, 401, `${auth}: ${r.text}`);
    assert.equal(r.json.error.status, 'UNAUTHENTICATED');
  }
  const wrong = await grpcError(grpc.ListApps({}, 'wrong'));
  assert.equal(wrong.code, GRPC.UNAUTHENTICATED);
  const missing = await grpcError(grpc.ListApps({}, null));
  assert.equal(missing.code, GRPC.UNAUTHENTICATED);
  // Writes are refused as well, and nothing changes.
  const write = await cp.rest('POST', '/v1/apps?app_id=intruder', {}, 'Bearer nope');
  assert.equal(write.status, 401);
  assert.equal((await cp.rest('GET', '/v1/apps/intruder')).status, 404);
});

test('bad input is INVALID_ARGUMENT / 400 naming the field', async () => {
  const cases = [
    { rest: ['POST', '/v1/apps', { key: 'has spaces' }], grpc: ['CreateApp', { app: { key: 'has spaces' } }], field: 'app.key' },
    { rest: ['POST', '/v1/apps', { allowedOrigins: ['*.*.x.com'] }], grpc: ['CreateApp', { app: { allowedOrigins: ['*.*.x.com'] } }], field: 'allowed_origins' },
    { rest: ['PATCH', '/v1/apps/seed?update_mask=nope', {}], grpc: ['UpdateApp', { app: { name: 'apps/seed' }, updateMask: { paths: ['nope'] } }], field: 'update_mask' },
    { rest: ['PATCH', '/v1/apps/seed?update_mask=secret', {}], grpc: ['UpdateApp', { app: { name: 'apps/seed' }, updateMask: { paths: ['secret'] } }], field: 'app.secret' },
    { rest: ['GET', '/v1/apps?page_size=-1'], grpc: ['ListApps', { pageSize: -1 }], field: 'page_size' },
    { rest: ['GET', '/v1/apps?page_token=%21%21'], grpc: ['ListApps', { pageToken: '!!' }], field: 'page_token' },
  ];
  for (const c of cases) {
    const r = await cp.rest(...c.rest);
    assert.equal(r.status, 400, `${c.field}: ${r.text}`);
    assert.equal(r.json.error.status, 'INVALID_ARGUMENT');
    assert.match(r.json.error.message, new RegExp(c.field.replace('.', '\\.')));
    const e = await grpcError(grpc[c.grpc[0]](c.grpc[1], cp.token));
    assert.equal(e.code, GRPC.INVALID_ARGUMENT, c.field);
    assert.equal(e.details, r.json.error.message);
  }
  const badName = await grpcError(grpc.GetApp({ name: 'seed' }, cp.token));
  assert.equal(badName.code, GRPC.INVALID_ARGUMENT);
  assert.match(badName.details, /^name: /);
  const badJson = await cp.rest('POST', '/v1/apps', '{"maxConnections": "many"}');
  assert.equal(badJson.status, 400);
  assert.match(badJson.json.error.message, /^body: /);
});

test('apps live in Redis: a second control plane on the same Redis reads every write', async () => {
  const created = await cp.rest('POST', '/v1/apps?app_id=persisted', { key: 'persisted-key', secret: 'p-secret' });
  assert.equal(created.status, 200, created.text);
  const redisUrl = cp.redis.url;
  const keys = await cp.redis.command(['GET', 'sockudo_apps:{apps}:key:persisted-key']);
  assert.equal(keys, 'persisted');
  const second = await startControlPlane({ token: 'other', env: { REDIS_URL: redisUrl } });
  try {
    const read = await second.rest('GET', '/v1/apps/persisted');
    assert.equal(read.status, 200, read.text);
    assert.equal(read.json.key, 'persisted-key');
    assert.equal(read.json.secret, undefined);  // secrets leave only on create and rotate
  } finally {
    await second.stop();
  }
});

test('every call leaves an audit line with who, what and the outcome', async () => {
  await cp.rest('GET', '/v1/apps/seed');
  await cp.rest('GET', '/v1/apps/seed', null, 'Bearer wrong');
  await waitFor(() => /transport=rest peer=127\.0\.0\.1:\d+ principal=token method=GetApp resource=apps\/seed outcome=OK/.test(cp.output()),
    { timeoutMs: 2000, what: 'the audit line' });
  assert.match(cp.output(), /transport=rest .*principal=anonymous .*outcome=UNAUTHENTICATED/);
  assert.match(cp.output(), /transport=grpc peer=\S+ principal=token method=CreateApp .*outcome=OK/);
  assert.doesNotMatch(cp.output(), /p-secret|seed-secret/);
});

test('the standalone binary refuses the local adapter and a missing token', async () => {
  const local = await runOnce([], { ADAPTER_DRIVER: 'local', CONTROL_PLANE_TOKEN: 't' });
  assert.equal(local.code, 2);
  assert.match(local.stderr, /adapter\.driver=local/);
  const noToken = await runOnce([], { ADAPTER_DRIVER: 'redis', APP_MANAGER_DRIVER: 'redis' });
  assert.equal(noToken.code, 2);
  assert.match(noToken.stderr, /control_plane\.auth_token/);
  const fileStore = await runOnce([], { ADAPTER_DRIVER: 'redis', APP_MANAGER_DRIVER: 'file', CONTROL_PLANE_TOKEN: 't' });
  assert.equal(fileStore.code, 2);
  assert.match(fileStore.stderr, /app_manager\.driver=file: .*APP_MANAGER_DRIVER.*adapter\.driver=redis/);
  const file = writeAppsFile([]);
  fs.writeFileSync(`${file}.token`, 'from-secret-file\n');
  const check = await runOnce(['--check-config'], { ADAPTER_DRIVER: 'redis', APP_MANAGER_DRIVER: 'redis', CONTROL_PLANE_TOKEN_FILE: `${file}.token` });
  assert.equal(check.code, 0, check.stderr);
});

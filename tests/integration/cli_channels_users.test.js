// The walk of the README with sockudoctl against the control plane embedded in a real sockudo-node:
// create an app, connect a real pusher-js client with its key, see its channels and presence
// members, publish to it, count and terminate its signed-in user, delete the app. The app comes
// from --app, SOCKUDO_APP or the context's app.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { client, serverSdk, once, connected, subscribed, waitFor } = require('../support/pusher_clients');
const { runCli, startEmbeddedNode, parseYaml, parseTable, isolatedHome } = require('../support/cli');

const TOKEN = 'cli-channels-test-token';
let node;

before(async () => { node = await startEmbeddedNode({ token: TOKEN }); });
after(() => node && node.stop());

function ctl(args, env = {}, home = undefined) {
  return runCli(args, { home, env: { SOCKUDO_SERVER: node.address, SOCKUDO_TOKEN: TOKEN, ...env } });
}

async function ok(args, env, home) {
  const r = await ctl(args, env, home);
  assert.equal(r.code, 0, `sockudoctl ${args.join(' ')} exited ${r.code}:\n${r.stderr}`);
  assert.equal(r.stderr, '', `sockudoctl ${args.join(' ')} warned:\n${r.stderr}`);
  return r.stdout;
}

test('apps create -> pusher-js -> channels list/get/members -> publish -> users connections/terminate -> apps delete', async () => {
  const app = JSON.parse(await ok(['apps', 'create', 'walk', '-o', 'json']));
  const sdk = serverSdk(node.server, { appId: app.id, key: app.key, secret: app.secret });
  const c = client(node.server, { key: app.key, sdk, user: { id: 'alice' }, presence: { user_id: 'alice', user_info: { name: 'Alice' } } });
  await connected(c);
  const news = await subscribed(c, 'news');
  assert.ok(news.ok);
  assert.ok((await subscribed(c, 'presence-room')).ok);

  // channels list: JSON, YAML and the table agree.
  const list = JSON.parse(await ok(['channels', 'list', '--app', 'walk', '-o', 'json']));
  assert.deepEqual(list.channels.map((ch) => ch.channel), ['news', 'presence-room']);
  assert.equal(list.channels[0].subscriptionCount, '1');
  assert.equal(list.channels[1].userCount, undefined, 'the list counts subscriptions only');
  assert.equal(list.answer.complete, true);
  const yaml = parseYaml(await ok(['channels', 'list', '-a', 'walk', '-o', 'yaml']));
  assert.deepEqual(yaml.channels.map((ch) => [ch.channel, ch.subscriptionCount]), [['news', 1], ['presence-room', 1]]);
  const rows = parseTable(await ok(['channels', 'list', '--app', 'walk']));
  assert.deepEqual(rows, [
    { CHANNEL: 'news', OCCUPIED: 'true', SUBSCRIPTIONS: '1', USERS: '-' },
    { CHANNEL: 'presence-room', OCCUPIED: 'true', SUBSCRIPTIONS: '1', USERS: '-' },
  ]);
  const presenceOnly = JSON.parse(await ok(['channels', 'list', '--app', 'walk', '--prefix', 'presence-', '-o', 'json']));
  assert.deepEqual(presenceOnly.channels.map((ch) => ch.channel), ['presence-room']);

  const one = parseYaml(await ok(['channels', 'get', 'news', '--app', 'walk', '-o', 'yaml']));
  assert.equal(one.name, 'apps/walk/channels/news');
  assert.equal(one.occupied, true);
  assert.equal(one.subscriptionCount, 1);
  const room = JSON.parse(await ok(['channels', 'get', 'presence-room', '--app', 'walk', '-o', 'json']));
  assert.equal(room.userCount, '1');
  assert.deepEqual(parseTable(await ok(['channels', 'get', 'presence-room', '--app', 'walk'])),
    [{ CHANNEL: 'presence-room', OCCUPIED: 'true', SUBSCRIPTIONS: '1', USERS: '1' }]);
  const members = JSON.parse(await ok(['channels', 'members', 'presence-room', '--app', 'walk', '-o', 'json']));
  assert.deepEqual(members.members, [{ userId: 'alice', userInfo: { name: 'Alice' } }]);
  assert.deepEqual(parseTable(await ok(['channels', 'members', 'presence-room', '--app', 'walk'])),
    [{ USER: 'alice', 'USER-INFO': '{"name":"Alice"}' }]);

  // publish reaches the pusher-js client.
  const got = once(news.channel, 'greeting');
  assert.equal((await ok(['publish', 'news', 'greeting', '{"hi":1}', '--app', 'walk'])).trim(),
    'event "greeting" published to 1 channel(s)');
  assert.deepEqual((await got).data, { hi: 1 });
  const fromStdin = once(news.channel, 'piped');
  const piped = await runCli(['publish', 'news', 'piped', '-', '--app', 'walk', '-o', 'json'],
    { env: { SOCKUDO_SERVER: node.address, SOCKUDO_TOKEN: TOKEN }, input: '{"n":2}\n' });
  assert.equal(piped.code, 0, piped.stderr);
  assert.equal(JSON.parse(piped.stdout).channels, 1);
  assert.deepEqual((await fromStdin).data, { n: 2 });

  // The signed-in user: counted, then terminated (pusher-js sees 4009).
  c.signin();
  await waitFor(() => c.user.user_data && c.user.user_data.id === 'alice', { what: 'pusher-js sign-in' });
  await waitFor(async () => JSON.parse(await ok(['users', 'connections', 'alice', '--app', 'walk', '-o', 'json'])).connections === '1',
    { what: 'alice counted once' });
  assert.deepEqual(parseTable(await ok(['users', 'connections', 'alice', '--app', 'walk'])),
    [{ USER: 'alice', CONNECTIONS: '1', 'NODES-ANSWERED': '1/1' }]);
  const errors = [];
  c.connection.bind('error', (e) => errors.push(e));
  assert.equal((await ok(['users', 'terminate', 'alice', '--app', 'walk'])).trim(), 'user "alice" terminated: 1 connection(s) closed');
  await waitFor(() => errors.some((e) => e.data && e.data.code === 4009), { what: 'the 4009 error in pusher-js' });
  c.disconnect();
  await waitFor(async () => JSON.parse(await ok(['users', 'connections', 'alice', '--app', 'walk', '-o', 'json'])).connections === '0',
    { what: 'alice gone' });
  await waitFor(async () => JSON.parse(await ok(['channels', 'list', '--app', 'walk', '-o', 'json'])).channels.length === 0,
    { what: 'the channels to empty' });

  assert.equal((await ok(['apps', 'delete', 'walk'])).trim(), 'app "walk" deleted');
});

test('the app from SOCKUDO_APP or the current context; server refusals exit 1 with the code', async () => {
  const app = JSON.parse(await ok(['apps', 'create', 'ctx-app', '-o', 'json']));
  const c = client(node.server, { key: app.key, sdk: serverSdk(node.server, { appId: app.id, key: app.key, secret: app.secret }) });
  await connected(c);
  assert.ok((await subscribed(c, 'ctx-channel')).ok);

  const fromEnv = JSON.parse(await ok(['channels', 'list', '-o', 'json'], { SOCKUDO_APP: 'ctx-app' }));
  assert.deepEqual(fromEnv.channels.map((ch) => ch.channel), ['ctx-channel']);

  const home = isolatedHome();
  const set = await runCli(['config', 'set-context', 'local', '--server', node.address, '--token', TOKEN, '--app', 'ctx-app', '--use'], { home });
  assert.equal(set.code, 0, set.stderr);
  const fromContext = await runCli(['channels', 'list', '-o', 'json'], { home });
  assert.equal(fromContext.code, 0, fromContext.stderr);
  assert.deepEqual(JSON.parse(fromContext.stdout).channels.map((ch) => ch.channel), ['ctx-channel']);
  // --app beats the context.
  const flag = await runCli(['channels', 'list', '--app', 'app-id', '-o', 'json'], { home });
  assert.equal(flag.code, 0, flag.stderr);
  assert.ok(!JSON.parse(flag.stdout).channels.some((ch) => ch.channel === 'ctx-channel'));
  fs.rmSync(home.HOME, { recursive: true, force: true });

  const unknownApp = await ctl(['channels', 'list', '--app', 'no-such-app']);
  assert.equal(unknownApp.code, 1);
  assert.match(unknownApp.stderr, /^Error from server \(NOT_FOUND\): .*no-such-app/m);
  const notPresence = await ctl(['channels', 'members', 'ctx-channel', '--app', 'ctx-app']);
  assert.equal(notPresence.code, 1);
  assert.match(notPresence.stderr, /^Error from server \([A-Z_]+\): /m);
  const badPublish = await ctl(['publish', 'ctx-channel', '', 'x', '--app', 'ctx-app']);
  assert.equal(badPublish.code, 1);
  assert.match(badPublish.stderr, /^Error from server \(INVALID_ARGUMENT\): /m);

  c.disconnect();
  await ok(['apps', 'delete', 'ctx-app']);
});

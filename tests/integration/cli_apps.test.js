// sockudoctl against the control plane embedded in a real sockudo-node (with a bearer token): the
// apps commands end to end, every -o format parsed back, a pusher-js client on an app sockudoctl
// created, and the exit codes and messages of the failure paths (wrong token, stopped server,
// bad arguments, typos).
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { freePort } = require('../support/server');
const { client, serverSdk, once, connected, subscribed } = require('../support/pusher_clients');
const { runCli, startEmbeddedNode, parseYaml, parseTable, assertSameData, isolatedHome, privateNetworkPrefix } = require('../support/cli');

const TOKEN = 'cli-apps-test-token';
let node;

before(async () => { node = await startEmbeddedNode({ token: TOKEN }); });
after(() => node && node.stop());

// sockudoctl with the node's address and token in the environment.
function ctl(args, options = {}) {
  return runCli(args, { ...options, env: { SOCKUDO_SERVER: node.address, SOCKUDO_TOKEN: TOKEN, ...(options.env || {}) } });
}

async function ok(args, options) {
  const r = await ctl(args, options);
  assert.equal(r.code, 0, `sockudoctl ${args.join(' ')} exited ${r.code}:\n${r.stderr}`);
  return r.stdout;
}

test('apps create / get / list / update / rotate-secret / disable / enable / delete, in every -o format', async () => {
  const created = JSON.parse(await ok(['apps', 'create', 'cli-one', '--max-connections', '50', '--enable-client-messages', '-o', 'json']));
  assert.equal(created.name, 'apps/cli-one');
  assert.equal(created.id, 'cli-one');
  assert.match(created.secret, /^[0-9a-f]{40}$/);
  assert.equal(created.maxConnections, '50');
  assert.equal(created.enableClientMessages, true);

  // get: JSON and YAML say the same; the table has the app in aligned columns.
  const json = JSON.parse(await ok(['apps', 'get', 'cli-one', '-o', 'json']));
  const yaml = parseYaml(await ok(['apps', 'get', 'apps/cli-one', '-o', 'yaml']));
  assertSameData(json, yaml, 'app');
  assert.equal(yaml.key, created.key);
  assert.equal(yaml.maxConnections, 50);
  const [row] = parseTable(await ok(['apps', 'get', 'cli-one']));
  assert.deepEqual(row, { ID: 'cli-one', KEY: created.key, ENABLED: 'true', 'MAX-CONNECTIONS': '50', 'CLIENT-EVENTS': 'true', 'USER-AUTH': 'false' });
  assert.equal(row.SECRET, undefined, 'get never shows a secret');

  // list: every format, the wide table has more columns, --no-headers only rows.
  const listJson = JSON.parse(await ok(['apps', 'list', '-o', 'json']));
  assert.ok(listJson.apps.some((a) => a.id === 'cli-one'));
  assert.ok(listJson.apps.some((a) => a.id === 'app-id'), 'the node\'s configured app');
  assertSameData(listJson, parseYaml(await ok(['apps', 'list', '-o', 'yaml'])), 'list');
  const table = parseTable(await ok(['apps', 'list']));
  assert.deepEqual(table.map((r) => r.ID).sort(), listJson.apps.map((a) => a.id).sort());
  const wide = parseTable(await ok(['apps', 'ls', '-o', 'wide']));
  assert.equal(wide.find((r) => r.ID === 'cli-one').ORIGINS, '*');
  assert.ok(Object.keys(wide[0]).length > Object.keys(table[0]).length);
  const bare = (await ok(['apps', 'list', '--no-headers'])).trim().split('\n');
  assert.equal(bare.length, listJson.apps.length);
  assert.ok(!bare.some((l) => l.startsWith('ID ')));

  // update: only the fields given change.
  const updated = parseYaml(await ok(['apps', 'update', 'cli-one', '--enable-client-messages=false',
    '--allowed-origins', 'https://a.example,https://b.example', '-o', 'yaml']));
  assert.equal(updated.enableClientMessages, false);
  assert.deepEqual(updated.allowedOrigins, ['https://a.example', 'https://b.example']);
  assert.equal(updated.maxConnections, 50);

  const rotated = JSON.parse(await ok(['apps', 'rotate-secret', 'cli-one', '-o', 'json']));
  assert.match(rotated.secret, /^[0-9a-f]{40}$/);
  assert.notEqual(rotated.secret, created.secret);

  assert.equal((await ok(['apps', 'disable', 'cli-one'])).trim(), 'app "cli-one" disabled');
  assert.equal(JSON.parse(await ok(['apps', 'get', 'cli-one', '-o', 'json'])).enabled, false);
  assert.equal(parseYaml(await ok(['apps', 'enable', 'cli-one', '-o', 'yaml'])).enabled, true);
  assert.equal((await ok(['apps', 'delete', 'cli-one'])).trim(), 'app "cli-one" deleted');
  const gone = await ctl(['apps', 'get', 'cli-one']);
  assert.equal(gone.code, 1);
  assert.match(gone.stderr, /NOT_FOUND/);
  assert.match(gone.stderr, /cli-one/);
});

test('an app created with sockudoctl serves pusher-js with the printed key and secret; deleting it closes the socket (4001)', async () => {
  const app = JSON.parse(await ok(['apps', 'create', '-o', 'json']));
  assert.ok(app.id && app.key && app.secret, 'id, key and secret are generated');
  const sdk = serverSdk(node.server, { appId: app.id, key: app.key, secret: app.secret });
  const c = client(node.server, { key: app.key, sdk });
  await connected(c);
  const { channel, ok: subscribedOk } = await subscribed(c, 'private-cli');
  assert.ok(subscribedOk, 'private channel authorized with the secret sockudoctl printed');
  const got = once(channel, 'ping');
  assert.equal((await sdk.trigger('private-cli', 'ping', { n: 1 })).status, 200);
  assert.deepEqual((await got).data, { n: 1 });

  const error = once(c.connection, 'error');
  await ok(['apps', 'delete', app.id]);
  assert.equal((await error).data.data.code, 4001);
  c.disconnect();
});

test('a wrong or missing token: exit 1, UNAUTHENTICATED and the server\'s message', async () => {
  const wrong = await ctl(['apps', 'list'], { env: { SOCKUDO_TOKEN: 'not-the-token' } });
  assert.equal(wrong.code, 1);
  assert.match(wrong.stderr, /Error from server \(UNAUTHENTICATED\): invalid bearer token/);
  assert.equal(wrong.stdout, '');
  const missing = await ctl(['apps', 'list'], { env: { SOCKUDO_TOKEN: null } });
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /UNAUTHENTICATED/);
  assert.match(missing.stderr, /missing bearer token/);
  // --token beats SOCKUDO_TOKEN.
  const flag = await ctl(['apps', 'list', '--token', TOKEN], { env: { SOCKUDO_TOKEN: 'not-the-token' } });
  assert.equal(flag.code, 0, flag.stderr);
});

test('no server at the address: exit 3 naming the address and where it came from', async () => {
  const port = await freePort();  // nothing listens there
  const viaFlag = await ctl(['apps', 'list', '--server', `127.0.0.1:${port}`]);
  assert.equal(viaFlag.code, 3);
  assert.match(viaFlag.stderr, new RegExp(`cannot reach the control plane at 127\\.0\\.0\\.1:${port} \\(address from --server\\)`));
  assert.match(viaFlag.stderr, /UNAVAILABLE/);
  const viaEnv = await ctl(['cluster', 'status'], { env: { SOCKUDO_SERVER: `127.0.0.1:${port}` } });
  assert.equal(viaEnv.code, 3);
  assert.match(viaEnv.stderr, new RegExp(`127\\.0\\.0\\.1:${port} \\(address from SOCKUDO_SERVER\\)`));
  // Nothing given at all (an empty home: no context): the default address is named. Whatever
  // this machine runs on 127.0.0.1:50051, nothing listens there in a network namespace of the
  // command's own; without namespaces, this test holds the port with a listener that hangs up.
  const home = isolatedHome();
  assert.equal(fs.existsSync(path.join(home.XDG_CONFIG_HOME, 'sockudo', 'config')), false);
  const prefix = privateNetworkPrefix();
  let holder = null;
  if (!prefix) {
    holder = net.createServer((socket) => socket.destroy());
    await new Promise((resolve, reject) => {
      holder.once('error', (e) => reject(new Error(`no network namespace (unshare) and 127.0.0.1:50051 is taken: ${e.message}`)));
      holder.listen(50051, '127.0.0.1', resolve);
    });
  }
  try {
    const byDefault = await runCli(['apps', 'list', '--timeout', '2s'], { home, prefix: prefix || [] });
    assert.equal(byDefault.code, 3, byDefault.stderr);
    assert.match(byDefault.stderr, /^Error: cannot reach the control plane at 127\.0\.0\.1:50051 \(address from default\): UNAVAILABLE/);
    assert.equal(byDefault.stdout, '');
  } finally {
    if (holder) await new Promise((resolve) => holder.close(resolve));
    fs.rmSync(home.HOME, { recursive: true, force: true });
  }
});

test('a control plane that answered and then stopped: exit 3 naming its address', async () => {
  const own = await startEmbeddedNode();
  let stopped = false;
  try {
    const before = await runCli(['apps', 'list', '-o', 'json', '--server', own.address]);
    assert.equal(before.code, 0, before.stderr);
    assert.ok(JSON.parse(before.stdout).apps.some((a) => a.id === 'app-id'));
    await own.stop();  // that node only; asserts it exited cleanly
    stopped = true;
    for (const args of [['apps', 'list'], ['cluster', 'status', '-o', 'json']]) {
      const after = await runCli([...args, '--server', own.address]);
      assert.equal(after.code, 3, `${args.join(' ')}: ${after.stderr}`);
      assert.match(after.stderr, new RegExp(`^Error: cannot reach the control plane at ${own.address.replace(/\./g, '\\.')} \\(address from --server\\): UNAVAILABLE`));
      assert.equal(after.stdout, '');
    }
  } finally {
    if (!stopped) await own.stop();
  }
});

test('usage errors: exit 2 naming the argument, "did you mean" for typos, help with an example on every command', async () => {
  const missing = await ctl(['apps', 'get']);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /ID is required/);
  assert.match(missing.stderr, /Run 'sockudoctl apps get --help' for usage/);

  const badFormat = await ctl(['apps', 'list', '-o', 'xml']);
  assert.equal(badFormat.code, 2);
  assert.match(badFormat.stderr, /--output/);
  const badNumber = await ctl(['apps', 'update', 'x', '--max-connections', 'lots']);
  assert.equal(badNumber.code, 2);
  assert.match(badNumber.stderr, /--max-connections: "lots" is not an integer/);
  const badTimeout = await ctl(['apps', 'list', '--timeout', 'soon']);
  assert.equal(badTimeout.code, 2);
  assert.match(badTimeout.stderr, /--timeout/);
  const nothing = await ctl(['apps', 'update', 'x']);
  assert.equal(nothing.code, 2);
  assert.match(nothing.stderr, /nothing to change/);
  const noApp = await ctl(['channels', 'list']);
  assert.equal(noApp.code, 2);
  assert.match(noApp.stderr, /--app is required/);
  const extra = await ctl(['apps', 'get', 'a', 'b']);
  assert.equal(extra.code, 2);
  assert.match(extra.stderr, /not expected: b/);

  for (const [args, word, suggestion, where] of [
    [['aps', 'list'], 'aps', 'apps', 'sockudoctl'],
    [['apps', 'lst'], 'lst', 'list', 'sockudoctl apps'],
    [['cluster', 'stauts'], 'stauts', 'status', 'sockudoctl cluster'],
    [['users', 'terminat', 'u'], 'terminat', 'terminate', 'sockudoctl users'],
  ]) {
    const r = await ctl(args);
    assert.equal(r.code, 2, args.join(' '));
    assert.match(r.stderr, new RegExp(`unknown command "${word}" for "${where}"`));
    assert.match(r.stderr, new RegExp(`Did you mean this\\?\\n\\t${suggestion}\\n`));
  }
  const flag = await ctl(['apps', 'list', '--servr', 'x']);
  assert.equal(flag.code, 2);
  assert.match(flag.stderr, /unknown flag: --servr/);
  assert.match(flag.stderr, /Did you mean this\?\n\t--server/);
  const far = await ctl(['zzzzzz']);
  assert.equal(far.code, 2);
  assert.doesNotMatch(far.stderr, /Did you mean/);

  // Every command has --help (exit 0) with an example; the list comes from the completion script.
  const script = (await ok(['completion', 'bash'])).split('\n');
  const commands = script.map((l) => /^ {2}\["root ([^"]+)"\]=/.exec(l)).filter(Boolean).map((m) => m[1]);
  const unique = [...new Set(commands)];
  for (const name of ['apps list', 'apps rotate-secret', 'cluster watch', 'users terminate', 'channels members', 'publish', 'config set-context', 'version', 'completion bash']) {
    assert.ok(unique.includes(name), `${name} is a command`);
  }
  for (const name of unique) {
    const r = await runCli([...name.split(' '), '--help']);
    assert.equal(r.code, 0, `${name} --help`);
    assert.match(r.stdout, new RegExp(`Usage: sockudoctl ${name}`), name);
    assert.match(r.stdout, /Examples:\n {2}(sockudoctl|source|echo) /, `${name} --help has an example`);
  }
  const top = await runCli([]);
  assert.equal(top.code, 0);
  assert.match(top.stdout, /Exit codes: 0 ok, 1 the server said no/);
});

test('contexts: config file 0600 under XDG_CONFIG_HOME; flag > env > context > default', async () => {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'sockudoctl-ctx-'));
  const h = { HOME: home, XDG_CONFIG_HOME: path.join(home, 'xdg') };
  const deadPort = await freePort();
  const run = (args, env = {}) => runCli(args, { home: h, env });

  let r = await run(['config', 'set-context', 'local', '--server', node.address, '--token', TOKEN, '--use']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Context "local" created \(current\)/);
  r = await run(['config', 'set-context', 'dead', '--server', `127.0.0.1:${deadPort}`, '--app', 'app-id']);
  assert.equal(r.code, 0, r.stderr);
  const file = path.join(home, 'xdg', 'sockudo', 'config');
  assert.equal(fs.statSync(file).mode & 0o777, 0o600);
  assert.equal(fs.statSync(path.dirname(file)).mode & 0o777, 0o700);

  // The current context reaches the server with its token.
  r = await run(['apps', 'list', '-o', 'json']);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(JSON.parse(r.stdout).apps.length >= 1);
  // --context picks another one; its server is down: 3, and the message says which context.
  r = await run(['apps', 'list', '--context', 'dead']);
  assert.equal(r.code, 3);
  assert.match(r.stderr, new RegExp(`127\\.0\\.0\\.1:${deadPort} \\(address from context "dead"\\)`));
  // The environment beats the context, the flag beats both.
  r = await run(['apps', 'list', '--context', 'dead', '--token', TOKEN], { SOCKUDO_SERVER: node.address });
  assert.equal(r.code, 0, r.stderr);
  r = await run(['apps', 'list', '--context', 'dead', '--token', TOKEN, '--server', node.address], { SOCKUDO_SERVER: `127.0.0.1:${deadPort}` });
  assert.equal(r.code, 0, r.stderr);
  r = await run(['apps', 'list', '--context', 'nope']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /no context named "nope"/);

  r = await run(['config', 'get-contexts']);
  const rows = parseTable(r.stdout);
  assert.deepEqual(rows.map((x) => [x.CURRENT, x.NAME, x.TOKEN, x.APP]), [['*', 'local', 'set', '-'], ['', 'dead', 'none', 'app-id']]);
  r = await run(['config', 'use-context', 'dead']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal((await run(['config', 'current-context'])).stdout, 'dead\n');
  const view = parseYaml((await run(['config', 'view'])).stdout);
  assert.equal(view['current-context'], 'dead');
  assert.equal(view.contexts.find((c) => c.name === 'local').token, 'REDACTED');
  const raw = JSON.parse((await run(['config', 'view', '--raw', '-o', 'json'])).stdout);
  assert.equal(raw.contexts.find((c) => c.name === 'local').token, TOKEN);
  assert.equal((await run(['config', 'use-context', 'nope'])).code, 1);
  r = await run(['config', 'delete-context', 'dead']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal((await run(['config', 'current-context'])).code, 1, 'the deleted context was current');
  assert.equal(fs.statSync(file).mode & 0o777, 0o600);

  // --config names another file.
  const other = path.join(home, 'other.yaml');
  r = await run(['--config', other, 'config', 'set-context', 'x', '--server', node.address]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(fs.statSync(other).mode & 0o777, 0o600);
  fs.rmSync(home, { recursive: true, force: true });
});

test('version and completion', async () => {
  assert.match(await ok(['version']), /^sockudoctl \d+\.\d+\.\d+ /);
  const v = JSON.parse(await ok(['version', '-o', 'json']));
  assert.match(v.clientVersion.version, /^\d+\.\d+\.\d+$/);
  assert.equal(parseYaml(await ok(['version', '-o', 'yaml'])).clientVersion.version, v.clientVersion.version);

  // The script completes commands and flags in a real bash.
  const { spawnSync } = require('node:child_process');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sockudoctl-completion-'));
  const file = path.join(dir, 'sockudoctl.bash');
  fs.writeFileSync(file, await ok(['completion', 'bash']));
  const complete = (words) => {
    const r = spawnSync('bash', ['--norc', '--noprofile', '-c',
      `source "$1"; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _sockudoctl; echo "\${COMPREPLY[*]}"`,
      'bash', file], { encoding: 'utf8', timeout: 10000 });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, '');
    return r.stdout.trim().split(/\s+/);
  };
  assert.deepEqual(complete(['sockudoctl', 'ap']), ['apps']);
  assert.deepEqual(complete(['sockudoctl', '-o', 'json', 'apps', 'r']), ['rotate-secret']);
  assert.deepEqual(complete(['sockudoctl', 'cluster', '']), ['status', 'nodes', 'watch']);
  assert.deepEqual(complete(['sockudoctl', '-o', '']), ['table', 'wide', 'json', 'yaml']);
  assert.ok(complete(['sockudoctl', 'apps', 'update', 'x', '--max-conn']).includes('--max-connections'));
  fs.rmSync(dir, { recursive: true, force: true });
});

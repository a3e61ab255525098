// Every sockudoctl command that prints something, in each -o format (table, wide, json, yaml),
// against the control plane embedded in a real sockudo-node (pusher-js clients give it channels,
// presence members and signed-in users), read back: json with JSON.parse and through the real jq,
// yaml with the `yaml` package (and the same fields as the json), table and wide as aligned
// columns under the expected header. Also the live cluster page that the embedded control plane
// serves on its REST port.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const vm = require('node:vm');
const { httpRequest } = require('../support/wait');
const { client, serverSdk, connected, subscribed, waitFor } = require('../support/pusher_clients');
const {
  runCli, startEmbeddedNode, isolatedHome, parseYaml, parseTable, tableHeaders, jqBin, jq, assertSameData,
} = require('../support/cli');

const TOKEN = 'cli-formats-token';
const FORMATS = ['table', 'wide', 'json', 'yaml'];
let node;
let home;
let nodeId;
const clients = [];
const published = [];

// sockudoctl with the current context "local": this node, its token, app "fmt". Exit 0, no warning.
async function ok(args) {
  const r = await runCli(args, { home });
  assert.equal(r.code, 0, `sockudoctl ${args.join(' ')} exited ${r.code}:\n${r.stderr}`);
  assert.equal(r.stderr, '', `sockudoctl ${args.join(' ')} warned:\n${r.stderr}`);
  return r.stdout;
}

before(async () => {
  node = await startEmbeddedNode({ token: TOKEN });
  home = isolatedHome();
  for (const args of [
    ['config', 'set-context', 'local', '--server', node.address, '--token', TOKEN, '--app', 'fmt', '--use'],
    ['config', 'set-context', 'remote', '--server', 'cp.example.com:443', '--tls', '--app', 'chat'],
  ]) await ok(args);

  const app = JSON.parse(await ok(['apps', 'create', 'fmt', '-o', 'json']));
  const sdk = serverSdk(node.server, { appId: app.id, key: app.key, secret: app.secret });
  // alice: on "news" and in "presence-room", signed in. One more signed-in user per format, for
  // `users terminate`.
  const alice = client(node.server, { key: app.key, sdk, user: { id: 'alice' }, presence: { user_id: 'alice', user_info: { name: 'Alice' } } });
  clients.push(alice);
  await connected(alice);
  const news = await subscribed(alice, 'news');
  assert.ok(news.ok);
  news.channel.bind('greeting', (data) => published.push(data));
  assert.ok((await subscribed(alice, 'presence-room')).ok);
  alice.signin();
  for (const f of FORMATS) {
    const c = client(node.server, { key: app.key, sdk, user: { id: `term-${f}` } });
    clients.push(c);
    await connected(c);
    c.signin();
  }
  for (const user of ['alice', ...FORMATS.map((f) => `term-${f}`)]) {
    await waitFor(async () => JSON.parse(await ok(['users', 'connections', user, '-o', 'json'])).connections === '1',
      { what: `${user} signed in` });
  }
  // The node's heartbeats carry the app's totals, which `cluster status` lists.
  await waitFor(async () => (JSON.parse(await ok(['cluster', 'status', '-o', 'json'])).apps || []).some((a) => a.appId === 'fmt'),
    { timeoutMs: 10000, what: 'the totals of app fmt in cluster status' });
  nodeId = JSON.parse(await ok(['cluster', 'nodes', '-o', 'json'])).nodes[0].id;
});

after(async () => {
  for (const c of clients) c.disconnect();
  if (node) await node.stop();
  if (home) fs.rmSync(home.HOME, { recursive: true, force: true });
});

// ---- the commands --------------------------------------------------------------------------
// Each row: `args(f)` for format f. For table and wide either `table` / `wide` (the exact header
// words; `rows(rows, f)` checks the parsed rows; `tables: 2` when a second table follows a blank
// line), `line(f)` (one line of text), or `text(stdout, f)`. For json and yaml `data(d, f)` (int64
// fields are strings in json, numbers in yaml: n() reads both), for json `jq` [filter, expected(f)].

const n = Number;
const HEX40 = /^[0-9a-f]{40}$/;
const APP = ['ID', 'KEY', 'ENABLED', 'MAX-CONNECTIONS', 'CLIENT-EVENTS', 'USER-AUTH'];
const APP_WIDE = [...APP, 'WATCHLIST', 'CLIENT-EV/S', 'BACKEND-EV/S', 'READS/S', 'PRESENCE-MEMBERS', 'WEBHOOKS', 'ORIGINS'];
const withSecret = (h) => [...h.slice(0, 2), 'SECRET', ...h.slice(2)];
const CHANNEL = ['CHANNEL', 'OCCUPIED', 'SUBSCRIPTIONS', 'USERS'];
const NODE = ['NODE', 'STATE', 'ADDRESS', 'CONNECTIONS', 'CHANNELS', 'MEMORY', 'LAST-HEARTBEAT'];
const NODE_WIDE = [...NODE, 'PRESENCE', 'VERSION', 'PID', 'UPTIME', 'READY', 'BUS', 'LEADER'];
const STATUS = ['STATUS', 'ADAPTER', 'ALIVE', 'SUSPECT', 'DEAD', 'LEADER', 'CONNECTIONS', 'CHANNELS'];
const CONTEXTS = ['CURRENT', 'NAME', 'SERVER', 'TLS', 'APP', 'TOKEN'];
const secrets = {};

function oneRow(rows) {
  assert.equal(rows.length, 1, JSON.stringify(rows));
  return rows[0];
}

function checkConfig(d) {
  assert.equal(d['current-context'], 'local');
  assert.deepEqual(d.contexts.map((c) => c.name).sort(), ['local', 'remote']);
  const local = d.contexts.find((c) => c.name === 'local');
  const remote = d.contexts.find((c) => c.name === 'remote');
  assert.deepEqual(local, { name: 'local', server: node.address, token: 'REDACTED', app: 'fmt' });
  assert.deepEqual(remote, { name: 'remote', server: 'cp.example.com:443', tls: true, app: 'chat' });
  assert.equal('ca-file' in remote, false);
}

const COMMANDS = [
  {
    name: 'apps create',
    args: (f) => ['apps', 'create', `fmt-${f}`, '--max-connections', '50', '--enable-client-messages'],
    table: withSecret(APP),
    wide: withSecret(APP_WIDE),
    rows: (rows, f) => {
      const r = oneRow(rows);
      assert.equal(r.ID, `fmt-${f}`);
      assert.match(r.SECRET, HEX40);
      assert.deepEqual([r.ENABLED, r['MAX-CONNECTIONS'], r['CLIENT-EVENTS'], r['USER-AUTH']], ['true', '50', 'true', 'false']);
      if (f === 'wide') assert.deepEqual([r.WEBHOOKS, r.ORIGINS], ['0', '*']);
      secrets[f] = r.SECRET;
    },
    data: (d, f) => {
      assert.equal(d.name, `apps/fmt-${f}`);
      assert.equal(d.id, `fmt-${f}`);
      assert.match(d.secret, HEX40);
      assert.equal(n(d.maxConnections), 50);
      assert.equal(d.enableClientMessages, true);
      assert.equal(d.enabled, true);
      secrets[f] = d.secret;
    },
    jq: ['.id', (f) => [`fmt-${f}`]],
  },
  {
    name: 'apps get',
    args: (f) => ['apps', 'get', `fmt-${f}`],
    table: APP,
    wide: APP_WIDE,
    rows: (rows, f) => {
      const r = oneRow(rows);
      assert.deepEqual([r.ID, r.ENABLED, r['MAX-CONNECTIONS']], [`fmt-${f}`, 'true', '50']);
    },
    data: (d, f) => {
      assert.equal(d.id, `fmt-${f}`);
      assert.equal(n(d.maxConnections), 50);
    },
    jq: ['.name', (f) => [`apps/fmt-${f}`]],
  },
  {
    name: 'apps list',
    args: () => ['apps', 'list'],
    table: APP,
    wide: APP_WIDE,
    rows: (rows, f) => {
      for (const id of ['app-id', 'fmt', `fmt-${f}`]) assert.ok(rows.some((r) => r.ID === id), id);
      assert.equal(rows.find((r) => r.ID === `fmt-${f}`)['MAX-CONNECTIONS'], '50');
    },
    data: (d, f) => {
      for (const id of ['app-id', 'fmt', `fmt-${f}`]) assert.ok(d.apps.some((a) => a.id === id), id);
    },
    jq: ['[.apps[].id] | index("fmt-json") != null', () => [true]],
    sameValues: false,  // each format's app comes and goes
  },
  {
    name: 'apps update',
    args: (f) => ['apps', 'update', `fmt-${f}`, '--max-connections', '60'],
    table: APP,
    wide: APP_WIDE,
    rows: (rows, f) => assert.deepEqual([oneRow(rows).ID, rows[0]['MAX-CONNECTIONS'], rows[0]['CLIENT-EVENTS']], [`fmt-${f}`, '60', 'true']),
    data: (d) => {
      assert.equal(n(d.maxConnections), 60);
      assert.equal(d.enableClientMessages, true, 'fields not given keep their value');
    },
    jq: ['.maxConnections', () => ['60']],
  },
  {
    name: 'apps rotate-secret',
    args: (f) => ['apps', 'rotate-secret', `fmt-${f}`],
    table: withSecret(APP),
    wide: withSecret(APP_WIDE),
    rows: (rows, f) => {
      assert.match(oneRow(rows).SECRET, HEX40);
      assert.notEqual(rows[0].SECRET, secrets[f]);
    },
    data: (d, f) => {
      assert.match(d.secret, HEX40);
      assert.notEqual(d.secret, secrets[f]);
    },
    jq: ['.secret | test("^[0-9a-f]{40}$")', () => [true]],
  },
  {
    name: 'apps disable',
    args: (f) => ['apps', 'disable', `fmt-${f}`],
    line: (f) => `app "fmt-${f}" disabled`,
    data: (d, f) => assert.deepEqual([d.id, d.enabled], [`fmt-${f}`, false]),
    jq: ['.enabled', () => [false]],
  },
  {
    name: 'apps enable',
    args: (f) => ['apps', 'enable', `fmt-${f}`],
    line: (f) => `app "fmt-${f}" enabled`,
    data: (d, f) => assert.deepEqual([d.id, d.enabled], [`fmt-${f}`, true]),
    jq: ['.enabled', () => [true]],
  },
  {
    name: 'apps delete',
    args: (f) => ['apps', 'delete', `fmt-${f}`],
    line: (f) => `app "fmt-${f}" deleted`,
    data: (d) => assert.deepEqual(d, {}),
    jq: ['length', () => [0]],
  },
  {
    name: 'channels list',
    args: () => ['channels', 'list'],
    table: CHANNEL,
    wide: [...CHANNEL, 'NAME'],
    rows: (rows, f) => {
      const expected = [['news', 'true', '1', '-'], ['presence-room', 'true', '1', '-']];
      assert.deepEqual(rows.map((r) => [r.CHANNEL, r.OCCUPIED, r.SUBSCRIPTIONS, r.USERS]), expected);
      if (f === 'wide') assert.deepEqual(rows.map((r) => r.NAME), ['apps/fmt/channels/news', 'apps/fmt/channels/presence-room']);
    },
    data: (d) => {
      assert.deepEqual(d.channels.map((c) => [c.channel, c.occupied, n(c.subscriptionCount)]), [['news', true, 1], ['presence-room', true, 1]]);
      assert.equal(d.answer.complete, true);
    },
    jq: ['.channels[].channel', () => ['news', 'presence-room']],
  },
  {
    name: 'channels get',
    args: () => ['channels', 'get', 'presence-room'],
    table: CHANNEL,
    wide: [...CHANNEL, 'NAME'],
    rows: (rows) => assert.deepEqual(Object.values(oneRow(rows)).slice(0, 4), ['presence-room', 'true', '1', '1']),
    data: (d) => {
      assert.equal(d.name, 'apps/fmt/channels/presence-room');
      assert.deepEqual([d.occupied, n(d.subscriptionCount), n(d.userCount)], [true, 1, 1]);
    },
    jq: ['.userCount', () => ['1']],
  },
  {
    name: 'channels members',
    args: () => ['channels', 'members', 'presence-room'],
    table: ['USER', 'USER-INFO'],
    wide: ['USER', 'USER-INFO'],
    rows: (rows) => assert.deepEqual(rows, [{ USER: 'alice', 'USER-INFO': '{"name":"Alice"}' }]),
    data: (d) => assert.deepEqual(d.members, [{ userId: 'alice', userInfo: { name: 'Alice' } }]),
    jq: ['.members[].userInfo.name', () => ['Alice']],
  },
  {
    name: 'users connections',
    args: () => ['users', 'connections', 'alice'],
    table: ['USER', 'CONNECTIONS', 'NODES-ANSWERED'],
    wide: ['USER', 'CONNECTIONS', 'NODES-ANSWERED'],
    rows: (rows) => assert.deepEqual(rows, [{ USER: 'alice', CONNECTIONS: '1', 'NODES-ANSWERED': '1/1' }]),
    data: (d) => {
      assert.equal(n(d.connections), 1);
      assert.deepEqual([n(d.answer.expectedResponses), n(d.answer.responsesReceived), d.answer.complete], [1, 1, true]);
    },
    jq: ['.connections', () => ['1']],
  },
  {
    name: 'users terminate',
    args: (f) => ['users', 'terminate', `term-${f}`],
    line: (f) => `user "term-${f}" terminated: 1 connection(s) closed`,
    data: (d) => assert.equal(n(d.connectionsBefore), 1),
    jq: ['.connectionsBefore', () => ['1']],
  },
  {
    name: 'publish',
    args: (f) => ['publish', 'news', 'greeting', JSON.stringify({ format: f })],
    line: () => 'event "greeting" published to 1 channel(s)',
    data: (d) => assert.equal(n(d.channels), 1),
    jq: ['.channels', () => [1]],
  },
  {
    name: 'cluster status',
    args: () => ['cluster', 'status'],
    table: STATUS,
    wide: [...STATUS, 'BUS', 'OBSERVER'],
    tables: 2,
    rows: (rows, f) => {
      const r = oneRow(rows);
      assert.deepEqual([r.STATUS, r.ADAPTER, r.ALIVE, r.SUSPECT, r.DEAD], ['healthy', 'local', '1', '0', '0']);
      if (f === 'wide') assert.equal(r.BUS, 'connected');
    },
    secondTable: ['APP', 'CONNECTIONS', 'CHANNELS'],
    secondRows: (rows) => {
      const fmt = rows.find((r) => r.APP === 'fmt');
      assert.ok(fmt, JSON.stringify(rows));
      assert.match(fmt.CONNECTIONS, /^[1-5]$/);
      assert.equal(fmt.CHANNELS, '2');
    },
    data: (d) => {
      assert.deepEqual([d.status, d.adapter, n(d.aliveNodes), d.busConnected], ['HEALTHY', 'local', 1, true]);
      assert.equal(n(d.apps.find((a) => a.appId === 'fmt').channels), 2);
    },
    jq: ['.status', () => ['HEALTHY']],
    sameValues: false,
  },
  {
    name: 'cluster nodes',
    args: () => ['cluster', 'nodes'],
    table: NODE,
    wide: NODE_WIDE,
    rows: (rows, f) => {
      const r = oneRow(rows);
      assert.equal(r.NODE.replace(/ \*$/, ''), nodeId);
      assert.equal(r.STATE, 'alive');
      assert.match(r['LAST-HEARTBEAT'], /^\d+(ms|s) ago$/);
      assert.match(r.MEMORY, /^\d+(\.\d)?(B|KiB|MiB|GiB)$/);
      if (f === 'wide') assert.deepEqual([r.READY, r.BUS], ['true', 'ok']);
    },
    data: (d) => assert.deepEqual(d.nodes.map((x) => [x.id, x.name, x.state]), [[nodeId, `nodes/${nodeId}`, 'ALIVE']]),
    jq: ['[.nodes[] | select(.state == "DEAD") | .id]', () => [[]]],
    sameValues: false,
  },
  {
    name: 'cluster nodes NODE',
    args: () => ['cluster', 'nodes', nodeId],
    table: NODE,
    wide: NODE_WIDE,
    rows: (rows) => assert.equal(oneRow(rows).NODE.replace(/ \*$/, ''), nodeId),
    data: (d) => assert.deepEqual([d.id, d.state, d.ready], [nodeId, 'ALIVE', true]),
    jq: ['.id', () => [nodeId]],
    sameValues: false,
  },
  {
    name: 'version',
    args: () => ['version'],
    text: (out) => assert.match(out, /^sockudoctl \d+\.\d+\.\d+ \(API sockudo\.controlplane\.v1, gRPC \S+, protobuf \S+\)\n$/),
    data: (d) => {
      assert.deepEqual(Object.keys(d), ['clientVersion']);
      assert.match(d.clientVersion.version, /^\d+\.\d+\.\d+$/);
      assert.equal(d.clientVersion.api, 'sockudo.controlplane.v1');
    },
    jq: ['.clientVersion.api', () => ['sockudo.controlplane.v1']],
  },
  {
    // Prints the file as YAML for table and wide too (as kubectl does). JSON and YAML name the
    // keys as the file does (current-context, ca-file).
    name: 'config view',
    args: () => ['config', 'view'],
    text: (out) => checkConfig(parseYaml(out)),
    data: (d) => checkConfig(d),
    jq: ['.contexts | map(.token // "none")', () => [['REDACTED', 'none']]],
  },
  {
    name: 'config get-contexts',
    args: () => ['config', 'get-contexts'],
    table: CONTEXTS,
    wide: [...CONTEXTS, 'CA-FILE'],
    rows: (rows, f) => assert.deepEqual(rows.map((r) => (f === 'wide' ? [...CONTEXTS, 'CA-FILE'] : CONTEXTS).map((h) => r[h])), [
      ['*', 'local', node.address, '-', 'fmt', 'set', ...(f === 'wide' ? ['-'] : [])],
      ['', 'remote', 'cp.example.com:443', 'true', 'chat', 'none', ...(f === 'wide' ? ['-'] : [])],
    ]),
    data: (d) => checkConfig(d),
    jq: ['.["current-context"]', () => ['local']],
  },
];

// Checks one table (aligned, the expected header words) and returns its rows.
function checkTable(text, headers, what) {
  assert.deepEqual(tableHeaders(text), headers, `${what}: header`);
  const rows = parseTable(text);
  assert.ok(rows.length >= 1, `${what}: no rows`);
  // Every column of every row in the same place: the cells, not only the header, are aligned.
  for (const line of text.trimEnd().split('\n')) assert.equal(line, line.trimEnd(), `${what}: trailing spaces in "${line}"`);
  return rows;
}

function checkTextFormat(row, f, out) {
  const what = `${row.name} -o ${f}`;
  assert.ok(out.endsWith('\n'), `${what}: ends with a newline`);
  if (row.text) return row.text(out, f);
  if (row.line) return assert.equal(out, `${row.line(f)}\n`, what);
  const parts = out.replace(/\n$/, '').split('\n\n');
  assert.equal(parts.length, row.tables || 1, `${what}: tables`);
  row.rows(checkTable(parts[0], row[f], what), f);
  if (row.tables === 2) row.secondRows(checkTable(parts[1], row.secondTable, `${what} (second table)`));
  return undefined;
}

test('every command in -o table, wide, json and yaml, parsed back', async (t) => {
  assert.ok(jqBin(), 'jq is not installed (/usr/bin/jq): scripts/install-deps.sh does not install it');
  const parsed = {};
  for (const f of FORMATS) {
    for (const row of COMMANDS) {
      await t.test(`${row.name} -o ${f}`, async () => {
        const out = await ok([...row.args(f), '-o', f]);
        assert.ok(!out.includes(TOKEN), 'no token in the output');
        if (f === 'table' || f === 'wide') {
          checkTextFormat(row, f, out);
          return;
        }
        let data;
        if (f === 'json') {
          data = JSON.parse(out);
          assert.deepEqual(jq(out), [data], 'jq reads the one JSON value');
          assert.deepEqual(jq(out, row.jq[0]), row.jq[1](f), `jq '${row.jq[0]}'`);
        } else {
          data = parseYaml(out);
          assert.ok(data !== null && typeof data === 'object', `${row.name}: a YAML mapping`);
          if (Object.keys(data).length > 0) assert.doesNotMatch(out, /^\s*[{[]/, 'block-style YAML, not JSON');
        }
        row.data(data, f);
        (parsed[row.name] ||= {})[f] = data;
      });
    }
  }
  // json and yaml have the same fields (and values, where the answer cannot change between the
  // two calls). The per-format apps (fmt-json, fmt-yaml) differ in id, key and secret.
  await t.test('json and yaml carry the same fields', () => {
    for (const row of COMMANDS) {
      const { json, yaml } = parsed[row.name];
      const perFormat = row.args('json').some((a) => /json/.test(a));
      assertSameData(json, yaml, row.name, { values: !perFormat && row.sameValues !== false });
    }
  });
  assert.deepEqual(await waitFor(() => (published.length === FORMATS.length ? published : false), { what: 'the published events' }),
    FORMATS.map((f) => ({ format: f })));
});

test('the embedded control plane serves the live cluster page and its assets on its REST port', async () => {
  const page = await httpRequest({ port: node.restPort, path: '/' });
  assert.equal(page.status, 200);
  assert.equal(page.headers['content-type'], 'text/html; charset=utf-8');
  assert.match(page.text, /^<!doctype html>/i);
  assert.match(page.text, /<\/html>\s*$/);
  assert.match(page.text, /<title>[^<]+<\/title>/);
  const scripts = [...page.text.matchAll(/<script\b[^>]*\bsrc="([^"]+)"/g)].map((m) => m[1]);
  const styles = [...page.text.matchAll(/<link\b[^>]*\brel="stylesheet"[^>]*\bhref="([^"]+)"/g)].map((m) => m[1]);
  assert.ok(scripts.length >= 1, 'the page loads a script');
  assert.ok(styles.length >= 1, 'the page loads a stylesheet');
  for (const src of scripts) {
    assert.match(src, /^\/[^/]/, `${src}: served by the node itself, no CDN`);
    const js = await httpRequest({ port: node.restPort, path: src });
    assert.equal(js.status, 200, src);
    assert.equal(js.headers['content-type'], 'text/javascript; charset=utf-8', src);
    assert.ok(js.text.length > 100, `${src}: a script`);
    assert.doesNotThrow(() => new vm.Script(js.text, { filename: src }), `${src} compiles`);
  }
  for (const href of styles) {
    assert.match(href, /^\/[^/]/, `${href}: served by the node itself, no CDN`);
    const css = await httpRequest({ port: node.restPort, path: href });
    assert.equal(css.status, 200, href);
    assert.equal(css.headers['content-type'], 'text/css; charset=utf-8', href);
    assert.match(css.text, /[^{}\s][^{}]*\{[^{}]*[a-z-]+\s*:[^{}]*\}/, `${href}: CSS rules`);
  }
  // The page needs no token, the API does; other paths are no assets.
  assert.equal((await httpRequest({ port: node.restPort, path: '/v1/apps' })).status, 401);
  const unknown = await httpRequest({ port: node.restPort, path: '/no-such-asset.js', headers: { authorization: `Bearer ${TOKEN}` } });
  assert.equal(unknown.status, 404);
});

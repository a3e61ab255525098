// sockudoctl against a real cluster: two sockudo-node processes and a standalone control plane on
// a redis-server started here (fast heartbeats). `cluster status` and `cluster nodes` show the
// nodes; `cluster watch` in a real terminal (private tmux server) shows a third node joining and
// a killed node turning dead, redrawn in place, and Ctrl-C leaves the shell's screen as it was.
// Also the single node of an embedded control plane.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startCluster, killNode } = require('../support/cluster');
const { startControlPlane } = require('../support/controlplane');
const { waitFor } = require('../support/wait');
const { runCli, startEmbeddedNode, parseTable, parseYaml, sockudoctlBin, Terminal } = require('../support/cli');

const TOKEN = 'cli-cluster-token';
let cluster;
let cp;

before(async () => {
  cluster = await startCluster({ driver: 'redis', nodes: 2, env: { APP_MANAGER_DRIVER: 'redis' } });
  cp = await startControlPlane({ token: TOKEN, env: { ...cluster.env, APP_MANAGER_DRIVER: 'redis' } });
});
after(async () => {
  if (cp) await cp.stop();
  if (cluster) await cluster.stop();
});

const address = () => `127.0.0.1:${cp.grpcPort}`;

async function ctl(args) {
  const r = await runCli(args, { env: { SOCKUDO_SERVER: address(), SOCKUDO_TOKEN: TOKEN } });
  assert.equal(r.code, 0, `sockudoctl ${args.join(' ')} exited ${r.code}:\n${r.stderr}`);
  return r.stdout;
}

// The nodes the control plane lists, once `predicate(nodes)` holds.
async function nodesWhen(predicate, what) {
  return waitFor(async () => {
    const { nodes = [] } = JSON.parse(await ctl(['cluster', 'nodes', '-o', 'json']));
    return predicate(nodes) ? nodes : false;
  }, { timeoutMs: 15000, intervalMs: 100, what });
}

// Rows of the live table on a captured screen: { id: state }.
function nodeStates(screen) {
  const states = {};
  for (const line of screen.split('\n')) {
    const m = /^(\S+)( \*)?\s+(alive|suspect|dead)(,draining)?\s/.exec(line);
    if (m && m[1] !== 'NODE') states[m[1]] = m[3];
  }
  return states;
}

test('cluster status and nodes list the two nodes of a redis cluster, in every format', async () => {
  const nodes = await nodesWhen((n) => n.filter((x) => x.state === 'ALIVE').length === 2, 'two alive nodes');
  assert.equal(nodes.length, 2);
  for (const n of nodes) {
    assert.equal(n.name, `nodes/${n.id}`);
    assert.ok(n.lastHeartbeatTime, 'a heartbeat time');
  }
  const status = JSON.parse(await ctl(['cluster', 'status', '-o', 'json']));
  assert.equal(status.adapter, 'redis');
  assert.equal(status.aliveNodes, 2);
  assert.equal(status.status, 'HEALTHY');
  assert.equal(status.busConnected, true);
  const statusYaml = parseYaml(await ctl(['cluster', 'status', '-o', 'yaml']));
  assert.equal(statusYaml.aliveNodes, 2);
  const [statusRow] = parseTable((await ctl(['cluster', 'status'])).split('\n\n')[0]);
  assert.equal(statusRow.STATUS, 'healthy');
  assert.equal(statusRow.ALIVE, '2');

  const table = parseTable(await ctl(['cluster', 'nodes']));
  assert.deepEqual(table.map((r) => r.NODE.replace(' *', '')).sort(), nodes.map((n) => n.id).sort());
  assert.ok(table.every((r) => r.STATE === 'alive' && /ago$/.test(r['LAST-HEARTBEAT'])));
  assert.equal(table.filter((r) => r.NODE.endsWith(' *')).length, 1, 'one leader');
  const wide = parseTable(await ctl(['cluster', 'nodes', '-o', 'wide']));
  assert.ok(wide.every((r) => r.READY === 'true' && r.BUS === 'ok'));
  const yaml = parseYaml(await ctl(['cluster', 'nodes', '-o', 'yaml']));
  assert.deepEqual(yaml.nodes.map((n) => n.id).sort(), nodes.map((n) => n.id).sort());
  const one = JSON.parse(await ctl(['cluster', 'nodes', nodes[0].id, '-o', 'json']));
  assert.equal(one.id, nodes[0].id);
});

test('cluster watch in a terminal: a third node joins, a killed node turns dead; Ctrl-C leaves no trace', async (t) => {
  const term = await Terminal.start({ width: 180, height: 30, env: { SOCKUDO_TOKEN: TOKEN } });
  if (!term) { t.skip('tmux is not installed'); return; }
  try {
    const before2 = await nodesWhen((n) => n.filter((x) => x.state === 'ALIVE').length === 2, 'two alive nodes');
    const [first, second] = before2.map((n) => n.id);
    term.type(`clear; echo before-watch; '${sockudoctlBin()}' cluster watch --server ${address()}; echo "watch-exit=$?"`);
    await term.waitForScreen((s) => nodeStates(s)[first] === 'alive' && nodeStates(s)[second] === 'alive', 'both nodes alive in the watch');

    const third = await cluster.addNode();
    const after3 = await nodesWhen((n) => n.filter((x) => x.state === 'ALIVE').length === 3, 'three alive nodes');
    const thirdId = after3.map((n) => n.id).find((id) => id !== first && id !== second);
    let screen = await term.waitForScreen((s) => nodeStates(s)[thirdId] === 'alive' && new RegExp(`NODE_JOINED +${thirdId}`).test(s),
      'the third node joining in the watch', 15000);
    assert.match(screen, /3 nodes: 3 alive, 0 suspect, 0 dead/);

    await killNode(cluster.nodes[0]);
    // Which id was the killed node: the one the control plane stops hearing from.
    const dead = await nodesWhen((n) => n.some((x) => x.state === 'DEAD'), 'a dead node');
    const deadId = dead.find((x) => x.state === 'DEAD').id;
    screen = await term.waitForScreen((s) => nodeStates(s)[deadId] === 'dead' && new RegExp(`NODE_DEAD +${deadId}`).test(s),
      'the killed node dead in the watch', 15000);
    assert.match(screen, /3 nodes: 2 alive, 0 suspect, 1 dead/);
    assert.equal(screen.match(/^NODE\s+STATE/mg).length, 1, 'redrawn in place');
    assert.equal(third.exited(), null);

    term.keys('C-c');
    screen = await term.waitForScreen((s) => /watch-exit=\d+/.test(s), 'the shell after Ctrl-C');
    assert.match(screen, /watch-exit=0/);
    assert.match(screen, /before-watch/);
    assert.doesNotMatch(screen, /NODE|alive|Ctrl-C to quit/);
    assert.equal(term.format('#{alternate_on}'), '0');
    assert.equal(term.format('#{cursor_flag}'), '1');
  } finally {
    term.stop();
  }
});

test('the embedded control plane shows its one node', async () => {
  const embedded = await startEmbeddedNode();
  try {
    const run = async (args) => {
      const r = await runCli([...args, '--server', embedded.address]);
      assert.equal(r.code, 0, r.stderr);
      return r.stdout;
    };
    const status = JSON.parse(await run(['cluster', 'status', '-o', 'json']));
    assert.equal(status.adapter, 'local');
    assert.equal(status.aliveNodes, 1);
    const { nodes } = JSON.parse(await run(['cluster', 'nodes', '-o', 'json']));
    assert.equal(nodes.length, 1);
    assert.equal(nodes[0].state, 'ALIVE');
  } finally {
    await embedded.stop();
  }
});

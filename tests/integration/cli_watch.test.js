// `sockudoctl cluster watch` in a real terminal (a private tmux server) and through pipes, fed by
// a scripted Cluster service so every event is chosen by the test: the live table is redrawn in
// place as nodes join, change and die; a resize redraws within the new width; Ctrl-C and SIGTERM
// leave the shell's screen as it was (alternate screen left, cursor shown, exit 0); without a
// terminal each event is one line (or one JSON object / YAML document); a stream that fails
// restores the terminal and exits 3 naming the address.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const { waitFor } = require('../support/wait');
const { sockudoctlBin, cliEnv, startFakeCluster, parseYamlStream, Terminal } = require('../support/cli');

let fake;
before(async () => { fake = await startFakeCluster(); });
after(() => fake && fake.stop());

const shellQuote = (s) => `'${s.replace(/'/g, `'\\''`)}'`;
const watchCommand = (extra = '') => `${shellQuote(sockudoctlBin())} cluster watch --server ${fake.address}${extra}`;

// Rows of the node table on a captured screen: { id: line }.
function nodeRows(screen) {
  const rows = {};
  for (const line of screen.split('\n')) {
    const m = /^(node-\w+)( \*)?\s+(alive|suspect|dead|unknown)/.exec(line);
    if (m) rows[m[1]] = line;
  }
  return rows;
}

async function waitForWatchers(n) {
  await waitFor(() => fake.watchers() === n, { what: `${n} WatchCluster stream(s) on the scripted server` });
}

test('live view in a terminal: redrawn in place as nodes join, change and die; Ctrl-C leaves no trace', async (t) => {
  const term = await Terminal.start({ width: 160, height: 30 });
  if (!term) { t.skip('tmux is not installed'); return; }
  try {
    fake.add('node-a', { connections: '3', channels: '2', leader: true });
    term.type(`clear; echo before-watch; ${watchCommand()}; echo "watch-exit=$?"`);
    let screen = await term.waitForScreen((s) => nodeRows(s)['node-a'], 'node-a in the live table');
    assert.equal(term.format('#{alternate_on}'), '1', 'the view runs on the alternate screen');
    assert.equal(term.format('#{cursor_flag}'), '0', 'the cursor is hidden while it runs');
    assert.match(screen, /^sockudoctl cluster watch {3}127\.0\.0\.1:\d+ {3}1 nodes: 1 alive, 0 suspect, 0 dead/m);
    assert.match(screen, /^NODE\s+STATE\s+ADDRESS\s+CONNECTIONS\s+CHANNELS\s+MEMORY\s+LAST-HEARTBEAT$/m);
    assert.match(nodeRows(screen)['node-a'], /^node-a \*\s+alive\s+10\.0\.0\.6:6001\s+3\s+2\s+32\.0MiB\s+\d+(ms|s) ago$/);
    assert.doesNotMatch(screen, /before-watch/, 'the shell screen is not visible behind the view');
    await waitForWatchers(1);

    fake.emit('NODE_JOINED', 'node-b');
    screen = await term.waitForScreen((s) => nodeRows(s)['node-b'], 'node-b to appear');
    assert.match(screen, /2 nodes: 2 alive, 0 suspect, 0 dead/);
    assert.match(screen, /^\d\d:\d\d:\d\d {2}NODE_JOINED +node-b$/m);

    fake.emit('NODE_UPDATED', 'node-b', { connections: '41' });
    screen = await term.waitForScreen((s) => / 41 /.test(nodeRows(s)['node-b'] || ''), 'node-b\'s connections to change');
    assert.doesNotMatch(screen, /NODE_UPDATED/, 'updates change the table, not the event list');

    fake.emit('NODE_SUSPECT', 'node-a', { state: 'SUSPECT' });
    await term.waitForScreen((s) => /suspect/.test(nodeRows(s)['node-a'] || ''), 'node-a suspect');
    fake.emit('NODE_DEAD', 'node-a', { state: 'DEAD', leader: false });
    screen = await term.waitForScreen((s) => /^node-a\s+dead/.test(nodeRows(s)['node-a'] || ''), 'node-a dead');
    assert.match(screen, /2 nodes: 1 alive, 0 suspect, 1 dead/);
    assert.match(screen, /NODE_SUSPECT +node-a\n.*NODE_DEAD +node-a/);
    // Redrawn in place: one title, one header, one row per node, whatever came before.
    assert.equal(screen.match(/^sockudoctl cluster watch/mg).length, 1);
    assert.equal(screen.match(/^NODE\s+STATE/mg).length, 1);
    assert.equal(screen.match(/^node-a/mg).length, 1);
    fake.emit('NODE_FORGOTTEN', 'node-a');
    screen = await term.waitForScreen((s) => !nodeRows(s)['node-a'] && /NODE_FORGOTTEN +node-a/.test(s), 'node-a forgotten');
    assert.match(screen, /1 nodes: 1 alive/);

    // A narrower terminal: redrawn within its width, nothing wraps.
    term.tmux(['resize-window', '-t', 'cli', '-x', '50', '-y', '20']);
    screen = await term.waitForScreen((s) => s.split('\n').some((l) => l.startsWith('NODE ')) &&
      !s.split('\n').some((l) => l.length > 50) && nodeRows(s)['node-b'], 'a redraw at 50 columns');
    assert.equal(screen.match(/^node-b/mg).length, 1);

    term.keys('C-c');
    screen = await term.waitForScreen((s) => /watch-exit=\d+/.test(s), 'the shell after Ctrl-C');
    assert.match(screen, /watch-exit=0/);
    assert.match(screen, /before-watch/, 'the shell\'s screen is back');
    assert.doesNotMatch(screen, /NODE|node-a|node-b|Ctrl-C to quit|sockudoctl cluster watch {3}/, 'nothing of the view is left');
    assert.doesNotMatch(term.captureRaw(), /\x1b\[\?/, 'no stray escape sequences');
    assert.equal(term.format('#{alternate_on}'), '0');
    assert.equal(term.format('#{cursor_flag}'), '1', 'the cursor is visible again');
    await waitForWatchers(0);
  } finally {
    term.stop();
    fake.emit('NODE_FORGOTTEN', 'node-b');
  }
});

test('SIGTERM and a failing stream also restore the terminal; an error from the server exits 1, a vanished server 3 naming the address', async (t) => {
  const term = await Terminal.start({ width: 160, height: 30 });
  if (!term) { t.skip('tmux is not installed'); return; }
  try {
    fake.add('node-t');
    const pidFile = require('node:path').join(term.dir, 'watch.pid');
    term.type(`clear; echo before-term; ${watchCommand()} & echo $! > ${pidFile}; wait $!; echo "watch-exit=$?"`);
    await term.waitForScreen((s) => nodeRows(s)['node-t'], 'node-t in the live table');
    await waitForWatchers(1);
    const pid = Number(require('node:fs').readFileSync(pidFile, 'utf8'));
    assert.ok(pid > 0, 'the pid of the watch');
    process.kill(pid, 'SIGTERM');
    let screen = await term.waitForScreen((s) => /watch-exit=\d+/.test(s), 'the shell after SIGTERM');
    assert.match(screen, /watch-exit=0/);
    assert.doesNotMatch(screen, /NODE|node-t/);
    assert.equal(term.format('#{alternate_on}'), '0');
    assert.equal(term.format('#{cursor_flag}'), '1');
    await waitForWatchers(0);

    term.type(`clear; ${watchCommand()}; echo "watch-exit=$?"`);
    await term.waitForScreen((s) => nodeRows(s)['node-t'], 'node-t again');
    await waitForWatchers(1);
    fake.failStreams();
    screen = await term.waitForScreen((s) => /watch-exit=\d+/.test(s), 'the shell after the stream failed');
    assert.match(screen, /watch-exit=1/, 'the server ended the stream with an error while connected: 1');
    assert.match(screen, /Error from server \(UNAVAILABLE\): control plane shutting down/);
    assert.doesNotMatch(screen, /node-t/);
    assert.equal(term.format('#{cursor_flag}'), '1');

    // The control plane goes away altogether: 3, with the address.
    const gone = await startFakeCluster();
    gone.add('node-g');
    term.type(`clear; ${shellQuote(sockudoctlBin())} cluster watch --server ${gone.address}; echo "watch-exit=$?"`);
    await term.waitForScreen((s) => nodeRows(s)['node-g'], 'node-g in the live table');
    gone.forceStop();
    screen = await term.waitForScreen((s) => /watch-exit=\d+/.test(s), 'the shell after the control plane went away');
    assert.match(screen, /watch-exit=3/);
    assert.match(screen, new RegExp(`cannot reach the control plane at ${gone.address.replace(/\./g, '\\.')}`));
    assert.doesNotMatch(screen, /node-g/);
    assert.equal(term.format('#{alternate_on}'), '0');
    assert.equal(term.format('#{cursor_flag}'), '1');
  } finally {
    term.stop();
    fake.emit('NODE_FORGOTTEN', 'node-t');
  }
});

// Runs `cluster watch` with pipes; `lines()` is what it printed so far.
function watchPiped(args = []) {
  const child = spawn(sockudoctlBin(), ['cluster', 'watch', '--server', fake.address, ...args], { env: cliEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => { stdout += d; });
  child.stderr.on('data', (d) => { stderr += d; });
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return { child, exited, stdout: () => stdout, stderr: () => stderr, lines: () => stdout.split('\n').filter(Boolean) };
}

test('without a terminal: one line per event, JSON lines with -o json, YAML documents with -o yaml; SIGINT exits 0', async () => {
  fake.add('node-p', { connections: '7' });
  const plain = watchPiped();
  await waitFor(() => plain.lines().length === 1, { what: 'the snapshot line' });
  await waitForWatchers(1);
  assert.match(plain.lines()[0], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z SNAPSHOT node-p state=alive address=10\.0\.0\.6:6001 connections=7 channels=0 memory=32\.0MiB$/);
  fake.emit('NODE_JOINED', 'node-q');
  await waitFor(() => plain.lines().length === 2, { what: 'the join line' });
  assert.match(plain.lines()[1], / NODE_JOINED node-q state=alive /);
  assert.doesNotMatch(plain.stdout(), /\x1b/, 'no escape sequences in a pipe');

  const json = watchPiped(['-o', 'json']);
  const yaml = watchPiped(['-o', 'yaml']);
  await waitFor(() => json.lines().length === 2 && yaml.stdout().split('---').length === 3, { what: 'the snapshots as JSON and YAML' });
  await waitForWatchers(3);
  fake.emit('NODE_DEAD', 'node-p', { state: 'DEAD' });
  await waitFor(() => json.lines().length === 3 && yaml.stdout().split('---').length === 4 && plain.lines().length === 3, { what: 'the death everywhere' });
  const events = json.lines().map((l) => JSON.parse(l));
  assert.deepEqual(events.map((e) => [e.type, e.node.id]).sort(), [['NODE_DEAD', 'node-p'], ['SNAPSHOT', 'node-p'], ['SNAPSHOT', 'node-q']]);
  assert.equal(events[2].node.state, 'DEAD');
  assert.equal(events[0].node.memoryBytes, String(32 * 1024 * 1024));
  const docs = parseYamlStream(yaml.stdout());
  assert.deepEqual(docs.map((d) => [d.type, d.node.id]), events.map((e) => [e.type, e.node.id]));
  assert.equal(docs[2].node.memoryBytes, 32 * 1024 * 1024);
  assert.match(plain.lines()[2], / NODE_DEAD node-p state=dead /);

  for (const w of [plain, json, yaml]) w.child.kill('SIGINT');
  for (const w of [plain, json, yaml]) assert.deepEqual(await w.exited, { code: 0, signal: null }, w.stderr());
  await waitForWatchers(0);
  fake.emit('NODE_FORGOTTEN', 'node-p');
  fake.emit('NODE_FORGOTTEN', 'node-q');
});

test('cluster nodes / status read the same service: table, wide, json, yaml; an unknown node is NOT_FOUND (exit 1)', async () => {
  const { runCli, parseTable, parseYaml } = require('../support/cli');
  fake.add('node-x', { connections: '5', leader: true });
  fake.add('node-y', { state: 'SUSPECT' });
  const run = (args) => runCli([...args, '--server', fake.address]);
  let r = await run(['cluster', 'nodes']);
  assert.equal(r.code, 0, r.stderr);
  const rows = parseTable(r.stdout);
  assert.deepEqual(rows.map((x) => [x.NODE, x.STATE, x.CONNECTIONS]), [['node-x *', 'alive', '5'], ['node-y', 'suspect', '0']]);
  r = await run(['cluster', 'nodes', '-o', 'wide']);
  assert.deepEqual(parseTable(r.stdout).map((x) => [x.VERSION, x.READY, x.BUS, x.LEADER]), [['0.1.0', 'true', 'ok', 'true'], ['0.1.0', 'true', 'ok', 'false']]);
  const json = JSON.parse((await run(['cluster', 'nodes', '-o', 'json'])).stdout);
  const yaml = parseYaml((await run(['cluster', 'nodes', '-o', 'yaml'])).stdout);
  assert.deepEqual(json.nodes.map((n) => n.id), ['node-x', 'node-y']);
  assert.deepEqual(yaml.nodes.map((n) => [n.id, n.state, n.connections]), [['node-x', 'ALIVE', 5], ['node-y', 'SUSPECT', 0]]);
  r = await run(['cluster', 'nodes', 'node-y', '-o', 'json']);
  assert.equal(JSON.parse(r.stdout).state, 'SUSPECT');
  r = await run(['cluster', 'nodes', 'node-zzz']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /Error from server \(NOT_FOUND\): node nodes\/node-zzz not found/);
  r = await run(['cluster', 'status']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(parseTable(r.stdout)[0].STATUS, 'healthy');
  assert.equal(JSON.parse((await run(['cluster', 'status', '-o', 'json'])).stdout).aliveNodes, 2);
  fake.emit('NODE_FORGOTTEN', 'node-x');
  fake.emit('NODE_FORGOTTEN', 'node-y');
});

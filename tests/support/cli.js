// sockudoctl in tests: runs the real binary (next to sockudo-node in the same build tree, or
// SOCKUDOCTL_BIN) with an isolated HOME / XDG_CONFIG_HOME (optionally in a network namespace of
// its own), starts a node with its embedded control plane on free loopback ports, reads back what
// sockudoctl prints (YAML with the `yaml` package, JSON through the real jq, aligned tables), and
// drives a terminal in a private tmux server for `cluster watch`.
'use strict';
const assert = require('node:assert/strict');
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const YAML = require('yaml');
const { startServer, freePorts, SANITIZER_VARS } = require('./server');
const { waitFor } = require('./wait');

function sockudoctlBin() {
  if (process.env.SOCKUDOCTL_BIN) return process.env.SOCKUDOCTL_BIN;
  const node = process.env.SOCKUDO_NODE_BIN;
  if (!node) throw new Error('SOCKUDO_NODE_BIN is not set (run the tests through ctest)');
  return path.join(path.dirname(node), '..', 'cli', 'sockudoctl');
}

// A fresh directory as HOME and XDG_CONFIG_HOME, so no test reads or writes a real config file.
function isolatedHome() {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'sockudoctl-home-'));
  return { HOME: home, XDG_CONFIG_HOME: path.join(home, '.config') };
}

// The environment of sockudoctl: PATH, an isolated home, no SOCKUDO_* of the caller, plus `env`
// (a value of null removes the variable).
function cliEnv(env = {}, home = isolatedHome()) {
  const base = { PATH: process.env.PATH, ...home };
  for (const k of SANITIZER_VARS) if (process.env[k]) base[k] = process.env[k];
  const merged = { ...base, ...env };
  for (const k of Object.keys(merged)) if (merged[k] === null) delete merged[k];
  return merged;
}

// Runs sockudoctl to completion: { code, stdout, stderr }. `input` is written to its stdin;
// `prefix` is a command it runs under (privateNetworkPrefix()).
function runCli(args, { env = {}, home, input = null, timeoutMs = 20000, prefix = [] } = {}) {
  return new Promise((resolve, reject) => {
    const [bin, ...argv] = [...prefix, sockudoctlBin(), ...args];
    const child = spawn(bin, argv, { env: cliEnv(env, home), stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`sockudoctl ${args.join(' ')} timed out`)); }, timeoutMs);
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    child.on('exit', (code, signal) => { clearTimeout(timer); resolve({ code, signal, stdout, stderr }); });
    if (input !== null) child.stdin.end(input); else child.stdin.end();
  });
}

// A command prefix that runs a program in a network namespace of its own, where nothing listens
// on 127.0.0.1 whatever this machine runs: `unshare --net` (as root) or `unshare --map-root-user
// --net`. null where unshare is missing or namespaces are not allowed.
function privateNetworkPrefix() {
  const unshare = ['/usr/bin/unshare', '/bin/unshare'].find((p) => fs.existsSync(p));
  if (!unshare) return null;
  for (const flags of process.getuid() === 0 ? [['--net'], ['--map-root-user', '--net']] : [['--map-root-user', '--net']]) {
    if (spawnSync(unshare, [...flags, 'true'], { timeout: 10000 }).status === 0) return [unshare, ...flags, '--'];
  }
  return null;
}

// A sockudo-node with its embedded control plane (adapter local) on free ports; `token` protects
// it; `cliArgs` (e.g. --ca-file for a TLS control plane) go with the readiness check's calls.
// Resolves { server, grpcPort, restPort, address, token, stop }.
async function startEmbeddedNode({ token = null, env = {}, config = null, cliArgs = [] } = {}) {
  let lastError;
  for (let attempt = 0; attempt < 3; attempt++) {
    const [grpcPort, restPort] = await freePorts(2);
    let server;
    try {
      server = await startServer({
        config,
        env: { SOCKUDO_CONTROL_PLANE_EMBEDDED: 'true', CONTROL_PLANE_GRPC_PORT: String(grpcPort),
               CONTROL_PLANE_REST_PORT: String(restPort), LOG_LEVEL: 'info',
               ADAPTER_CLUSTER_HEALTH_HEARTBEAT_INTERVAL_MS: '200',
               ...(token ? { CONTROL_PLANE_TOKEN: token } : {}), ...env },
      });
    } catch (e) {
      // Another process took a control-plane port between freePort() and the bind: try again.
      if (/cannot listen|Address already in use|control plane/.test(String(e.message))) { lastError = e; continue; }
      throw e;
    }
    await waitFor(() => /embedded control plane: grpc/.test(server.output()), { what: 'the embedded control plane to listen' });
    // Its view of the node comes from the node's heartbeats: cluster-wide answers (channels,
    // users) count the node once the first one arrived.
    const address = `127.0.0.1:${grpcPort}`;
    await waitFor(async () => {
      const r = await runCli(['cluster', 'status', '-o', 'json', ...cliArgs], { env: { SOCKUDO_SERVER: address, SOCKUDO_TOKEN: token } });
      return r.code === 0 && JSON.parse(r.stdout).aliveNodes === 1;
    }, { timeoutMs: 10000, intervalMs: 50, what: 'the embedded control plane to see its node alive' });
    return { server, grpcPort, restPort, address, token, stop: () => server.stop() };
  }
  throw lastError;
}

// ---- YAML ----------------------------------------------------------------------------------
// sockudoctl's YAML read back with the `yaml` package (YAML 1.2, core schema). Any error or
// warning (bad indentation, a duplicate key, several documents where one is expected) throws, so a
// change in the output shows up as a failing test.

function checkedYaml(doc) {
  const problems = [...doc.errors, ...doc.warnings];
  if (problems.length) throw new Error(`YAML: ${problems.map((p) => p.message).join('; ')}`);
  return doc.toJS();
}

function parseYaml(text) { return checkedYaml(YAML.parseDocument(text, { uniqueKeys: true })); }

// Documents of a "---"-separated stream (cluster watch -o yaml).
function parseYamlStream(text) {
  return YAML.parseAllDocuments(text, { uniqueKeys: true }).map(checkedYaml);
}

// ---- jq -------------------------------------------------------------------------------------
// The real jq binary (scripts/install-deps.sh does not install it: null when it is missing).
function jqBin() { return ['/usr/bin/jq', '/usr/local/bin/jq'].find((p) => fs.existsSync(p)) || null; }

// Pipes `text` into `jq -c FILTER`; the values jq printed, parsed. Throws when jq fails (invalid
// JSON, a filter that does not apply).
function jq(text, filter = '.') {
  const r = spawnSync(jqBin(), ['-c', filter], { input: text, encoding: 'utf8', timeout: 10000 });
  if (r.status !== 0) throw new Error(`jq '${filter}' exited ${r.status}: ${r.stderr}`);
  return r.stdout.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l));
}

// ---- -o json against -o yaml ------------------------------------------------------------------
// JSON prints int64 as strings (protobuf's JSON mapping), YAML as numbers: otherwise the same
// fields. With `values` false only the keys and the kinds of values are compared (two calls
// whose answers differ, e.g. in heartbeat ages).
function assertSameData(json, yaml, where = '', { values = true } = {}) {
  if (typeof yaml === 'number' && typeof json === 'string' && /^-?\d+(\.\d+)?$/.test(json)) {
    if (values) assert.equal(Number(json), yaml, where);
    return;
  }
  if (Array.isArray(json)) {
    assert.ok(Array.isArray(yaml), `${where}: array expected, got ${JSON.stringify(yaml)}`);
    if (values) assert.equal(yaml.length, json.length, `${where}: length`);
    json.slice(0, Math.min(json.length, yaml.length)).forEach((v, k) => assertSameData(v, yaml[k], `${where}[${k}]`, { values }));
    return;
  }
  if (json !== null && typeof json === 'object') {
    assert.ok(yaml !== null && typeof yaml === 'object' && !Array.isArray(yaml), `${where}: object expected, got ${JSON.stringify(yaml)}`);
    assert.deepEqual(Object.keys(yaml).sort(), Object.keys(json).sort(), `${where}: keys`);
    for (const k of Object.keys(json)) assertSameData(json[k], yaml[k], `${where}.${k}`, { values });
    return;
  }
  if (values) assert.equal(yaml, json, where);
  else assert.equal(typeof yaml, typeof json, `${where}: ${JSON.stringify(json)} vs ${JSON.stringify(yaml)}`);
}

// ---- tables ---------------------------------------------------------------------------------
// Parses an aligned table: the column of each header starts where the header word starts, and
// every cell of every row starts exactly at its column (after a space; a cell is blank or starts
// with a non-space there, and holds no run of spaces). Returns [{HEADER: cell}]; misaligned rows
// throw.
function parseTable(text) {
  const lines = text.split('\n').filter((l) => l !== '');
  const header = lines[0];
  const starts = [];
  const re = /\S+/g;
  let m;
  while ((m = re.exec(header))) starts.push({ name: m[0], at: m.index });
  return lines.slice(1).map((line) => {
    const row = {};
    starts.forEach((col, k) => {
      const end = k + 1 < starts.length ? starts[k + 1].at : line.length;
      const cell = line.slice(col.at, end);
      if ((col.at > 0 && line.length > col.at && line[col.at - 1] !== ' ') || (cell.trim() !== '' && cell[0] === ' ')) {
        throw new Error(`table: cell of ${col.name} does not start at column ${col.at}: "${line}"`);
      }
      // Two spaces inside a cell: the next cell started left of its column.
      if (/\S {2,}\S/.test(cell)) throw new Error(`table: cell of ${col.name} runs into the next column: "${line}"`);
      row[col.name] = cell.trim();
    });
    return row;
  });
}

// The header words of a table's first line.
function tableHeaders(text) { return text.split('\n')[0].trim().split(/\s+/); }

// ---- tmux -----------------------------------------------------------------------------------
// A private tmux server (own socket, no user config) with one window running `sh`, for driving
// sockudoctl in a real terminal. stop() kills that server only.
class Terminal {
  static async start({ width = 200, height = 40, env = {} } = {}) {
    const tmux = ['/usr/bin/tmux', '/usr/local/bin/tmux'].find((p) => fs.existsSync(p));
    if (!tmux) return null;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sockudoctl-tmux-'));
    const t = new Terminal(tmux, path.join(dir, 'socket'), dir);
    const shEnv = { ...cliEnv(env), PS1: '$ ', TERM: 'xterm-256color', ENV: '' };
    const r = t.tmux(['-f', '/dev/null', 'new-session', '-d', '-s', 'cli', '-x', String(width), '-y', String(height), 'sh'], shEnv);
    if (r.status !== 0) throw new Error(`tmux new-session failed: ${r.stderr}`);
    await waitFor(() => /^[$#] ?$/m.test(t.capture()), { what: 'the shell prompt in tmux' });
    return t;
  }

  constructor(bin, socket, dir) { this.bin = bin; this.socket = socket; this.dir = dir; }

  tmux(args, env = process.env) {
    return spawnSync(this.bin, ['-S', this.socket, ...args], { encoding: 'utf8', env, timeout: 10000 });
  }

  // Types `text` and Enter.
  type(text) { this.tmux(['send-keys', '-t', 'cli', '-l', text]); this.tmux(['send-keys', '-t', 'cli', 'Enter']); }
  keys(...keys) { this.tmux(['send-keys', '-t', 'cli', ...keys]); }
  // The visible screen as text (the alternate screen while a full-screen program runs).
  capture() { return this.tmux(['capture-pane', '-p', '-t', 'cli']).stdout || ''; }
  // With escape sequences (-e), to see what the program left behind.
  captureRaw() { return this.tmux(['capture-pane', '-p', '-e', '-t', 'cli']).stdout || ''; }
  format(f) { return (this.tmux(['display-message', '-p', '-t', 'cli', f]).stdout || '').trim(); }

  async waitForScreen(predicate, what, timeoutMs = 10000) {
    return waitFor(() => { const s = this.capture(); return predicate(s) ? s : false; }, { timeoutMs, what });
  }

  stop() {
    this.tmux(['kill-server']);
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

// ---- a scripted Cluster service ------------------------------------------------------------
// A gRPC server of sockudo.controlplane.v1.Cluster (@grpc/grpc-js) whose nodes the test sets, so
// the views of `cluster watch` can be checked event by event. WatchCluster sends a SNAPSHOT per
// known node, then every event given to emit(); ListNodes / GetClusterHealth answer from the same
// nodes. Loopback, a free port, stop() ends it.
// Options: `tls` { key, cert } (PEM) serves TLS; `token` requires "authorization: Bearer <token>";
// `slowHealth` leaves GetClusterHealth unanswered (deadline tests). `seen` records the metadata
// of each call.
async function startFakeCluster({ tls = null, token = null, slowHealth = false } = {}) {
  const grpc = require('@grpc/grpc-js');
  const loader = require('@grpc/proto-loader');
  const definition = loader.loadSync('sockudo/controlplane/v1/cluster.proto', {
    includeDirs: [path.join(__dirname, '..', '..', 'proto')], keepCase: false, longs: String, enums: String, defaults: false,
  });
  const Cluster = grpc.loadPackageDefinition(definition).sockudo.controlplane.v1.Cluster;
  const nodes = new Map();
  const streams = new Set();
  const now = () => { const ms = Date.now(); return { seconds: String(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1e6 }; };
  const seen = [];
  const pending = [];
  // False (and answers UNAUTHENTICATED) when the call lacks the token.
  const authorized = (call, cb) => {
    const auth = call.metadata.get('authorization');
    seen.push({ authorization: auth.length ? String(auth[0]) : null, userAgent: String(call.metadata.get('user-agent')[0] || '') });
    if (!token || auth[0] === `Bearer ${token}`) return true;
    const error = { code: grpc.status.UNAUTHENTICATED, details: 'invalid bearer token' };
    if (cb) cb(error); else call.emit('error', error);
    return false;
  };
  const server = new grpc.Server();
  server.addService(Cluster.service, {
    ListNodes: (call, cb) => authorized(call, cb) && cb(null, { nodes: [...nodes.values()] }),
    GetNode: (call, cb) => {
      if (!authorized(call, cb)) return;
      const n = nodes.get(call.request.name.replace(/^nodes\//, ''));
      cb(...(n ? [null, n] : [{ code: grpc.status.NOT_FOUND, details: `node ${call.request.name} not found` }]));
    },
    GetClusterHealth: (call, cb) => {
      if (!authorized(call, cb)) return;
      if (slowHealth) { pending.push(cb); return; }
      cb(null, { status: 'HEALTHY', adapter: 'fake', busConnected: true, aliveNodes: nodes.size });
    },
    WatchCluster: (call) => {
      if (!authorized(call, null)) return;
      for (const n of nodes.values()) call.write({ type: 'SNAPSHOT', node: n, time: now() });
      streams.add(call);
      call.on('cancelled', () => streams.delete(call));
      call.on('close', () => streams.delete(call));
    },
  });
  const credentials = tls
    ? grpc.ServerCredentials.createSsl(null, [{ private_key: Buffer.from(tls.key), cert_chain: Buffer.from(tls.cert) }])
    : grpc.ServerCredentials.createInsecure();
  const port = await new Promise((resolve, reject) => server.bindAsync('127.0.0.1:0', credentials,
    (err, p) => (err ? reject(err) : resolve(p))));
  const node = (id, extra = {}) => ({
    name: `nodes/${id}`, id, address: `10.0.0.${id.length}:6001`, version: '0.1.0', state: 'ALIVE', connections: '0', channels: '0',
    memoryBytes: String(32 * 1024 * 1024), lastHeartbeatTime: now(), lastHeartbeatAgeMs: '120', ready: true, busHealthy: true, ...extra,
  });
  return {
    address: `127.0.0.1:${port}`,
    seen,
    watchers: () => streams.size,
    // Sets node `id` (merging `fields`) and sends `type` about it to every open stream.
    emit(type, id, fields = {}) {
      const n = { ...(nodes.get(id) || node(id)), ...fields, lastHeartbeatTime: now() };
      if (type === 'NODE_FORGOTTEN') nodes.delete(id); else nodes.set(id, n);
      for (const call of streams) call.write({ type, node: n, time: now() });
    },
    // Known before any stream opens (sent as SNAPSHOT).
    add(id, fields = {}) { nodes.set(id, node(id, fields)); },
    // Ends every open stream with an error status, as a control plane going away would.
    failStreams(code = grpc.status.UNAVAILABLE, details = 'control plane shutting down') {
      for (const call of streams) call.emit('error', { code, details });
      streams.clear();
    },
    stop: () => new Promise((resolve) => {
      for (const call of streams) call.end();
      for (const cb of pending.splice(0)) cb({ code: grpc.status.CANCELLED, details: 'stopping' });
      server.tryShutdown(() => resolve());
    }),
    forceStop: () => server.forceShutdown(),
  };
}

module.exports = {
  startFakeCluster, sockudoctlBin, runCli, cliEnv, isolatedHome, privateNetworkPrefix, startEmbeddedNode,
  parseYaml, parseYamlStream, parseTable, tableHeaders, jqBin, jq, assertSameData, Terminal,
};

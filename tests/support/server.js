// Starts the real sockudo-node binary on free loopback ports, waits until it is ready, and stops
// exactly the process it started.
'use strict';
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { waitFor, httpRequest } = require('./wait');

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

// `n` free ports, all different: asked one after the other, the kernel may hand out one twice.
async function freePorts(n) {
  const ports = [];
  while (ports.length < n) {
    const p = await freePort();
    if (!ports.includes(p)) ports.push(p);
  }
  return ports;
}

// Environment of the child: the caller's PATH and nothing that could configure the server by
// accident, plus what the test asks for.
const SANITIZER_VARS = ['ASAN_OPTIONS', 'LSAN_OPTIONS', 'UBSAN_OPTIONS', 'TSAN_OPTIONS'];

function childEnv(extra) {
  // The embedded control plane (on by default with the local adapter) only where a test asks for
  // it: parallel test nodes would race for its fixed default ports.
  const env = { PATH: process.env.PATH, HOME: process.env.HOME || os.tmpdir(), LOG_LEVEL: 'warn',
                SOCKUDO_CONTROL_PLANE_EMBEDDED: 'false' };
  // ctest runs some files a second time with the epoll write path (see tests/CMakeLists.txt).
  if (process.env.WEBSOCKET_IO_URING) env.WEBSOCKET_IO_URING = process.env.WEBSOCKET_IO_URING;
  // Sanitizer settings (suppressions, halt_on_error) reach the binaries under test.
  for (const k of SANITIZER_VARS) if (process.env[k]) env[k] = process.env[k];
  // A variable given as null is left out (to test a default).
  const merged = { ...env, ...extra };
  for (const k of Object.keys(merged)) if (merged[k] === null) delete merged[k];
  return merged;
}

function binary() {
  const bin = process.env.SOCKUDO_NODE_BIN;
  if (!bin) throw new Error('SOCKUDO_NODE_BIN is not set (run the tests through ctest)');
  return bin;
}

// Runs `bin` to completion (for --help, --check-config, bad config) and returns its result.
function runBinary(bin, args, env = {}, timeoutMs = 10000) {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error('timed out')); }, timeoutMs);
    child.on('exit', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
  });
}

function runOnce(args, env = {}, timeoutMs = 10000) {
  return runBinary(binary(), args, env, timeoutMs);
}

// Collects a started process's output and exit, and stops it: SIGTERM, SIGKILL after 10 s, then
// asserts a clean exit (code 0) and no sanitizer report in what it printed.
function watchProcess(child, name) {
  let output = '';
  child.stdout.on('data', (d) => { output += d; });
  child.stderr.on('data', (d) => { output += d; });
  let exited = null;
  const exitPromise = new Promise((resolve) => child.on('exit', (code, signal) => { exited = { code, signal }; resolve(exited); }));
  return {
    output: () => output,
    exited: () => exited,
    exitPromise,
    async stop() {
      if (!exited) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => { if (!exited) child.kill('SIGKILL'); }, 10000);
        await exitPromise;
        clearTimeout(timer);
      }
      assert.doesNotMatch(output, /ERROR: (Address|Leak|Thread)Sanitizer|runtime error:/, `sanitizer report from ${name}`);
      assert.equal(exited.code, 0, `${name} exited with ${JSON.stringify(exited)}:\n${output}`);
      return exited;
    },
  };
}

// Writes `config` (an object) to a temp file and returns its path.
function writeConfig(config) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sockudo-test-'));
  const file = path.join(dir, 'config.json');
  fs.writeFileSync(file, JSON.stringify(config));
  return file;
}

async function startServer({ env = {}, config = null, args = [] } = {}) {
  let lastError;
  for (let attempt = 0; attempt < 3; attempt++) {
    const [port, metricsPort] = await freePorts(2);
    const fullArgs = [...args];
    if (config) fullArgs.push('--config', writeConfig(config));
    const child = spawn(binary(), fullArgs, {
      env: childEnv({ HOST: '127.0.0.1', PORT: String(port), METRICS_HOST: '127.0.0.1',
                      METRICS_PORT: String(metricsPort), WORKER_THREADS: '2', ...env }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const watched = watchProcess(child, 'sockudo-node');
    const { output, exited, exitPromise } = watched;
    try {
      await waitFor(async () => {
        if (exited()) throw new Error(`sockudo-node exited (${JSON.stringify(exited())}):\n${output()}`);
        try {
          const r = await httpRequest({ port: metricsPort, path: '/ready' });
          return r.status === 200;
        } catch (_) {
          return false;
        }
      }, { timeoutMs: 15000, what: 'sockudo-node to become ready' });
    } catch (e) {
      lastError = e;
      if (!exited()) child.kill('SIGKILL');
      await exitPromise;
      if (/Address already in use/.test(output())) continue;  // a port race: try other ports
      throw e;
    }
    return {
      port, metricsPort, child,
      host: '127.0.0.1',
      output, exited,
      // Stops the server; asserts a clean exit and no sanitizer report.
      stop: watched.stop,
    };
  }
  throw lastError;
}

module.exports = { startServer, runOnce, runBinary, watchProcess, childEnv, freePort, freePorts, writeConfig, SANITIZER_VARS };

// Registers before/after hooks of node:test that start a server for the file and stop it, and
// returns a handle whose `server` field is set once it runs; `onReady(server)` runs right after.
function useServer(options = {}, onReady = null) {
  const { before, after } = require('node:test');
  const handle = { server: null };
  before(async () => {
    handle.server = await startServer(options);
    if (onReady) onReady(handle.server);
  });
  after(() => handle.server.stop());
  return handle;
}

// The first message a WebSocket receives, parsed.
function firstFrame(ws) {
  return new Promise((resolve, reject) => {
    ws.once('message', (d) => resolve(JSON.parse(d.toString())));
    ws.once('error', reject);
  });
}

module.exports.useServer = useServer;
module.exports.firstFrame = firstFrame;

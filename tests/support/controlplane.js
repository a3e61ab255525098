// Starts the real sockudo-controlplane binary on free loopback ports, waits until its REST port
// answers, and stops exactly the process it started. Also builds a gRPC client of the Apps API
// from proto/ with @grpc/grpc-js + @grpc/proto-loader.
'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { freePort, childEnv, runBinary, watchProcess } = require('./server');
const { waitFor, httpRequest } = require('./wait');

const PROTO_ROOT = path.join(__dirname, '..', '..', 'proto');

// SOCKUDO_CONTROLPLANE_BIN, else next to sockudo-node in the same build tree.
function binary() {
  if (process.env.SOCKUDO_CONTROLPLANE_BIN) return process.env.SOCKUDO_CONTROLPLANE_BIN;
  const node = process.env.SOCKUDO_NODE_BIN;
  if (!node) throw new Error('SOCKUDO_NODE_BIN is not set (run the tests through ctest)');
  return path.join(path.dirname(path.dirname(node)), 'controlplane', 'sockudo-controlplane');
}

const cpEnv = (extra) => childEnv({ LOG_LEVEL: 'info', ...extra });

function runOnce(args, env = {}, timeoutMs = 10000) {
  return runBinary(binary(), args, { LOG_LEVEL: 'info', ...env }, timeoutMs);
}

// Writes `apps` as an apps file in a fresh temp dir and returns its path.
function writeAppsFile(apps) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sockudo-cp-'));
  const file = path.join(dir, 'apps.json');
  fs.writeFileSync(file, JSON.stringify(apps));
  return file;
}

async function startControlPlane({ token = 'test-token', env = {}, appsFile = null } = {}) {
  let lastError;
  for (let attempt = 0; attempt < 3; attempt++) {
    const grpcPort = await freePort();
    const restPort = await freePort();
    const child = spawn(binary(), [], {
      env: cpEnv({
        ADAPTER_DRIVER: 'redis',
        CONTROL_PLANE_GRPC_HOST: '127.0.0.1', CONTROL_PLANE_GRPC_PORT: String(grpcPort),
        CONTROL_PLANE_REST_HOST: '127.0.0.1', CONTROL_PLANE_REST_PORT: String(restPort),
        CONTROL_PLANE_TOKEN: token,
        ...(appsFile ? { APP_MANAGER_DRIVER: 'file', APP_MANAGER_FILE_PATH: appsFile } : {}),
        ...env,
      }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const watched = watchProcess(child, 'sockudo-controlplane');
    const { output, exited, exitPromise } = watched;
    try {
      await waitFor(async () => {
        if (exited()) throw new Error(`sockudo-controlplane exited (${JSON.stringify(exited())}):\n${output()}`);
        return /listening grpc=/.test(output());
      }, { timeoutMs: 15000, what: 'sockudo-controlplane to listen' });
    } catch (e) {
      lastError = e;
      if (!exited()) child.kill('SIGKILL');
      await exitPromise;
      if (/cannot listen|Address already in use/.test(output())) continue;  // port race
      throw e;
    }
    return {
      grpcPort, restPort, child, token,
      output,
      // REST call with the bearer token (or `auth` when given); body is an object or a string.
      rest(method, urlPath, body = null, auth = `Bearer ${token}`) {
        const headers = auth ? { authorization: auth } : {};
        let text = null;
        if (body !== null) {
          text = typeof body === 'string' ? body : JSON.stringify(body);
          headers['content-type'] = 'application/json';
          headers['content-length'] = Buffer.byteLength(text);
        }
        return httpRequest({ port: restPort, path: urlPath, method, body: text, headers });
      },
      // Stops it; asserts a clean exit and no sanitizer report.
      stop: watched.stop,
    };
  }
  throw lastError;
}

// A promisified gRPC client of sockudo.controlplane.v1.Apps: client.GetApp(request, token).
function appsClient(port) {
  const grpc = require('@grpc/grpc-js');
  const loader = require('@grpc/proto-loader');
  const definition = loader.loadSync('sockudo/controlplane/v1/apps.proto', {
    includeDirs: [PROTO_ROOT], keepCase: false, longs: String, enums: String, defaults: false,
  });
  const Apps = grpc.loadPackageDefinition(definition).sockudo.controlplane.v1.Apps;
  const raw = new Apps(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  const client = { raw, close: () => raw.close() };
  for (const method of Object.keys(Apps.service)) {
    client[method] = (request, token) => new Promise((resolve, reject) => {
      const metadata = new grpc.Metadata();
      if (token) metadata.set('authorization', `Bearer ${token}`);
      raw[method](request, metadata, (err, response) => (err ? reject(err) : resolve(response)));
    });
  }
  return client;
}

module.exports = { startControlPlane, runOnce, writeAppsFile, appsClient, binary };

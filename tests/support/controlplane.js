// Starts the real sockudo-controlplane binary on free loopback ports, waits until its REST port
// answers, and stops exactly the process it started (and the redis-server it started for its
// bus and app store when the caller gave none). Also builds gRPC clients of the control plane's
// services from proto/ with @grpc/grpc-js + @grpc/proto-loader.
'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { freePorts, childEnv, runBinary, watchProcess } = require('./server');
const { waitFor, httpRequest } = require('./wait');
const { startRedis } = require('./brokers');

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

// `env` may name the bus (ADAPTER_DRIVER, REDIS_URL, NATS_SERVERS, ...); without REDIS_URL a
// redis-server is started for the bus and the app store. `apps` are created through the API.
async function startControlPlane({ token = 'test-token', env = {}, apps = [] } = {}) {
  let redis = null;
  if (!env.REDIS_URL) {
    redis = await startRedis();
    env = { ADAPTER_DRIVER: 'redis', ...env, REDIS_URL: redis.url };
  }
  try {
    const cp = await launchControlPlane({ token, env: { APP_MANAGER_DRIVER: 'redis', ...env } });
    for (const app of apps) {
      const { id, ...fields } = app;
      const r = await cp.rest('POST', `/v1/apps?app_id=${encodeURIComponent(id)}`, fields);
      if (r.status !== 200) throw new Error(`seeding app ${id}: ${r.status} ${r.text}`);
    }
    const stopProcess = cp.stop;
    cp.redis = redis;
    cp.stop = async () => {
      try { await stopProcess(); } finally { if (redis) await redis.stop(); }
    };
    return cp;
  } catch (e) {
    if (redis) await redis.stop();
    throw e;
  }
}

async function launchControlPlane({ token, env }) {
  let lastError;
  for (let attempt = 0; attempt < 3; attempt++) {
    const [grpcPort, restPort] = await freePorts(2);
    const child = spawn(binary(), [], {
      env: cpEnv({
        ADAPTER_DRIVER: 'redis',
        CONTROL_PLANE_GRPC_HOST: '127.0.0.1', CONTROL_PLANE_GRPC_PORT: String(grpcPort),
        CONTROL_PLANE_REST_HOST: '127.0.0.1', CONTROL_PLANE_REST_PORT: String(restPort),
        CONTROL_PLANE_TOKEN: token,
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

const SERVICE_PROTOS = {
  Apps: 'apps.proto', Cluster: 'cluster.proto', Users: 'users.proto', Channels: 'channels.proto',
  Events: 'events.proto',
};

// A promisified gRPC client of sockudo.controlplane.v1.<service>: client.GetApp(request, token).
// Server-streaming methods return the call itself (client.WatchCluster(request, token).on(...)).
function apiClient(port, service) {
  const grpc = require('@grpc/grpc-js');
  const loader = require('@grpc/proto-loader');
  const definition = loader.loadSync(`sockudo/controlplane/v1/${SERVICE_PROTOS[service]}`, {
    includeDirs: [PROTO_ROOT], keepCase: false, longs: String, enums: String, defaults: false,
  });
  const Service = grpc.loadPackageDefinition(definition).sockudo.controlplane.v1[service];
  const raw = new Service(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  const client = { raw, close: () => raw.close() };
  for (const [method, spec] of Object.entries(Service.service)) {
    const metadataOf = (token) => {
      const metadata = new grpc.Metadata();
      if (token) metadata.set('authorization', `Bearer ${token}`);
      return metadata;
    };
    client[method] = spec.responseStream
      ? (request, token) => raw[method](request, metadataOf(token))
      : (request, token) => new Promise((resolve, reject) => {
        raw[method](request, metadataOf(token), (err, response) => (err ? reject(err) : resolve(response)));
      });
  }
  return client;
}

const appsClient = (port) => apiClient(port, 'Apps');

module.exports = { startControlPlane, runOnce, writeAppsFile, appsClient, apiClient, binary };

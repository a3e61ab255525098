// Starts the real sockudo-controlplane binary on free loopback ports, waits until its REST port
// answers, and stops exactly the process it started (and the redis-server it started for its
// bus and app store when the caller gave none). Also builds gRPC clients of the control plane's
// services from proto/ with @grpc/grpc-js + @grpc/proto-loader, and compares their answers with
// the REST ones (the proto3 JSON mapping).
'use strict';
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { isDeepStrictEqual } = require('node:util');
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

// The gRPC status codes the tests expect, and the error of a call that must fail.
const GRPC = { INVALID_ARGUMENT: 3, NOT_FOUND: 5, ALREADY_EXISTS: 6, RESOURCE_EXHAUSTED: 8, UNAVAILABLE: 14, UNAUTHENTICATED: 16 };
const grpcError = (promise) => promise.then(() => assert.fail('expected the gRPC call to fail'), (e) => e);

// google.protobuf.Value as proto-loader gives it ({ stringValue: 'x' }, { structValue: { fields } },
// ...) and back: plain JSON is what REST shows and what a test writes.
function fromValue(v) {
  if ('structValue' in v) return Object.fromEntries(Object.entries(v.structValue.fields || {}).map(([k, x]) => [k, fromValue(x)]));
  if ('listValue' in v) return (v.listValue.values || []).map(fromValue);
  for (const kind of ['stringValue', 'numberValue', 'boolValue']) if (kind in v) return v[kind];
  if ('nullValue' in v) return null;
  throw new Error(`not a google.protobuf.Value: ${JSON.stringify(v)}`);
}
function toValue(json) {
  if (json === null) return { nullValue: 'NULL_VALUE' };
  if (Array.isArray(json)) return { listValue: { values: json.map(toValue) } };
  if (typeof json === 'object') return { structValue: { fields: Object.fromEntries(Object.entries(json).map(([k, x]) => [k, toValue(x)])) } };
  return { [{ string: 'stringValue', number: 'numberValue', boolean: 'boolValue' }[typeof json]]: json };
}
// google.protobuf.Timestamp as proto3 JSON prints it: RFC 3339, 0, 3, 6 or 9 fraction digits.
function fromTimestamp({ seconds = '0', nanos = 0 }) {
  const whole = new Date(Number(seconds) * 1000).toISOString().replace(/\.000Z$/, '');
  if (!nanos) return `${whole}Z`;
  const digits = String(nanos).padStart(9, '0');
  return `${whole}.${nanos % 1e6 === 0 ? digits.slice(0, 3) : nanos % 1e3 === 0 ? digits.slice(0, 6) : digits}Z`;
}
// The well-known-type fields of the control plane's messages, by JSON name.
const WELL_KNOWN = {
  webhooks: (list) => (list.values || []).map(fromValue),  // google.protobuf.ListValue
  userInfo: fromValue, startTime: fromTimestamp, lastHeartbeatTime: fromTimestamp, time: fromTimestamp,
};
// A message as proto-loader gives it (longs and enums as strings, defaults left out) in the proto3
// JSON mapping, i.e. what the REST API answers for the same message.
function protoJson(message) {
  if (Array.isArray(message)) return message.map(protoJson);
  if (!message || typeof message !== 'object') return message;
  return Object.fromEntries(Object.entries(message).map(([k, v]) => [k, k in WELL_KNOWN ? WELL_KNOWN[k](v) : protoJson(v)]));
}

// Asserts that GET `restPath` and `grpcCall()` answer the same message, and returns it. Answers
// that follow heartbeats (ages, uptimes, counts) move: with `settleMs` the pair is asked again
// until one agrees, and the assertion shows the last pair.
async function assertSameAnswer(cp, restPath, grpcCall, { settleMs = 0 } = {}) {
  let last = null;
  const agree = async () => {
    const [r, g] = await Promise.all([cp.rest('GET', restPath), grpcCall()]);
    assert.equal(r.status, 200, `${restPath}: ${r.text}`);
    last = { rest: r.json, grpc: protoJson(g) };
    return isDeepStrictEqual(last.grpc, last.rest);
  };
  if (settleMs > 0) {
    await waitFor(agree, { timeoutMs: settleMs, what: `REST and gRPC to agree on ${restPath}` }).catch((e) => {
      if (!last || e instanceof assert.AssertionError) throw e;
    });
  } else {
    await agree();
  }
  assert.deepEqual(last.grpc, last.rest, `REST and gRPC answers of ${restPath}`);
  return last.rest;
}

module.exports = { startControlPlane, runOnce, writeAppsFile, appsClient, apiClient, binary, GRPC, grpcError,
                   protoJson, toValue, assertSameAnswer };

// TLS on the control plane's own listeners (control_plane.tls.*), on the real node with its
// embedded control plane: sockudoctl reaches gRPC over TLS with the CA file, REST answers over
// HTTPS only (a plain-text client gets no answer), and a missing or unusable certificate or key
// is a startup error naming its key.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const https = require('node:https');
const os = require('node:os');
const path = require('node:path');
const { runCli, startEmbeddedNode } = require('../support/cli');
const { runBinary, freePort } = require('../support/server');
const { httpRequest } = require('../support/wait');

const TOKEN = 'tls-secret-token';
let dir;
let files;
let node;

function makeCertificate(name) {
  const key = path.join(dir, `${name}-key.pem`);
  const cert = path.join(dir, `${name}-cert.pem`);
  const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert,
    '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'],
  { encoding: 'utf8', timeout: 30000 });
  assert.equal(r.status, 0, r.stderr);
  return { key, cert };
}

function tlsEnv(f) {
  return { CONTROL_PLANE_TLS_ENABLED: 'true', CONTROL_PLANE_TLS_CERT_PATH: f.cert, CONTROL_PLANE_TLS_KEY_PATH: f.key };
}

function httpsRequest(port, urlPath, { ca, token = TOKEN } = {}) {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port, path: urlPath, ca, servername: 'localhost', agent: false,
      headers: token ? { authorization: `Bearer ${token}` } : {} }, (res) => {
      let text = '';
      res.on('data', (d) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode, text }));
    });
    req.on('error', reject);
    req.end();
  });
}

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sockudo-cp-tls-'));
  files = makeCertificate('server');
  node = await startEmbeddedNode({ token: TOKEN, env: tlsEnv(files), cliArgs: ['--ca-file', files.cert] });
});
after(async () => {
  if (node) await node.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('sockudoctl reaches the gRPC listener over TLS with the CA file; plain text and an unknown CA cannot', async () => {
  assert.match(node.server.output(), /embedded control plane: grpc 0\.0\.0\.0:\d+ \(TLS\), rest https:\/\//);
  const ok = await runCli(['apps', 'list', '-o', 'json', '--server', node.address, '--ca-file', files.cert, '--token', TOKEN]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.ok(JSON.parse(ok.stdout).apps.some((a) => a.id === 'app-id'), ok.stdout);
  const plain = await runCli(['apps', 'list', '--server', node.address, '--tls=false', '--token', TOKEN]);
  assert.equal(plain.code, 3, plain.stderr);
  const other = makeCertificate('other');
  const wrongCa = await runCli(['apps', 'list', '--server', node.address, '--ca-file', other.cert, '--token', TOKEN]);
  assert.equal(wrongCa.code, 3, wrongCa.stderr);
  assert.match(wrongCa.stderr, /certificate/);
});

test('REST answers over HTTPS (token still required); a plain-text request gets no HTTP answer', async () => {
  const ca = fs.readFileSync(files.cert);
  const r = await httpsRequest(node.restPort, '/v1/apps', { ca });
  assert.equal(r.status, 200, r.text);
  assert.ok(JSON.parse(r.text).apps.some((a) => a.id === 'app-id'));
  const unauthenticated = await httpsRequest(node.restPort, '/v1/apps', { ca, token: null });
  assert.equal(unauthenticated.status, 401, unauthenticated.text);
  // The live page is served over HTTPS too.
  const page = await httpsRequest(node.restPort, '/', { ca, token: null });
  assert.equal(page.status, 200);
  assert.match(page.text, /<html/i);
  // Plain HTTP to the HTTPS port: the handshake fails and the connection closes without a response.
  await assert.rejects(httpRequest({ port: node.restPort, path: '/v1/apps' }));
  // An untrusted client (no CA) refuses the server.
  await assert.rejects(httpsRequest(node.restPort, '/v1/apps', { ca: undefined }), /self[- ]signed|certificate/i);
});

test('a missing, unreadable or mismatched certificate or key is a startup error naming its key', async () => {
  const bin = process.env.SOCKUDO_NODE_BIN;
  const base = { SOCKUDO_CONTROL_PLANE_EMBEDDED: 'true', CONTROL_PLANE_TOKEN: TOKEN };
  let r = await runBinary(bin, ['--check-config'], { ...base, CONTROL_PLANE_TLS_ENABLED: 'true', CONTROL_PLANE_TLS_CERT_PATH: files.cert });
  assert.notEqual(r.code, 0);
  assert.match(r.stdout + r.stderr, /control_plane\.tls\.key_path: file not readable: ""/);
  r = await runBinary(bin, ['--check-config'], { ...base, ...tlsEnv({ cert: path.join(dir, 'nope.pem'), key: files.key }) });
  assert.notEqual(r.code, 0);
  assert.match(r.stdout + r.stderr, /control_plane\.tls\.cert_path: file not readable: ".*nope\.pem"/);
  // Readable but not PEM, and a key that does not belong to the certificate: the node refuses to start.
  const ports = async () => ({ PORT: String(await freePort()), METRICS_PORT: String(await freePort()),
    CONTROL_PLANE_GRPC_PORT: String(await freePort()), CONTROL_PLANE_REST_PORT: String(await freePort()) });
  const junk = path.join(dir, 'junk.pem');
  fs.writeFileSync(junk, 'not a certificate\n');
  r = await runBinary(bin, [], { ...base, ...tlsEnv({ cert: junk, key: files.key }), ...await ports() });
  assert.notEqual(r.code, 0);
  assert.match(r.stdout + r.stderr, /control_plane\.tls\.cert_path: ".*junk\.pem" is not a readable PEM file/);
  const other = makeCertificate('mismatch');
  r = await runBinary(bin, [], { ...base, ...tlsEnv({ cert: files.cert, key: other.key }), ...await ports() });
  assert.notEqual(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout + r.stderr, /control_plane\.tls/);
});

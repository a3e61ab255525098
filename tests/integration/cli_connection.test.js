// How sockudoctl connects, against scripted Cluster services: TLS with a CA file (a certificate
// made here with openssl), the bearer token as "authorization: Bearer <token>" metadata, an
// unknown CA or a plain-text client refused with exit 3, and the --timeout deadline of unary calls.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { runCli, startFakeCluster } = require('../support/cli');

let dir;
let tls;
let secure;

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sockudoctl-tls-'));
  const key = path.join(dir, 'key.pem');
  const cert = path.join(dir, 'cert.pem');
  const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert,
    '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], { encoding: 'utf8', timeout: 30000 });
  assert.equal(r.status, 0, r.stderr);
  tls = { key: fs.readFileSync(key, 'utf8'), cert: fs.readFileSync(cert, 'utf8'), certFile: cert };
  secure = await startFakeCluster({ tls, token: 'tls-token' });
  secure.add('node-s');
});
after(async () => {
  if (secure) await secure.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('--tls with --ca-file reaches a TLS control plane and sends the token as bearer metadata', async () => {
  const r = await runCli(['cluster', 'nodes', '-o', 'json', '--server', secure.address, '--tls', '--ca-file', tls.certFile, '--token', 'tls-token']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout).nodes.map((n) => n.id), ['node-s']);
  const call = secure.seen[secure.seen.length - 1];
  assert.equal(call.authorization, 'Bearer tls-token');
  assert.match(call.userAgent, /^sockudoctl\/\d+\.\d+\.\d+ /);
  // --ca-file alone implies TLS; an https:// address too.
  const implied = await runCli(['cluster', 'nodes', '--server', `https://${secure.address}`, '--ca-file', tls.certFile, '--token', 'tls-token']);
  assert.equal(implied.code, 0, implied.stderr);
  // A context can hold all of it.
  const home = { HOME: dir, XDG_CONFIG_HOME: path.join(dir, 'xdg') };
  let c = await runCli(['config', 'set-context', 'secure', '--server', secure.address, '--tls', '--ca-file', tls.certFile, '--token', 'tls-token', '--use'], { home });
  assert.equal(c.code, 0, c.stderr);
  c = await runCli(['cluster', 'nodes', 'node-s', '-o', 'yaml'], { home });
  assert.equal(c.code, 0, c.stderr);
  assert.match(c.stdout, /^id: node-s$/m);
  // ... and a flag turns TLS off again: the TLS server cannot be reached in plain text.
  c = await runCli(['cluster', 'nodes', '--tls=false', '--ca-file', ''], { home });
  assert.equal(c.code, 3);
  assert.match(c.stderr, /address from context "secure"/);
});

test('a wrong token over TLS is UNAUTHENTICATED (1); an unknown CA or plain text cannot connect (3)', async () => {
  const wrong = await runCli(['cluster', 'nodes', '--server', secure.address, '--ca-file', tls.certFile, '--token', 'nope']);
  assert.equal(wrong.code, 1);
  assert.match(wrong.stderr, /Error from server \(UNAUTHENTICATED\): invalid bearer token/);
  assert.match(wrong.stderr, /Hint: give the control plane's token/);
  // The system roots do not know this self-signed certificate.
  const unknownCa = await runCli(['cluster', 'nodes', '--server', secure.address, '--tls', '--token', 'tls-token']);
  assert.equal(unknownCa.code, 3);
  assert.match(unknownCa.stderr, new RegExp(`^Error: cannot reach the control plane at ${secure.address.replace(/\./g, '\\.')}`));
  assert.match(unknownCa.stderr, /Hint: the server's certificate is not signed by a CA this client trusts/);
  const plain = await runCli(['cluster', 'nodes', '--server', secure.address, '--token', 'tls-token']);
  assert.equal(plain.code, 3);
  assert.match(plain.stderr, /Hint: does the server expect TLS \(--tls\)\?/);
  const missingCa = await runCli(['cluster', 'nodes', '--server', secure.address, '--ca-file', path.join(dir, 'nope.pem')]);
  assert.equal(missingCa.code, 2);
  assert.match(missingCa.stderr, /--ca-file: cannot read .*nope\.pem/);
});

test('--timeout bounds every unary call: a server that does not answer gives DEADLINE_EXCEEDED (1)', async () => {
  const slow = await startFakeCluster({ slowHealth: true });
  try {
    const started = Date.now();
    // 2 s leaves room for the connection itself under a sanitizer (a deadline that ends before the
    // channel is up is rightly reported as unreachable, exit 3); the fake server never answers.
    const r = await runCli(['cluster', 'status', '--server', slow.address, '--timeout', '2s']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /Error from server \(DEADLINE_EXCEEDED\)/);
    assert.ok(Date.now() - started < 9000, 'the deadline, not a default, ended the call');
  } finally {
    await slow.stop();
  }
});

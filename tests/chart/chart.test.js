// The Helm chart (helm/sockudo), rendered offline with chart-render for every ci/*-values.yaml
// and checked against the real binaries: the chart lints; every environment variable of the node
// and control-plane containers is read and accepted by `--check-config` of the binary the
// container runs; the ports and probe paths of the manifests are what a node started with that
// environment serves (and the `helm test` pod's script passes against it); selectors match pod
// labels; no secret value lands in a ConfigMap; existingSecret replaces the generated Secret;
// values.schema.json rejects wrong types; the drain timing adds up.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { runBinary, watchProcess, childEnv, freePort } = require('../support/server');
const { waitFor, httpRequest } = require('../support/wait');
const { startRedis, startNats } = require('../support/brokers');
const { CHART, RELEASE, NAMESPACE, toolMissing, buildTools, Renderer } = require('./chart_render');
const { Manifests } = require('./manifests');
const { validate, properties } = require('./json_schema');

// The chart is the same in every build tree: the sanitizer trees (which run the whole suite again
// for memory and thread errors in the binaries) leave it to the Release run.
const skip = process.env.SOCKUDO_SANITIZER
  ? `chart tests run in the Release tree only (this is the ${process.env.SOCKUDO_SANITIZER} sanitizer tree)`
  : toolMissing();
if (skip) console.log(`# ${skip}`);

const NODE_BIN = process.env.SOCKUDO_NODE_BIN;
const CP_BIN = NODE_BIN && path.join(path.dirname(NODE_BIN), '..', 'controlplane', 'sockudo-controlplane');
const CI_FILES = fs.readdirSync(path.join(CHART, 'ci')).filter((f) => f.endsWith('-values.yaml')).sort();
const FULLNAME = `${RELEASE}-sockudo`;
const SCHEMA = JSON.parse(fs.readFileSync(path.join(CHART, 'values.schema.json'), 'utf8'));

// Stand-ins for Secrets that installs with existingSecret reference (created by the operator).
const EXTERNAL_SECRETS = {
  'sockudo-secrets': { 'control-plane-token': 'external-token', 'redis-password': 'external-redis-password' },
  'my-secret': { 'default-app-secret': 'external-app-secret', 'control-plane-token': 'external-token',
                 'redis-password': 'external-redis-password' },
};

let renderer;
let tmpRoot;
const rendered = new Map();  // ci file -> Manifests

before(async () => {
  if (skip) return;
  renderer = new Renderer(await buildTools());
  tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'sockudo-chart-'));
  for (const file of CI_FILES) rendered.set(file, new Manifests(renderer.objects({ files: [file] }), EXTERNAL_SECRETS));
});

after(() => {
  if (renderer) renderer.cleanup();
  if (tmpRoot) fs.rmSync(tmpRoot, { recursive: true, force: true });
});

const chartTest = (name, fn) => test(name, { skip: skip || false }, fn);

// The binary a container runs: the image's entrypoint is sockudo-node, the control plane sets
// command.
function binaryOf(container) {
  const command = (container.command || [])[0];
  if (!command) return NODE_BIN;
  if (command === 'sockudo-controlplane') return CP_BIN;
  return null;
}

// The sockudo containers of an install (not the helm test pod) with their resolved environment.
function serverContainers(m, fileRoot) {
  const out = [];
  for (const d of m.all('Deployment')) {
    for (const c of d.spec.template.spec.containers) {
      const { env, problems } = m.containerEnv(d.spec.template.spec, c, fileRoot);
      out.push({ deployment: d, container: c, bin: binaryOf(c), env, problems });
    }
  }
  return out;
}

// --check-config with exactly `env` (plus PATH, HOME and sanitizer settings); a fixed HOSTNAME
// keeps the printed instance id stable between runs.
function checkConfig(bin, env) {
  return runBinary(bin, ['--check-config'], { LOG_LEVEL: null, SOCKUDO_CONTROL_PLANE_EMBEDDED: null,
                                              HOSTNAME: 'chart-test-pod', ...env }, 30000);
}

async function inParallel(items, limit, fn) {
  const queue = [...items];
  const workers = Array.from({ length: Math.min(limit, queue.length) }, async () => {
    while (queue.length) await fn(queue.shift());
  });
  await Promise.all(workers);
}

chartTest('the chart lints with its defaults and with every ci values file', () => {
  assert.ok(CI_FILES.length >= 5, `ci files: ${CI_FILES}`);
  for (const expected of ['local', 'redis', 'redis-cluster', 'nats', 'production']) {
    assert.ok(CI_FILES.includes(`${expected}-values.yaml`), `ci/${expected}-values.yaml is missing`);
  }
  const plain = renderer.lint();
  assert.equal(plain.code, 0, plain.output);
  for (const file of CI_FILES) {
    const r = renderer.lint({ files: [file] });
    assert.equal(r.code, 0, `${file}:\n${r.output}`);
  }
});

chartTest('values.schema.json accepts every ci values file and rejects wrong types', () => {
  for (const file of [null, ...CI_FILES]) {
    const errors = validate(SCHEMA, renderer.values(file ? { files: [file] } : {}));
    assert.deepEqual(errors, [], `${file || 'values.yaml'}`);
  }
  const rejected = (set, pattern) => {
    const errors = validate(SCHEMA, renderer.values({ set: [set] }));
    assert.ok(errors.some((e) => pattern.test(e)), `--set ${set} should be rejected, got ${JSON.stringify(errors)}`);
  };
  rejected('replicaCount=abc', /^replicaCount: expected integer, got string "abc"/);
  rejected('server.port=0', /^server\.port: 0 < minimum 1/);
  rejected('adapter.driver=kafka', /^adapter\.driver: "kafka" is not one of/);
  rejected('redis.tls=maybe', /^redis\.tls: expected boolean/);
  rejected('drain.gracePeriodSeconds=ten', /^drain\.gracePeriodSeconds: expected integer/);
  rejected('nats.servers={redis://x:1}', /^nats\.servers\[0\]: .* does not match/);
  rejected('adapter.drvier=redis', /^adapter\.drvier: unknown value/);
});

chartTest('every value is documented in values.yaml and values.schema.json', () => {
  for (const [key, schema] of properties(SCHEMA)) {
    assert.ok(schema.description, `values.schema.json: ${key} has no description`);
  }
  // Each key line of values.yaml (outside list items) follows a comment line.
  const lines = fs.readFileSync(path.join(CHART, 'values.yaml'), 'utf8').split('\n');
  let inList = -1;  // indentation of the list being skipped
  lines.forEach((line, i) => {
    const m = /^( *)(- )?([A-Za-z0-9_.\/-]+):/.exec(line);
    if (!m) return;
    const indent = m[1].length;
    if (m[2]) { inList = indent; return; }
    if (inList >= 0 && indent > inList) return;
    inList = -1;
    let j = i - 1;
    while (j >= 0 && lines[j].trim() === '') j--;
    assert.match(lines[j] || '', /^\s*#/, `values.yaml:${i + 1}: "${line.trim()}" has no comment above it`);
  });
  // Every key of values.yaml is in the schema (free-form objects such as resources aside).
  const schemaAt = new Map(properties(SCHEMA));
  const walk = (obj, where) => {
    for (const [k, v] of Object.entries(obj)) {
      const p = where ? `${where}.${k}` : k;
      const schema = schemaAt.get(p);
      assert.ok(schema, `values.yaml: ${p} is not in values.schema.json`);
      if (schema.properties && v && typeof v === 'object' && !Array.isArray(v)) walk(v, p);
    }
  };
  const defaults = renderer.values();
  walk(defaults, '');
});

// Keys of values.schema.json that values.yaml may leave out, and why. Besides these, a key may be
// missing only under a free-form object (additionalProperties not false, such as resources),
// whose listed properties describe some of the keys it may hold.
const SCHEMA_ONLY = new Map([
  ['global', 'Helm itself adds .Values.global (values shared with parent charts)'],
]);

chartTest('every key of values.schema.json is in values.yaml', () => {
  // values.yaml itself, not the merged values: a key must be written there, with its comment.
  const [{ object: file }] = renderer.parse(fs.readFileSync(path.join(CHART, 'values.yaml'), 'utf8'));
  const missing = [];
  let checked = 0;
  const walk = (schema, value, where) => {
    for (const [k, child] of Object.entries(schema.properties || {})) {
      const p = where ? `${where}.${k}` : k;
      const present = value !== null && typeof value === 'object' && !Array.isArray(value) &&
        Object.prototype.hasOwnProperty.call(value, k);
      if (!present) {
        if (!SCHEMA_ONLY.has(p) && schema.additionalProperties === false) missing.push(p);
        continue;
      }
      checked++;
      // Array items (e.g. ingress.hosts[]) describe list elements, which values.yaml may not have.
      walk(child, value[k], p);
    }
  };
  walk(SCHEMA, file, '');
  assert.deepEqual(missing, [], 'keys of values.schema.json that values.yaml does not have');
  assert.ok(checked > 100, `only ${checked} schema keys found in values.yaml`);
  for (const key of SCHEMA_ONLY.keys()) {
    assert.ok([...properties(SCHEMA)].some(([p]) => p === key), `SCHEMA_ONLY names ${key}, which the schema no longer has`);
  }
});

chartTest('the chart renders what each adapter needs, and the control plane only with a shared bus', () => {
  for (const [file, m] of rendered) {
    const kinds = (k) => m.all(k).length;
    const node = m.deployment('node');
    assert.ok(node, `${file}: no node Deployment`);
    assert.ok(m.find('Service', FULLNAME), `${file}: no node Service`);
    assert.ok(m.find('Service', `${FULLNAME}-headless`), `${file}: no headless Service`);
    assert.equal(m.find('Service', `${FULLNAME}-headless`).spec.clusterIP, 'None');
    assert.ok(m.find('ConfigMap', FULLNAME), `${file}: no ConfigMap`);
    assert.equal(kinds('ServiceAccount'), 1, file);
    assert.equal(m.all('Pod').length, 1, `${file}: the helm test pod`);
    assert.equal(m.all('Pod')[0].metadata.annotations['helm.sh/hook'], 'test');
    const driver = m.find('ConfigMap', FULLNAME).data.ADAPTER_DRIVER;
    const cpService = m.find('Service', `${FULLNAME}-controlplane`);
    if (!renderer.values({ files: [file] }).controlPlane.enabled) {
      assert.equal(cpService, undefined, `${file}: no control plane, no Service`);
      assert.equal(m.deployment('controlplane'), undefined);
      assert.equal(m.find('ConfigMap', FULLNAME).data.SOCKUDO_CONTROL_PLANE_EMBEDDED, 'false');
      continue;
    }
    assert.ok(cpService, `${file}: no control-plane Service`);
    assert.deepEqual(cpService.spec.ports.map((p) => p.name).sort(), ['grpc', 'rest']);
    if (driver === 'local') {
      assert.equal(m.deployment('controlplane'), undefined, `${file}: local adapter renders no control-plane Deployment`);
      assert.equal(m.find('ConfigMap', FULLNAME).data.SOCKUDO_CONTROL_PLANE_EMBEDDED, 'true');
      assert.equal(node.spec.replicas, 1);
    } else {
      assert.ok(m.deployment('controlplane'), `${file}: ${driver} renders the control-plane Deployment`);
      assert.equal(m.find('ConfigMap', FULLNAME).data.SOCKUDO_CONTROL_PLANE_EMBEDDED, 'false');
      // It writes apps to the shared store the nodes read.
      assert.equal(m.find('ConfigMap', `${FULLNAME}-controlplane`).data.APP_MANAGER_DRIVER, 'redis');
      assert.equal(m.find('ConfigMap', FULLNAME).data.APP_MANAGER_DRIVER, 'redis');
    }
  }
  const production = rendered.get('production-values.yaml');
  assert.equal(production.deployment('node').spec.replicas, 3);
  assert.equal(production.find('ConfigMap', FULLNAME).data.ADAPTER_DRIVER, 'redis');
  for (const kind of ['ServiceMonitor', 'PodDisruptionBudget', 'Ingress']) {
    assert.equal(production.all(kind).length, 1, `production renders a ${kind}`);
  }
  assert.equal(rendered.get('nats-values.yaml').all('NetworkPolicy').length, 2);

  // Settings that cannot work stop the render with a message naming the value.
  const fails = (values, pattern) => {
    const r = renderer.template(values);
    assert.notEqual(r.code, 0, `${JSON.stringify(values)} should not render`);
    assert.match(r.stderr, pattern);
  };
  fails({ set: ['replicaCount=3'] }, /adapter.driver=local serves one pod only/);
  fails({ set: ['autoscaling.enabled=true'] }, /adapter.driver=local serves one pod only/);
  fails({ set: ['adapter.driver=redis'] }, /redis.host is required/);
  fails({ set: ['adapter.driver=redis', 'redis.host=r'] }, /needs appManager.driver=redis/);
  fails({ files: ['redis-values.yaml'], set: ['redis.tls=true'] }, /does not support a TLS Redis endpoint/);
  fails({ set: ['adapter.driver=redis-cluster'] }, /redisCluster.nodes is required/);
  fails({ set: ['adapter.driver=nats'] }, /nats.servers is required/);
  fails({ files: ['nats-values.yaml'], set: ['nats.token=t'] }, /exclusive/);

  // HPA and local-only rules.
  const hpa = new Manifests(renderer.objects({ files: ['redis-values.yaml'], set: ['autoscaling.enabled=true'] }));
  assert.equal(hpa.all('HorizontalPodAutoscaler').length, 1);
  assert.equal(hpa.all('HorizontalPodAutoscaler')[0].spec.scaleTargetRef.name, FULLNAME);
  assert.equal(hpa.deployment('node').spec.replicas, undefined, 'the HPA owns the replica count');
  const noCp = new Manifests(renderer.objects({ files: ['redis-values.yaml'], set: ['controlPlane.enabled=false'] }));
  assert.equal(noCp.deployment('controlplane'), undefined);
  assert.equal(noCp.find('Service', `${FULLNAME}-controlplane`), undefined);
});

chartTest('selectors match the pod labels, and Services, probes and the Ingress name existing ports', () => {
  for (const [file, m] of rendered) {
    for (const d of m.all('Deployment')) {
      assert.ok(m.selects(d.spec.selector, d.spec.template.metadata.labels), `${file}: ${d.metadata.name} selector`);
    }
    // Deployments select disjoint pods.
    for (const d of m.all('Deployment')) {
      const owners = m.podsSelectedBy(d.spec.selector).map((w) => w.object.metadata.name);
      assert.deepEqual(owners, [d.metadata.name], `${file}: ${d.metadata.name} selector overlaps`);
    }
    for (const svc of m.all('Service')) {
      const pods = m.podsSelectedBy(svc.spec.selector);
      assert.equal(pods.length, 1, `${file}: Service ${svc.metadata.name} selects ${pods.length} Deployments`);
      const portNames = pods[0].podSpec.containers.flatMap((c) => (c.ports || []).map((p) => p.name));
      for (const p of svc.spec.ports) {
        assert.ok(portNames.includes(p.targetPort), `${file}: Service ${svc.metadata.name} targets missing port ${p.targetPort}`);
      }
    }
    for (const w of m.workloads()) {
      for (const c of w.podSpec.containers) {
        const portNames = (c.ports || []).map((p) => p.name);
        for (const probe of [c.readinessProbe, c.livenessProbe, c.startupProbe].filter(Boolean)) {
          const port = (probe.httpGet || probe.tcpSocket).port;
          assert.ok(portNames.includes(port), `${file}: ${c.name} probes missing port ${port}`);
        }
      }
    }
    for (const kind of ['PodDisruptionBudget', 'NetworkPolicy']) {
      for (const o of m.all(kind)) {
        const selector = kind === 'NetworkPolicy' ? o.spec.podSelector : o.spec.selector;
        assert.equal(m.podsSelectedBy(selector).length, 1, `${file}: ${kind} ${o.metadata.name} selects no pods`);
      }
    }
    for (const sm of m.all('ServiceMonitor')) {
      const services = m.all('Service').filter((s) => m.selects(sm.spec.selector, s.metadata.labels));
      assert.deepEqual(services.map((s) => s.metadata.name), [FULLNAME], `${file}: ServiceMonitor selects the node Service only`);
      for (const ep of sm.spec.endpoints) {
        assert.ok(services[0].spec.ports.some((p) => p.name === ep.port), `${file}: ServiceMonitor port ${ep.port}`);
        assert.equal(ep.path, '/metrics');
      }
    }
    for (const ing of m.all('Ingress')) {
      for (const rule of ing.spec.rules) {
        for (const p of rule.http.paths) {
          const svc = m.find('Service', p.backend.service.name);
          assert.ok(svc, `${file}: Ingress backend ${p.backend.service.name}`);
          assert.ok(svc.spec.ports.some((sp) => sp.name === p.backend.service.port.name), `${file}: Ingress port`);
        }
      }
      assert.equal(ing.metadata.annotations['nginx.ingress.kubernetes.io/proxy-read-timeout'], '3600');
    }
    for (const hpa of m.all('HorizontalPodAutoscaler')) assert.ok(m.find('Deployment', hpa.spec.scaleTargetRef.name));
  }
});

chartTest('pods run as non-root on a read-only root filesystem and roll on config changes', () => {
  for (const [file, m] of rendered) {
    for (const w of m.workloads()) {
      assert.equal(w.podSpec.securityContext.runAsNonRoot, true, `${file}: ${w.object.metadata.name}`);
      for (const c of w.podSpec.containers) {
        const sc = c.securityContext;
        assert.equal(sc.readOnlyRootFilesystem, true, `${file}: ${c.name}`);
        assert.equal(sc.allowPrivilegeEscalation, false, `${file}: ${c.name}`);
        assert.deepEqual(sc.capabilities.drop, ['ALL'], `${file}: ${c.name}`);
        if (w.object.kind === 'Deployment') assert.ok(c.resources && c.resources.requests, `${file}: ${c.name} resources`);
      }
    }
    for (const d of m.all('Deployment')) {
      const annotations = d.spec.template.metadata.annotations;
      assert.match(annotations['checksum/config'], /^[0-9a-f]{64}$/, `${file}: ${d.metadata.name}`);
      if (m.all('Secret').length) assert.match(annotations['checksum/secret'], /^[0-9a-f]{64}$/, `${file}: ${d.metadata.name}`);
    }
  }
  // A changed setting changes the config checksum (so the pods roll); the same values do not.
  const checksum = (set) => new Manifests(renderer.objects({ files: ['redis-values.yaml'], set }))
    .deployment('node').spec.template.metadata.annotations['checksum/config'];
  assert.equal(checksum([]), checksum([]));
  assert.notEqual(checksum([]), checksum(['server.activityTimeout=60']));
});

chartTest('the drain fits the termination grace period', () => {
  for (const [file, m] of rendered) {
    const node = m.deployment('node');
    const container = node.spec.template.spec.containers[0];
    const grace = Number(m.find('ConfigMap', FULLNAME).data.SHUTDOWN_GRACE_PERIOD);
    const command = container.lifecycle.preStop.exec.command;
    assert.equal(command[0], 'sleep');
    const preStop = Number(command[1]);
    assert.ok(grace > 0 && preStop > 0, file);
    assert.ok(node.spec.template.spec.terminationGracePeriodSeconds > grace + preStop,
      `${file}: terminationGracePeriodSeconds ${node.spec.template.spec.terminationGracePeriodSeconds} <= ${grace} + ${preStop}`);
    assert.equal(node.spec.strategy.rollingUpdate.maxUnavailable, 0, file);
    assert.equal(container.readinessProbe.httpGet.path, '/ready', file);
  }
  const production = rendered.get('production-values.yaml').deployment('node');
  assert.equal(production.spec.template.spec.terminationGracePeriodSeconds, 50);
});

chartTest('no secret value lands in a ConfigMap or a literal env value', () => {
  for (const [file, m] of rendered) {
    const values = renderer.values({ files: [file] });
    const secrets = new Set([values.redis.password, values.redisCluster.password, values.nats.password,
      values.nats.token, values.defaultApp.secret, values.controlPlane.token].filter(Boolean));
    for (const s of m.all('Secret')) {
      for (const v of Object.values(s.data || {})) secrets.add(Buffer.from(v, 'base64').toString('utf8'));
    }
    if (file !== 'production-values.yaml') assert.ok(secrets.size >= 2, `${file}: secret values ${[...secrets]}`);
    for (const cm of m.all('ConfigMap')) {
      for (const [k, v] of Object.entries(cm.data || {})) {
        for (const s of secrets) assert.ok(!String(v).includes(s), `${file}: ConfigMap ${cm.metadata.name} ${k} holds a secret`);
        assert.doesNotMatch(k, /PASSWORD|TOKEN$|SECRET/, `${file}: ConfigMap ${cm.metadata.name} has ${k}`);
      }
    }
    for (const w of m.workloads()) {
      for (const c of w.podSpec.containers) {
        for (const e of c.env || []) {
          if (/PASSWORD|TOKEN$|SECRET/.test(e.name)) {
            assert.ok(e.valueFrom && e.valueFrom.secretKeyRef, `${file}: ${e.name} must come from a Secret`);
          }
          if ('value' in e) {
            for (const s of secrets) assert.ok(!String(e.value).includes(s), `${file}: ${c.name} ${e.name}`);
          }
        }
      }
    }
  }
  // The generated Secret holds what the values say, and only what is used.
  const redis = rendered.get('redis-values.yaml');
  assert.deepEqual(Object.keys(redis.find('Secret', FULLNAME).data).sort(), ['control-plane-token', 'redis-password']);
  assert.equal(redis.secretValue(FULLNAME, 'control-plane-token'), 'chart-token-redis');
  assert.equal(redis.secretValue(FULLNAME, 'redis-password'), 'chart-redis-password');
  const local = rendered.get('local-values.yaml');
  assert.deepEqual(Object.keys(local.find('Secret', FULLNAME).data).sort(), ['control-plane-token', 'default-app-secret']);
  assert.equal(local.secretValue(FULLNAME, 'default-app-secret'), 'chart-secret-local');
  // Without given values the app secret and the token are random, and differ.
  const generated = new Manifests(renderer.objects());
  const appSecret = generated.secretValue(FULLNAME, 'default-app-secret');
  const token = generated.secretValue(FULLNAME, 'control-plane-token');
  assert.match(appSecret, /^[A-Za-z0-9]{40}$/);
  assert.match(token, /^[A-Za-z0-9]{48}$/);
});

chartTest('existingSecret replaces the generated Secret', async () => {
  const m = new Manifests(renderer.objects({ files: ['redis-values.yaml'], set: ['existingSecret=my-secret'] }), EXTERNAL_SECRETS);
  assert.equal(m.all('Secret').length, 0, 'no Secret is rendered');
  let refs = 0;
  for (const w of m.workloads()) {
    assert.equal((w.object.spec.template || w.object).metadata.annotations?.['checksum/secret'], undefined);
    for (const c of w.podSpec.containers) {
      for (const e of c.env || []) {
        if (e.valueFrom && e.valueFrom.secretKeyRef) {
          refs++;
          assert.equal(e.valueFrom.secretKeyRef.name, 'my-secret', `${c.name} ${e.name}`);
        }
      }
    }
  }
  assert.ok(refs >= 4, `secret references: ${refs}`);
  // The secret values given in values are not rendered anywhere.
  const text = renderer.template({ files: ['redis-values.yaml'], set: ['existingSecret=my-secret'] }).stdout;
  for (const s of ['chart-token-redis', 'chart-redis-password']) assert.ok(!text.includes(s), s);
  // The binaries accept the environment with the operator's Secret.
  for (const s of serverContainers(m, fs.mkdtempSync(path.join(tmpRoot, 'existing-')))) {
    assert.deepEqual(s.problems, []);
    const r = await checkConfig(s.bin, s.env);
    assert.equal(r.code, 0, `${s.container.name}: ${r.stderr}`);
  }
});

chartTest('every environment variable is read and accepted by the binary its container runs', async () => {
  const recognized = new Map();  // "bin\0NAME" -> true
  const jobs = [];
  // The ci installs, and NATS with a token instead of user + password.
  const installs = [...rendered, ['nats-values.yaml with a token', new Manifests(renderer.objects(
    { files: ['nats-values.yaml'], set: ['nats.username=', 'nats.password=', 'nats.token=chart-nats-token'] }))]];
  for (const [file, m] of installs) {
    for (const s of serverContainers(m, fs.mkdtempSync(path.join(tmpRoot, 'env-')))) {
      assert.ok(s.bin, `${file}: unknown command of ${s.container.name}`);
      assert.deepEqual(s.problems, [], `${file}: ${s.container.name}`);
      jobs.push({ file, ...s });
    }
  }
  // The whole environment passes --check-config.
  const baselines = new Map();
  await inParallel(jobs, 2, async (job) => {
    const r = await checkConfig(job.bin, job.env);
    assert.equal(r.code, 0, `${job.file}: ${path.basename(job.bin)} --check-config failed:\n${r.stderr}`);
    assert.doesNotMatch(r.stderr, /config error/, job.file);
    baselines.set(job, r);
  });
  // Each variable is read: changing it to a probe value or removing it changes what the binary
  // prints or its verdict (an unknown variable would change nothing).
  const pending = [];
  for (const job of jobs) {
    for (const name of Object.keys(job.env)) {
      const key = `${job.bin}\0${name}`;
      if (!recognized.has(key)) {
        recognized.set(key, false);
        pending.push({ job, name, key });
      }
    }
  }
  const same = (a, b) => a.code === b.code && a.stdout === b.stdout;
  await inParallel(pending, 2, async ({ job, name, key }) => {
    const base = baselines.get(job);
    const probed = await checkConfig(job.bin, { ...job.env, [name]: 'zz-chart-probe' });
    if (!same(probed, base)) { recognized.set(key, true); return; }
    const removed = await checkConfig(job.bin, { ...job.env, [name]: null });
    if (!same(removed, base)) recognized.set(key, true);
  });
  const unread = [...recognized].filter(([, ok]) => !ok).map(([k]) => k.replace('\0', ': '));
  assert.deepEqual(unread, [], 'variables the binaries do not read');
  const names = new Set([...recognized.keys()].map((k) => k.split('\0')[1]));
  console.log(`# ${names.size} distinct variables checked over ${jobs.length} containers: ${[...names].sort().join(' ')}`);
});

// Starts `bin` with `env` and resolves once `ready()` is true; returns the watched process.
async function startProcess(bin, env, ready, what) {
  const child = spawn(bin, [], { env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  const watched = watchProcess(child, what);
  try {
    await waitFor(async () => {
      if (watched.exited()) throw new Error(`${what} exited (${JSON.stringify(watched.exited())}):\n${watched.output()}`);
      try { return await ready(); } catch (_) { return false; }
    }, { timeoutMs: 15000, what });
  } catch (e) {
    if (!watched.exited()) child.kill('SIGKILL');
    await watched.exitPromise;
    throw e;
  }
  return watched;
}

const tcpOpen = (port) => new Promise((resolve) => {
  const sock = net.connect({ port, host: '127.0.0.1' });
  sock.on('connect', () => { sock.destroy(); resolve(true); });
  sock.on('error', () => resolve(false));
});

// The helm test pod's script, run with bash against the processes started on loopback.
function runTestPod(pod, env) {
  const c = pod.spec.containers[0];
  assert.deepEqual(c.command.slice(0, 2), ['/bin/bash', '-c']);
  return new Promise((resolve) => {
    const child = spawn('/bin/bash', ['-c', c.command[2]], { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => { output += d; });
    child.stderr.on('data', (d) => { output += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), 60000);
    child.on('exit', (code) => { clearTimeout(timer); resolve({ code, output }); });
  });
}

// Thrown when the binaries under test lack a driver the install uses (a build without it).
class NotInThisBuild extends Error {}

// Starts a server of an install, or throws NotInThisBuild when the build lacks a driver.
async function startServerOf(bin, env, ready, what) {
  try {
    return await startProcess(bin, env, ready, what);
  } catch (e) {
    const missing = /([\w.]+: "?[\w-]+"? is not available in this build( yet)?)/.exec(e.message);
    if (missing) throw new NotInThisBuild(`${what}: ${missing[1]}`);
    throw e;
  }
}

// One install on loopback: its brokers, the node (and the standalone control plane) started with
// the rendered environment, with ports, hosts and broker addresses moved to free loopback ones
// and broker credentials dropped (the test brokers have none). Checks that the container ports
// are the ports the variables set, that the probes answer 200 on the ports they name, /metrics,
// and runs the helm test pod's script against it. Returns null when it ran, else why not.
async function liveInstall(file, m) {
  const cm = m.find('ConfigMap', FULLNAME).data;
  if (cm.ADAPTER_DRIVER === 'redis-cluster') return 'a Redis Cluster is not started for this check';
  const stops = [];
  try {
    const overrides = {
      HOST: '127.0.0.1', METRICS_HOST: '127.0.0.1', CONTROL_PLANE_GRPC_HOST: '127.0.0.1',
      CONTROL_PLANE_REST_HOST: '127.0.0.1', WORKER_THREADS: '1',
      DATABASE_REDIS_USERNAME: null, DATABASE_REDIS_PASSWORD: null,
      NATS_USERNAME: null, NATS_PASSWORD: null, NATS_TOKEN: null,
    };
    if (cm.DATABASE_REDIS_HOST) {
      const redis = await startRedis();
      stops.push(() => redis.stop());
      Object.assign(overrides, { DATABASE_REDIS_HOST: '127.0.0.1', DATABASE_REDIS_PORT: String(redis.port) });
    }
    if (cm.ADAPTER_DRIVER === 'nats') {
      const nats = await startNats();
      stops.push(() => nats.stop());
      overrides.NATS_SERVERS = nats.url;
    }
    // Container port name -> the variable that sets it; each gets a free loopback port.
    const portVars = { http: 'PORT', metrics: 'METRICS_PORT', grpc: 'CONTROL_PLANE_GRPC_PORT',
                       rest: 'CONTROL_PLANE_REST_PORT' };
    const live = {};
    for (const [name, variable] of Object.entries(portVars)) {
      live[name] = await freePort();
      overrides[variable] = String(live[name]);
    }
    const [node, cp] = ['node', 'controlplane'].map((component) => {
      const d = m.deployment(component);
      if (!d) return null;
      const container = d.spec.template.spec.containers[0];
      const dir = fs.mkdtempSync(path.join(tmpRoot, 'live-'));
      const { env } = m.containerEnv(d.spec.template.spec, container, dir);
      for (const p of container.ports) {
        assert.equal(String(p.containerPort), env[portVars[p.name]],
          `${file}: ${component} container port ${p.name} is what ${portVars[p.name]} sets`);
      }
      return { container, env: { ...env, ...overrides }, ports: container.ports.map((p) => p.name) };
    });

    const readiness = node.container.readinessProbe.httpGet;
    const nodeProcess = await startServerOf(NODE_BIN, node.env,
      async () => (await httpRequest({ port: live[readiness.port], path: readiness.path })).status === 200,
      `sockudo-node (${file})`);
    stops.unshift(() => nodeProcess.stop());
    for (const probe of [node.container.startupProbe, node.container.readinessProbe, node.container.livenessProbe]) {
      const { port, path: probePath } = probe.httpGet;
      await waitFor(async () => (await httpRequest({ port: live[port], path: probePath })).status === 200,
        { timeoutMs: 10000, what: `${file}: GET ${probePath} on port ${port} to answer 200` });
    }
    const metrics = await httpRequest({ port: live.metrics, path: '/metrics' });
    assert.equal(metrics.status, 200);
    assert.match(metrics.text, new RegExp(`^${cm.METRICS_PROMETHEUS_PREFIX}`, 'm'));
    if (node.ports.includes('grpc')) {
      // The node starts its embedded control plane last, and /ready answers 200 only after it:
      // a pod the Service sends to serves the control plane's ports too.
      assert.ok(await tcpOpen(live.grpc), `${file}: /ready answered 200 before the gRPC port listened`);
      assert.ok(await tcpOpen(live.rest), `${file}: /ready answered 200 before the REST port listened`);
    }
    if (cp) {
      // Ready as its probe sees it (the gRPC port accepts), and serving REST too.
      assert.equal(cp.container.readinessProbe.tcpSocket.port, 'grpc');
      const cpProcess = await startServerOf(CP_BIN, cp.env,
        async () => await tcpOpen(live.grpc) && await tcpOpen(live.rest), `sockudo-controlplane (${file})`);
      stops.unshift(() => cpProcess.stop());
    }

    // The helm test pod, with the Service addresses it uses moved to loopback.
    const pod = m.all('Pod')[0];
    const podEnv = m.containerEnv(pod.spec, pod.spec.containers[0]).env;
    const servicePort = (svc, name) => String(svc.spec.ports.find((p) => p.name === name).port);
    const svc = m.find('Service', FULLNAME);
    assert.equal(podEnv.SOCKUDO_HOST, `${FULLNAME}.${NAMESPACE}.svc`);
    assert.equal(podEnv.SOCKUDO_PORT, servicePort(svc, 'http'));
    assert.equal(podEnv.SOCKUDO_METRICS_PORT, servicePort(svc, 'metrics'));
    const loopback = { SOCKUDO_HOST: '127.0.0.1', SOCKUDO_PORT: String(live.http),
                       SOCKUDO_METRICS_PORT: String(live.metrics) };
    const cpSvc = m.find('Service', `${FULLNAME}-controlplane`);
    if (cpSvc) {
      assert.equal(podEnv.CONTROL_PLANE_HOST, `${FULLNAME}-controlplane.${NAMESPACE}.svc`);
      assert.equal(podEnv.CONTROL_PLANE_REST_PORT, servicePort(cpSvc, 'rest'));
      Object.assign(loopback, { CONTROL_PLANE_HOST: '127.0.0.1', CONTROL_PLANE_REST_PORT: String(live.rest) });
    }
    const result = await runTestPod(pod, { ...podEnv, ...loopback });
    assert.equal(result.code, 0, `${file}: helm test script:\n${result.output}`);
    assert.match(result.output, /all checks passed/);
    if (cpSvc) {
      assert.match(result.output, /ok: control plane GET \/v1\/apps/);
      // With a wrong token the script fails: it really checks.
      const denied = await runTestPod(pod, { ...podEnv, ...loopback, CONTROL_PLANE_TOKEN: 'wrong', CHECK_ATTEMPTS: '1' });
      assert.notEqual(denied.code, 0, `${file}: the helm test script passed with a wrong token`);
      assert.match(denied.output, /FAIL: control plane GET \/v1\/apps: expected HTTP 200, got '401'/);
    }
    return null;
  } catch (e) {
    if (e instanceof NotInThisBuild) return e.message;
    throw e;
  } finally {
    for (const stop of stops) await stop();  // servers first (clean exit asserted), then brokers
  }
}

chartTest('ports and probe paths are what the binaries serve, and the helm test pod passes', async (t) => {
  const ran = [];
  // The ci installs, and the redis one serving the default app from each pod (no control plane).
  const installs = [...rendered, ['redis-values.yaml without the control plane', new Manifests(renderer.objects(
    { files: ['redis-values.yaml'], set: ['appManager.driver=memory', 'controlPlane.enabled=false'] }))]];
  for (const [file, m] of installs) {
    const notRun = await liveInstall(file, m);
    if (notRun) t.diagnostic(`${file} not started: ${notRun}`);
    else ran.push(file);
  }
  // These need nothing the build could lack; the others need the Redis app store in the build.
  assert.ok(ran.includes('local-values.yaml'), ran.join());
  assert.ok(ran.includes('redis-values.yaml without the control plane'), ran.join());
  console.log(`# started on loopback: ${ran.join(', ')}`);
});

chartTest('the default app comes from values with the memory app store, not with the Redis one', () => {
  const local = rendered.get('local-values.yaml');
  const cm = local.find('ConfigMap', FULLNAME).data;
  assert.equal(cm.SOCKUDO_DEFAULT_APP_ID, 'chart-app');
  assert.equal(cm.SOCKUDO_DEFAULT_APP_KEY, 'chart-key');
  assert.equal(cm.SOCKUDO_DEFAULT_APP_ALLOWED_ORIGINS, 'https://app.example.com,https://*.example.org');
  const localNode = local.deployment('node').spec.template.spec.containers[0];
  assert.equal(localNode.startupProbe.httpGet.path, '/up');
  assert.equal(localNode.livenessProbe.httpGet.path, '/live');
  for (const file of ['redis-values.yaml', 'nats-values.yaml', 'production-values.yaml']) {
    const m = rendered.get(file);
    const node = m.deployment('node').spec.template.spec.containers[0];
    assert.equal(node.startupProbe.httpGet.path, '/ready', `${file}: an empty shared store must not fail the startup probe`);
    assert.equal(node.livenessProbe.httpGet.path, '/live', file);
    assert.ok(!(node.env || []).some((e) => e.name.startsWith('SOCKUDO_DEFAULT_APP')), file);
    assert.ok(!Object.keys(m.find('ConfigMap', FULLNAME).data).some((k) => k.startsWith('SOCKUDO_DEFAULT_APP')), file);
  }
});

chartTest('controlPlane.tls.secretName mounts the TLS Secret and the control plane accepts its files', async () => {
  const m = new Manifests(renderer.objects({ files: ['redis-values.yaml'], set: ['controlPlane.tls.secretName=cp-tls'] }), EXTERNAL_SECRETS);
  const spec = m.deployment('controlplane').spec.template.spec;
  const volume = spec.volumes.find((v) => v.secret && v.secret.secretName === 'cp-tls');
  assert.ok(volume, 'a volume of Secret cp-tls');
  const container = spec.containers[0];
  const mount = container.volumeMounts.find((v) => v.name === volume.name);
  assert.equal(mount.readOnly, true);
  const env = Object.fromEntries(container.env.filter((e) => 'value' in e).map((e) => [e.name, e.value]));
  assert.equal(env.CONTROL_PLANE_TLS_ENABLED, 'true');
  assert.equal(env.CONTROL_PLANE_TLS_CERT_PATH, `${mount.mountPath}/tls.crt`);
  assert.equal(env.CONTROL_PLANE_TLS_KEY_PATH, `${mount.mountPath}/tls.key`);
  // The files of a kubernetes.io/tls Secret at those paths pass --check-config.
  const dir = fs.mkdtempSync(path.join(tmpRoot, 'tls-'));
  const key = path.join(dir, 'tls.key');
  const cert = path.join(dir, 'tls.crt');
  const r = await runBinary('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert,
    '-days', '1', '-subj', '/CN=controlplane'], {}, 30000);
  assert.equal(r.code, 0, r.stderr);
  const [s] = serverContainers(m, fs.mkdtempSync(path.join(tmpRoot, 'tls-root-'))).filter((c) => c.bin === CP_BIN);
  assert.deepEqual(s.problems, []);
  const checked = await checkConfig(s.bin, { ...s.env, CONTROL_PLANE_TLS_CERT_PATH: cert, CONTROL_PLANE_TLS_KEY_PATH: key });
  assert.equal(checked.code, 0, checked.stderr);
  // Without the Secret nothing of it is rendered.
  const plain = new Manifests(renderer.objects({ files: ['redis-values.yaml'] }), EXTERNAL_SECRETS).deployment('controlplane').spec.template.spec;
  assert.ok(!plain.containers[0].env.some((e) => e.name.startsWith('CONTROL_PLANE_TLS_')));
});

// The rendered objects of one chart install, with what the tests ask of them: lookups by kind and
// name, the pod templates, and a container's environment resolved the way the kubelet does it
// (envFrom ConfigMaps, literal values, configMapKeyRef, secretKeyRef against the rendered Secret
// or a stand-in for an existingSecret), with mounted ConfigMap files written to a temp dir.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

class Manifests {
  // docs: [{source, object}] from chart-render + yaml2json; external: {secretName: {key: value}}
  // stands in for Secrets the chart references but does not render (existingSecret).
  constructor(docs, external = {}) {
    this.docs = docs;
    this.objects = docs.map((d) => d.object);
    this.external = external;
  }

  all(kind) {
    return this.objects.filter((o) => o.kind === kind);
  }

  find(kind, name) {
    return this.objects.find((o) => o.kind === kind && o.metadata.name === name);
  }

  // Deployments and bare Pods (the helm test pod) as { object, podSpec, labels }.
  workloads() {
    const out = [];
    for (const o of this.objects) {
      if (o.kind === 'Deployment') out.push({ object: o, podSpec: o.spec.template.spec, labels: o.spec.template.metadata.labels || {} });
      if (o.kind === 'Pod') out.push({ object: o, podSpec: o.spec, labels: o.metadata.labels || {} });
    }
    return out;
  }

  deployment(component) {
    return this.all('Deployment').find((d) => d.metadata.labels['app.kubernetes.io/component'] === component);
  }

  // Decoded value of a Secret key; undefined when the Secret or key does not exist.
  secretValue(name, key) {
    const secret = this.find('Secret', name);
    if (secret) {
      if (secret.stringData && key in secret.stringData) return String(secret.stringData[key]);
      if (secret.data && key in secret.data) return Buffer.from(secret.data[key], 'base64').toString('utf8');
      return undefined;
    }
    return this.external[name] ? this.external[name][key] : undefined;
  }

  configMapValue(name, key) {
    const cm = this.find('ConfigMap', name);
    return cm && cm.data ? cm.data[key] : undefined;
  }

  // The environment a container starts with. Files of mounted ConfigMap volumes are written
  // under `fileRoot` and variables pointing into a mount are rewritten to the written copy.
  // Returns { env, problems } where problems lists references that do not resolve.
  containerEnv(podSpec, container, fileRoot = null) {
    const env = {};
    const problems = [];
    for (const from of container.envFrom || []) {
      if (from.configMapRef) {
        const cm = this.find('ConfigMap', from.configMapRef.name);
        if (!cm) problems.push(`envFrom: no ConfigMap ${from.configMapRef.name}`);
        else Object.assign(env, cm.data || {});
      } else if (from.secretRef) {
        problems.push('envFrom secretRef is not expected (secrets are referenced key by key)');
      }
    }
    for (const e of container.env || []) {
      if ('value' in e) {
        env[e.name] = String(e.value);
        continue;
      }
      const ref = e.valueFrom || {};
      let value;
      let optional = false;
      let what;
      if (ref.secretKeyRef) {
        value = this.secretValue(ref.secretKeyRef.name, ref.secretKeyRef.key);
        optional = ref.secretKeyRef.optional === true;
        what = `Secret ${ref.secretKeyRef.name} key ${ref.secretKeyRef.key}`;
      } else if (ref.configMapKeyRef) {
        value = this.configMapValue(ref.configMapKeyRef.name, ref.configMapKeyRef.key);
        optional = ref.configMapKeyRef.optional === true;
        what = `ConfigMap ${ref.configMapKeyRef.name} key ${ref.configMapKeyRef.key}`;
      } else {
        problems.push(`${e.name}: unsupported valueFrom ${JSON.stringify(ref)}`);
        continue;
      }
      if (value === undefined) {
        if (!optional) problems.push(`${e.name}: ${what} does not exist`);
        continue;
      }
      env[e.name] = value;
    }
    if (fileRoot) {
      const volumes = new Map((podSpec.volumes || []).map((v) => [v.name, v]));
      for (const mount of container.volumeMounts || []) {
        const volume = volumes.get(mount.name);
        if (!volume || !volume.configMap) continue;
        const cm = this.find('ConfigMap', volume.configMap.name);
        if (!cm) {
          problems.push(`volume ${mount.name}: no ConfigMap ${volume.configMap.name}`);
          continue;
        }
        const dir = path.join(fileRoot, mount.mountPath);
        fs.mkdirSync(dir, { recursive: true });
        const items = volume.configMap.items || Object.keys(cm.data || {}).map((key) => ({ key, path: key }));
        for (const item of items) fs.writeFileSync(path.join(dir, item.path), cm.data[item.key]);
        for (const [name, value] of Object.entries(env)) {
          if (value === mount.mountPath || value.startsWith(`${mount.mountPath}/`)) {
            env[name] = path.join(dir, value.slice(mount.mountPath.length));
          }
        }
      }
    }
    return { env, problems };
  }

  // Pod templates whose labels a selector (matchLabels + matchExpressions) selects.
  selects(selector, labels) {
    const matchLabels = selector.matchLabels || (selector.matchExpressions ? {} : selector);
    for (const [k, v] of Object.entries(matchLabels)) if (labels[k] !== v) return false;
    for (const expr of selector.matchExpressions || []) {
      const has = expr.key in labels;
      if (expr.operator === 'Exists' && !has) return false;
      if (expr.operator === 'DoesNotExist' && has) return false;
      if (expr.operator === 'In' && !(has && expr.values.includes(labels[expr.key]))) return false;
      if (expr.operator === 'NotIn' && has && expr.values.includes(labels[expr.key])) return false;
    }
    return true;
  }

  podsSelectedBy(selector) {
    return this.workloads().filter((w) => w.object.kind === 'Deployment' && this.selects(selector, w.labels));
  }
}

module.exports = { Manifests };

// Renders helm/sockudo offline for the chart tests: builds chart-render (the Helm-compatible
// renderer of the shared tools checked out next to the project, see docs/kubernetes.md) and a
// tiny YAML-to-JSON converter into the build tree, renders the chart with values files and
// --set flags, and returns the manifests as objects, or the merged values as Helm computes them.
'use strict';
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..', '..');
const CHART = path.join(ROOT, 'helm', 'sockudo');
// The CI checkout has the shared tools next to the project; users' clones may not.
const TOOL_DIR = path.resolve(__dirname, '../../../shared/tools/chart-render');
const RELEASE = 'rt';
const NAMESPACE = 'realtime';

function toolMissing() {
  if (fs.existsSync(path.join(TOOL_DIR, 'build.sh'))) return null;
  return `chart-render not found at ${TOOL_DIR} (it comes with the shared tools checkout next to ` +
         'the project); skipping the chart tests';
}

// Where the tools are built: <build dir>/chart-render, next to the binaries under test.
function outputDir() {
  const bin = process.env.SOCKUDO_NODE_BIN;
  if (!bin) throw new Error('SOCKUDO_NODE_BIN is not set (run the tests through ctest)');
  return path.join(path.dirname(bin), '..', 'chart-render');
}

function run(command, args, options) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
    let output = '';
    child.stdout.on('data', (d) => { output += d; });
    child.stderr.on('data', (d) => { output += d; });
    child.on('error', (e) => resolve({ code: -1, output: `${output}${e.message}` }));
    child.on('exit', (code) => resolve({ code, output }));
  });
}

// Builds chart-render (its build.sh is a no-op when up to date) and yaml2json; returns the paths.
async function buildTools() {
  const dir = outputDir();
  fs.mkdirSync(dir, { recursive: true });
  const chartRender = path.join(dir, 'chart-render');
  const built = await run(path.join(TOOL_DIR, 'build.sh'), [chartRender], {});
  if (built.code !== 0) throw new Error(`chart-render build.sh failed (${built.code}):\n${built.output}`);

  // yaml2json is built with the same Debian Go packages build.sh just made sure of.
  const yaml2json = path.join(dir, 'yaml2json');
  const source = path.join(__dirname, 'yaml2json', 'main.go');
  const fresh = fs.existsSync(yaml2json) && fs.statSync(yaml2json).mtimeMs > fs.statSync(source).mtimeMs;
  if (!fresh) {
    const go = fs.existsSync('/usr/lib/go/bin/go') ? '/usr/lib/go/bin/go' : 'go';
    const env = { ...process.env, GO111MODULE: 'off', GOPATH: '/usr/share/gocode', GOFLAGS: '-trimpath',
                  CGO_ENABLED: '0', GOPROXY: 'off' };
    if (!env.HOME && !env.GOCACHE && !env.XDG_CACHE_HOME) env.GOCACHE = path.join(dir, 'gocache');
    const goBuilt = await run(go, ['build', '-o', yaml2json, '.'], { cwd: path.dirname(source), env });
    if (goBuilt.code !== 0) throw new Error(`building yaml2json failed:\n${goBuilt.output}`);
  }
  return { chartRender, yaml2json };
}

// Turns --set / -f options into chart-render arguments: { files: [...], set: [...], setString: [...] }.
function valueArgs({ files = [], set = [], setString = [] } = {}) {
  const args = [];
  for (const f of files) args.push('-f', path.isAbsolute(f) ? f : path.join(CHART, 'ci', f));
  for (const s of set) args.push('--set', s);
  for (const s of setString) args.push('--set-string', s);
  return args;
}

class Renderer {
  constructor(tools) {
    this.tools = tools;
  }

  // YAML stream -> [{source, object}].
  parse(yaml) {
    const r = spawnSync(this.tools.yaml2json, [], { input: yaml, encoding: 'utf8', maxBuffer: 64 << 20 });
    if (r.status !== 0) throw new Error(`yaml2json failed: ${r.stderr}`);
    return JSON.parse(r.stdout);
  }

  // `chart-render template`; returns { code, stdout, stderr }.
  template(values = {}, chartDir = CHART) {
    const args = ['template', RELEASE, chartDir, '--namespace', NAMESPACE, ...valueArgs(values)];
    const r = spawnSync(this.tools.chartRender, args, { encoding: 'utf8', maxBuffer: 64 << 20 });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  // `chart-render lint`; returns { code, output }.
  lint(values = {}) {
    const r = spawnSync(this.tools.chartRender, ['lint', CHART, ...valueArgs(values)], { encoding: 'utf8' });
    return { code: r.status, output: `${r.stdout}${r.stderr}` };
  }

  // Rendered objects; throws with chart-render's message if the render fails.
  objects(values = {}) {
    const r = this.template(values);
    if (r.code !== 0) throw new Error(`chart-render template failed (${r.code}):\n${r.stderr}`);
    return this.parse(r.stdout);
  }

  // The values the templates see (values.yaml, then -f files, then --set), which is what Helm
  // validates against values.schema.json: rendered through a copy of the chart whose only
  // template prints .Values as JSON.
  values(values = {}) {
    if (!this.valuesChart) {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sockudo-chart-values-'));
      fs.copyFileSync(path.join(CHART, 'Chart.yaml'), path.join(dir, 'Chart.yaml'));
      fs.copyFileSync(path.join(CHART, 'values.yaml'), path.join(dir, 'values.yaml'));
      fs.mkdirSync(path.join(dir, 'templates'));
      fs.writeFileSync(path.join(dir, 'templates', 'values.yaml'),
        'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: values\ndata:\n  json: {{ toJson .Values | quote }}\n');
      this.valuesChart = dir;
    }
    const r = this.template(values, this.valuesChart);
    if (r.code !== 0) throw new Error(`rendering the values failed (${r.code}):\n${r.stderr}`);
    return JSON.parse(this.parse(r.stdout)[0].object.data.json);
  }

  cleanup() {
    if (this.valuesChart) fs.rmSync(this.valuesChart, { recursive: true, force: true });
  }
}

module.exports = { CHART, TOOL_DIR, RELEASE, NAMESPACE, toolMissing, buildTools, Renderer };

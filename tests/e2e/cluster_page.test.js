// The live cluster page (controlplane/web/, served by the control plane's REST port at /) in real
// headless Chromium (Debian's /usr/bin/chromium driven by puppeteer-core; no browser download):
// a redis-backed cluster of two sockudo-node processes and a standalone control plane with a
// token. The page asks for the token, lists the two nodes, shows a third node joining and a
// killed node turning DEAD without a reload, shows per-app totals, and the error banner once the
// control plane is gone. The screenshot is kept at <build dir>/test-artifacts/cluster-page.png.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { startCluster, killNode } = require('../support/cluster');
const { startControlPlane, binary: controlPlaneBinary } = require('../support/controlplane');
const { RawClient } = require('../support/raw_client');
const { waitFor, httpRequest, TIME_SCALE } = require('../support/wait');

const CHROMIUM = '/usr/bin/chromium';
const TOKEN = 'page-token';
const STEP_MS = 30000 * TIME_SCALE;  // bound of every test below

function artifactPath() {
  const nodeBin = process.env.SOCKUDO_NODE_BIN;
  if (!nodeBin) throw new Error('SOCKUDO_NODE_BIN is not set (run the tests through ctest)');
  return path.join(path.dirname(path.dirname(nodeBin)), 'test-artifacts', 'cluster-page.png');
}

let cluster;
let cp;
let cpStopped = false;
let browser;
let page;
let base;
let client;
let screenshotTaken = false;
const pageErrors = [];
const foreignRequests = [];

before(async () => {
  assert.ok(fs.existsSync(CHROMIUM),
    `${CHROMIUM} is missing: this test drives Debian's chromium (run scripts/install-test-deps.sh, ` +
    'or sudo apt-get install -y chromium)');
  // A missing binary would make the spawns below fail slowly: say so at once.
  for (const bin of [process.env.SOCKUDO_NODE_BIN, controlPlaneBinary()]) {
    assert.ok(bin && fs.existsSync(bin), `${bin} is missing: build sockudo-node and sockudo-controlplane`);
  }
  const puppeteer = require('puppeteer-core');
  cluster = await startCluster({ driver: 'redis', nodes: 2, env: { APP_MANAGER_DRIVER: 'redis' } });
  cp = await startControlPlane({ token: TOKEN, env: { ...cluster.env } });
  base = `http://127.0.0.1:${cp.restPort}`;
  await waitFor(async () => (await cp.rest('GET', '/v1/cluster/health')).json.aliveNodes === 2,
    { what: 'the control plane to see both nodes' });

  browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      ...(process.getuid && process.getuid() === 0 ? ['--no-sandbox'] : []),
      '--disable-dev-shm-usage', '--no-first-run', '--no-default-browser-check',
    ],
    timeout: 30000,
    protocolTimeout: 30000,
  });
  page = await browser.newPage();
  page.setDefaultTimeout(10000 * TIME_SCALE);
  await page.setViewport({ width: 1366, height: 768 });  // a laptop screen
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error' && !/401/.test(m.text())) pageErrors.push(m.text()); });
  page.on('request', (r) => { if (!r.url().startsWith(base) && !r.url().startsWith('data:')) foreignRequests.push(r.url()); });
}, { timeout: 90000 * TIME_SCALE });

after(async () => {
  if (page && !screenshotTaken) await screenshot().catch(() => {});  // the failing state
  if (browser) await browser.close().catch(() => {});
  if (client) await client.close().catch(() => {});
  const errors = [];
  if (cp && !cpStopped) await cp.stop().catch((e) => errors.push(e));
  if (cluster) await cluster.stop().catch((e) => errors.push(e));
  if (errors.length) throw errors[0];
}, { timeout: 60000 * TIME_SCALE });

async function screenshot() {
  const file = artifactPath();
  fs.mkdirSync(path.dirname(file), { recursive: true });
  await page.screenshot({ path: file, fullPage: true });
  screenshotTaken = true;
  console.log(`cluster page screenshot: ${file}`);
  return file;
}

// What the page shows: one entry per row of the nodes table, and the header.
const rows = () => page.$$eval('#nodes tbody tr[data-node-id]', (trs) => trs.map((tr) => ({
  id: tr.dataset.nodeId, state: tr.dataset.state, address: tr.cells[2].textContent,
  title: tr.cells[0].title, shown: tr.cells[0].textContent, badge: tr.cells[1].textContent,
  notes: tr.cells[9].textContent,
})));
const header = () => page.evaluate(() => {
  const text = (id) => document.getElementById(id).textContent;
  return {
    status: document.getElementById('status').dataset.status, adapter: text('adapter'),
    alive: text('alive-count'), suspect: text('suspect-count'), dead: text('dead-count'),
    leader: document.getElementById('leader').dataset.nodeId, updated: text('updated'),
  };
});
const visible = (selector) => page.$eval(selector, (e) => !e.hidden && e.offsetParent !== null).catch(() => false);
const addressOf = (node) => `127.0.0.1:${node.port}`;
const until = (what, condition) => waitFor(condition, { timeoutMs: 10000, intervalMs: 50, what });

async function apiNodes() {
  const r = await cp.rest('GET', '/v1/cluster/nodes');
  assert.equal(r.status, 200, r.text);
  return r.json.nodes;
}

test('the page is served without a token, the API is not; the page asks for the token and refuses a wrong one', { timeout: STEP_MS }, async () => {
  const index = await httpRequest({ port: cp.restPort, path: '/' });
  assert.equal(index.status, 200);
  assert.match(index.headers['content-type'], /^text\/html/);
  for (const asset of ['/app.js', '/style.css']) {
    assert.equal((await httpRequest({ port: cp.restPort, path: asset })).status, 200, asset);
  }
  assert.equal((await httpRequest({ port: cp.restPort, path: '/v1/cluster/nodes' })).status, 401);

  await page.goto(`${base}/`, { waitUntil: 'domcontentloaded' });
  await page.waitForSelector('#token-form:not([hidden])');
  assert.equal(await visible('#nodes'), false, 'no tables behind the token form');
  assert.equal(await page.evaluate(() => sessionStorage.getItem('sockudo-token')), null);

  await page.type('#token-input', 'not-the-token');
  await page.click('#token-submit');
  await page.waitForSelector('#token-form[data-rejected="true"]:not([hidden])');
  assert.match(await page.$eval('#token-reason', (e) => e.textContent), /refused/);
  assert.equal(await page.evaluate(() => sessionStorage.getItem('sockudo-token')), null);
});

test('with the token it lists the two nodes, ALIVE, with the cluster header', { timeout: STEP_MS }, async () => {
  await page.type('#token-input', TOKEN);
  await page.click('#token-submit');
  await page.waitForSelector('#token-form', { hidden: true });
  assert.equal(await page.evaluate(() => sessionStorage.getItem('sockudo-token')), TOKEN);
  await until('two ALIVE rows', async () => {
    const r = await rows();
    return r.length === 2 && r.every((n) => n.state === 'ALIVE');
  });
  const expected = await apiNodes();
  const shown = await rows();
  assert.deepEqual(shown.map((n) => n.id).sort(), expected.map((n) => n.id).sort());
  assert.deepEqual(shown.map((n) => n.address).sort(), cluster.nodes.map(addressOf).sort());
  for (const n of shown) {
    assert.equal(n.title, n.id, 'full id in the title');
    assert.ok(n.shown.length <= 12, `shortened id "${n.shown}"`);
    assert.equal(n.badge, 'ALIVE');
  }
  await until('the header', async () => {
    const h = await header();
    return h.status === 'HEALTHY' && h.alive === '2' && h.dead === '0' && h.adapter === 'redis';
  });
  const h = await header();
  const leader = expected.find((n) => n.leader);
  assert.equal(h.leader, leader.id);
  assert.match(shown.find((n) => n.id === leader.id).notes, /leader/);
  assert.match(h.updated, /^updated \d/);
  assert.equal(await visible('#forget-token'), true);
});

test('per-app totals show a connected client of an app', { timeout: STEP_MS }, async () => {
  const created = await cp.rest('POST', '/v1/apps?app_id=page-demo', {});
  assert.equal(created.status, 200, created.text);
  const app = created.json;
  client = await waitFor(async () => {
    const c = await RawClient.connect(cluster.nodes[0], app.key);
    if (c.socketId) return c;
    await c.close();
    return null;
  }, { timeoutMs: 5000, intervalMs: 50, what: 'the new app to be usable on node 0' });
  await until('the app row with one connection', () => page.$eval('#apps tr[data-app-id="page-demo"]',
    (tr) => tr.cells[1].textContent === '1').catch(() => false));
});

test('a third node appears live, without a reload', { timeout: STEP_MS }, async () => {
  await page.evaluate(() => { window.notReloaded = true; });
  const third = await cluster.addNode();
  await until('a third ALIVE row for the new node', async () => {
    const r = await rows();
    return r.length === 3 && r.some((n) => n.address === addressOf(third) && n.state === 'ALIVE');
  });
  assert.equal(await page.evaluate(() => window.notReloaded), true, 'the page was not reloaded');
  await until('the header to count 3 alive', async () => (await header()).alive === '3');
});

test('a killed node turns DEAD on the page', { timeout: STEP_MS }, async () => {
  const victim = cluster.nodes[1];
  const victimId = (await apiNodes()).find((n) => n.address === addressOf(victim)).id;
  await page.evaluate(() => { window.notReloaded = true; });
  await killNode(victim);
  await until('the killed node to show DEAD, the two others ALIVE', async () => {
    const r = await rows();
    const dead = r.find((n) => n.id === victimId);
    return dead && dead.state === 'DEAD' && dead.badge === 'DEAD' &&
      r.filter((n) => n.id !== victimId && n.state === 'ALIVE').length === 2;
  });
  await until('the header to count the dead node', async () => {
    const h = await header();
    return h.dead === '1' && h.alive === '2' && h.status === 'DEGRADED';
  });
  assert.equal(await page.evaluate(() => window.notReloaded), true, 'the page was not reloaded');
  assert.equal(await visible('#error'), false);
  await page.mouse.move(0, 0);  // no row under a hover highlight
  await screenshot();
});

test('only its own files and API are fetched, without a script error', { timeout: STEP_MS }, async () => {
  assert.deepEqual(foreignRequests, [], 'no CDN, no external font');
  assert.deepEqual(pageErrors, []);
});

test('"forget token" brings the token form back; a stopped control plane shows the error banner', { timeout: STEP_MS }, async () => {
  await page.click('#forget-token');
  await page.waitForSelector('#token-form:not([hidden])');
  assert.equal(await page.evaluate(() => sessionStorage.getItem('sockudo-token')), null);
  await page.type('#token-input', TOKEN);
  await page.click('#token-submit');
  await until('the nodes again', async () => (await rows()).length === 3);

  cpStopped = true;
  await cp.stop();
  await page.waitForSelector('#error:not([hidden])');
  assert.match(await page.$eval('#error', (e) => e.textContent), /Cannot read the control plane API/);
  assert.equal((await header()).status, 'UNREACHABLE');
  assert.equal((await rows()).length, 3, 'the last known nodes stay listed');
});

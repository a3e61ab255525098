// A real cluster for end-to-end tests: one broker (redis, nats, ...) and several sockudo-node
// processes on it, each on its own free loopback ports. Heartbeats are fast so that joins and
// deaths are seen within a second or two; everything else is the product's defaults.
'use strict';
const { BROKERS } = require('./brokers');
const { startFaultProxy, proxyGroup, portRewriter } = require('./fault_proxy');
const { startServer } = require('./server');
const { httpRequest, waitFor } = require('./wait');

const FAST_HEALTH = {
  ADAPTER_CLUSTER_HEALTH_HEARTBEAT_INTERVAL_MS: '200',
  ADAPTER_CLUSTER_HEALTH_NODE_TIMEOUT_MS: '1200',
  ADAPTER_CLUSTER_HEALTH_CLEANUP_INTERVAL_MS: '200',
};

async function metricValue(node, name) {
  const r = await httpRequest({ port: node.metricsPort, path: '/metrics' });
  const line = r.text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line ? Number(line.split(' ').pop()) : undefined;
}

// A fault proxy (fault_proxy.js) of its own between one node and the broker: for redis and nats
// one proxy; for Redis Cluster one per cluster node, each rewriting the ports the cluster
// announces (CLUSTER SHARDS, -MOVED) to this node's proxies, so that every byte between the node
// and the cluster crosses them. Resolves with { proxy, env } (env points the node at the proxy).
async function startBusProxy(driver, broker) {
  if (driver === 'redis' || driver === 'nats') {
    const proxy = await startFaultProxy({ upstreamPort: broker.port, name: `${driver} link` });
    const env = driver === 'redis' ? { REDIS_URL: `redis://127.0.0.1:${proxy.port}` }
                                   : { NATS_SERVERS: `nats://127.0.0.1:${proxy.port}` };
    return { proxy, env };
  }
  if (driver.startsWith('redis-cluster')) {
    const proxies = [];
    for (const n of broker.nodes) proxies.push(await startFaultProxy({ upstreamPort: n.port, name: `cluster link ${n.port}` }));
    const map = {};
    broker.nodes.forEach((n, i) => { map[n.port] = proxies[i].port; });
    const rewrite = portRewriter(map);
    for (const p of proxies) p.rewriteDown = rewrite;
    return { proxy: proxyGroup(proxies), env: { REDIS_CLUSTER_NODES: proxies.map((p) => `127.0.0.1:${p.port}`).join(',') } };
  }
  throw new Error(`no bus proxy for driver ${driver}`);
}

// Starts the broker of `driver` (or uses `broker`, an already started one) and `nodes`
// sockudo-node processes on it; `env` is added to every node's environment, `config` (an object)
// is every node's config file. With `busProxy: true` each node reaches the broker through its own
// fault proxy (`node.busProxy`: pause, blackhole, delay, reset...). Resolves once every node sees
// all the others (cluster_nodes gauge), so a test never races the first heartbeat.
async function startCluster({ driver, nodes = 2, env = {}, config = null, busProxy = false, broker: given = null }) {
  const broker = given || await BROKERS[driver]();
  const cluster = { driver, broker, nodes: [], proxies: [], env: { ...FAST_HEALTH, ...broker.env, ...env } };
  cluster.addNode = async (extra = {}) => {
    let proxyEnv = {};
    let proxy = null;
    if (busProxy) {
      ({ proxy, env: proxyEnv } = await startBusProxy(driver, broker));
      cluster.proxies.push(proxy);
    }
    const node = await startServer({ env: { ...cluster.env, ...proxyEnv, ...extra }, config });
    node.busProxy = proxy;
    cluster.nodes.push(node);
    return node;
  };
  cluster.waitForPeers = async (expected = cluster.nodes.filter((n) => !n.exited()).length) => {
    const live = cluster.nodes.filter((n) => !n.exited());
    await waitFor(async () => {
      for (const n of live) if ((await metricValue(n, 'sockudo_cluster_nodes')) !== expected) return false;
      return true;
    }, { timeoutMs: 10000, what: `every node to count ${expected} nodes` });
  };
  // Stops the nodes (failing on a crash or non-zero exit), then the broker.
  cluster.stop = async () => {
    const errors = [];
    for (const n of cluster.nodes) {
      if (n.exited() && n.killed) continue;
      try { await n.stop(); } catch (e) { errors.push(e); }
    }
    for (const p of cluster.proxies) await p.close();
    await broker.stop();
    if (errors.length) throw errors[0];
  };
  try {
    for (let i = 0; i < nodes; i++) await cluster.addNode();
    await cluster.waitForPeers(nodes);
  } catch (e) {
    await cluster.stop().catch(() => {});
    throw e;
  }
  return cluster;
}

// SIGKILLs a node (no drain, no goodbye) and waits for the process to be gone.
async function killNode(node) {
  node.killed = true;
  node.child.kill('SIGKILL');
  await waitFor(() => node.exited(), { what: 'the killed node to exit' });
}

module.exports = { startCluster, killNode, metricValue, startBusProxy, FAST_HEALTH };

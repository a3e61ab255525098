// A real cluster for end-to-end tests: one broker (redis, nats, ...) and several sockudo-node
// processes on it, each on its own free loopback ports. Heartbeats are fast so that joins and
// deaths are seen within a second or two; everything else is the product's defaults.
'use strict';
const { BROKERS } = require('./brokers');
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

// Starts the broker of `driver` and `nodes` sockudo-node processes on it; `env` is added to every
// node's environment, `config` (an object) is every node's config file. Resolves once every node sees all the others (cluster_nodes gauge), so a
// test never races the first heartbeat.
async function startCluster({ driver, nodes = 2, env = {}, config = null }) {
  const broker = await BROKERS[driver]();
  const cluster = { driver, broker, nodes: [], env: { ...FAST_HEALTH, ...broker.env, ...env } };
  cluster.addNode = async (extra = {}) => {
    const node = await startServer({ env: { ...cluster.env, ...extra }, config });
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

module.exports = { startCluster, killNode, metricValue };

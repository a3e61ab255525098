// Three sockudo-node processes on one real three-master Redis Cluster with sharded pub/sub
// (adapter.cluster.use_sharded_pubsub) behave as one node.
'use strict';
require('../support/cluster_scenarios').defineClusterTests('redis-cluster-sharded');

// Three sockudo-node processes on one real three-master Redis Cluster behave as one node
// (spec/cluster.md, classic pub/sub).
'use strict';
require('../support/cluster_scenarios').defineClusterTests('redis-cluster');

// Three sockudo-node processes on one real nats broker behave as one node (spec/cluster.md).
'use strict';
require('../support/cluster_scenarios').defineClusterTests('nats');

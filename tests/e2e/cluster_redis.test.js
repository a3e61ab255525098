// Three sockudo-node processes on one real redis broker behave as one node (spec/cluster.md).
'use strict';
require('../support/cluster_scenarios').defineClusterTests('redis');

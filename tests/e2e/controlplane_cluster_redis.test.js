// The control plane over two real nodes on a real redis bus (tests/support/controlplane_scenarios.js).
'use strict';
require('../support/controlplane_scenarios').defineControlPlaneClusterTests('redis');

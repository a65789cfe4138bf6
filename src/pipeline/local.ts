// Local mode's entry points under their earlier names (pipeline/conformance.ts and
// other callers import them from here). What used to live in this file is now split:
// cluster.ts (opening a cluster, its state paths), plan/names.ts (every name and
// label), providers/local.ts (the node containers) and node-ops.ts (work on a node).
export { LOCAL_DEFAULT_NAME, adminKubeconfigPath, bundlesDir, defaultLocalConfig, hostResolvers, openLocalCluster, type LocalCluster } from './cluster.js';
export { NODE_BUNDLE, TEST_LABEL, clusterLabels, names, spareOnDown } from '../plan/names.js';
export { containerTarget, localSubnet } from '../providers/local.js';

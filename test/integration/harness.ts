// Shared set-up of the integration suites: a real engine, real images.
// Ryuk (testcontainers' reaper) needs an image pull, which this network forbids:
// the suites remove what they start themselves, found by label.
process.env.TESTCONTAINERS_RYUK_DISABLED = 'true';

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseClusterConfig } from '../../src/config/load.js';
import type { ResolvedConfig } from '../../src/config/defaults.js';
import { fetchAndBuild, type Artifacts } from '../../src/pipeline/artifacts.js';
import { ConsoleReporter } from '../../src/pipeline/progress.js';
import { readFixture } from '../helpers/fixtures.js';

// `up` merges a context into the user's kubeconfig: the suites' clusters go into a file
// of their own, never into the kubeconfig of whoever runs the tests.
process.env.KUBECONFIG = join(mkdtempSync(join(tmpdir(), 'k8s-img-it-kube-')), 'config');

/**
 * Labels of the suites' throw-away containers: a test label and a cluster of their own,
 * which also overrides a cluster label the image may carry (never the default "local").
 */
export const TEST_LABELS = { 'io.k8s-img.managed': 'true', 'io.k8s-img.test': 'true', 'io.k8s-img.cluster': 'k8s-img-it-images' };

export function fixtureConfig(name: string): ResolvedConfig {
  return parseClusterConfig(readFixture(join('valid', name)), name).config;
}

let built: Promise<Artifacts> | undefined;

/** fetch + build, as `k8s-img build` does (cached: fast after the first run on a machine). */
export function ensureImages(config: ResolvedConfig): Promise<Artifacts> {
  built ??= fetchAndBuild(config, new ConsoleReporter(process.stderr));
  return built;
}

/** The tutorial's topology (sm1 control plane; sw1 worker + etcd; sw2 worker) at `<net>.206-208`. */
export function tutorialNodes(net: string): string {
  return `  - { name: sm1, address: ${net}.206, roles: [control-plane] }
  - { name: sw1, address: ${net}.207, roles: [worker, etcd] }
  - { name: sw2, address: ${net}.208, roles: [worker] }
`;
}

/** Writes a three-node cluster.yaml on a network of its own (tests never touch the default cluster). */
export function writeTestCluster(name: string, nodes: string, extra = ''): string {
  const dir = mkdtempSync(join(tmpdir(), `k8s-img-${name}-`));
  const path = join(dir, 'cluster.yaml');
  writeFileSync(path, `apiVersion: k8s-img/v1alpha1\nkind: Cluster\nname: ${name}\nnodes:\n${nodes}${extra}`);
  return path;
}

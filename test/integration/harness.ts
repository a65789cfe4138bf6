// Shared set-up of the integration suites: a real engine, real images.
// Ryuk (testcontainers' reaper) needs an image pull, which this network forbids:
// the suites remove what they start themselves, found by label.
process.env.TESTCONTAINERS_RYUK_DISABLED = 'true';

import { removeLocalCluster } from '../../src/providers/local.js';
import { scratchDir } from '../helpers/scratch.js';
import { writeFileSync } from 'node:fs';
import { after, before } from 'node:test';
import { join } from 'node:path';
import { parseClusterConfig } from '../../src/config/load.js';
import type { ResolvedConfig } from '../../src/config/defaults.js';
import { fetchAndBuild, type Artifacts } from '../../src/pipeline/artifacts.js';
import { ConsoleReporter } from '../../src/pipeline/progress.js';
import type { DockerEngine } from '../../src/runtime/docker.js';
import { readFixture } from '../helpers/fixtures.js';

// `up` merges a context into the user's kubeconfig: the suites' clusters go into a file
// of their own, never into the kubeconfig of whoever runs the tests.
process.env.KUBECONFIG = join(scratchDir('k8s-img-it-kube-'), 'config');

/**
 * Labels of the suites' throw-away containers: a test label and a cluster of their own,
 * which also overrides a cluster label the image may carry (never the default "local").
 */
export const TEST_LABELS = { 'io.k8s-img.managed': 'true', 'io.k8s-img.test': 'true', 'io.k8s-img.cluster': `k8s-img-${process.env.K8S_IMG_IT_NAME ?? 'it'}-images` };

/**
 * Engineers who share one machine run the suites side by side, each on their own /24s,
 * cluster names and image tags: K8S_IMG_IT_NETS="230,231,232,233" (the third octets
 * the suites use, in order), K8S_IMG_IT_NAME="it9" (cluster names start with it),
 * K8S_IMG_IT_IMAGES="it9" (image prefix). CI leaves them unset.
 */
const NETS = (process.env.K8S_IMG_IT_NETS ?? '240,241,242,243').split(',').map((n) => Number(n.trim()));
export const IT_IMAGES = process.env.K8S_IMG_IT_IMAGES || process.env.K8S_IMG_TEST_PREFIX || 'k8s-img';

/**
 * The first three octets of the suite's `i`-th node network, e.g. "192.168.240". Suites
 * numbered past the default list (4: etcd snapshots, 5: upgrade, 6: etcd snapshots with 3
 * members, 7: upgrade by edit, 8: upgrade over SSH) keep their own network unless
 * K8S_IMG_IT_NETS is that long.
 */
export function testNet(i: number, otherwise?: string): string {
  const octet = NETS[i];
  if (octet === undefined && otherwise) return otherwise;
  if (octet === undefined || !Number.isInteger(octet)) throw new Error(`K8S_IMG_IT_NETS names no network number ${i}`);
  return `192.168.${octet}`;
}

/** A suite's cluster name: "it" + what it tests, or K8S_IMG_IT_NAME + it. */
export function testName(what: string): string {
  return `${process.env.K8S_IMG_IT_NAME ?? 'it'}${what}`;
}

/** The suites' image prefix (K8S_IMG_IT_IMAGES, or K8S_IMG_TEST_PREFIX as some scripts say). */
export const TEST_PREFIX = IT_IMAGES;

export function fixtureConfig(name: string): ResolvedConfig {
  const config = parseClusterConfig(readFixture(join('valid', name)), name).config;
  return { ...config, images: { ...config.images, prefix: IT_IMAGES } };
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
  // Its cluster's state (bundles and image archives, GBs) goes when the test process ends.
  const dir = scratchDir(`k8s-img-${name}-`);
  const path = join(dir, 'cluster.yaml');
  const images = /^images:/m.test(extra) ? '' : `images: { prefix: ${IT_IMAGES} }\n`;
  writeFileSync(path, `apiVersion: k8s-img/v1alpha1\nkind: Cluster\nname: ${name}\nnodes:\n${nodes}${extra}${images}`);
  return path;
}

/**
 * A suite's own cluster: images built before it, and its containers, volumes and network
 * removed by label before (a leftover from an interrupted run would hold the addresses)
 * and after; `client` is closed first. Prints how long the suite had the cluster.
 */
export function ownCluster(docker: DockerEngine, name: string, client: () => { close(): void } | undefined, what = name): void {
  const started = Date.now();
  before(async () => {
    await ensureImages(fixtureConfig('tutorial-secure.yaml'));
    await removeLocalCluster(docker, name);
  });
  after(async () => {
    client()?.close();
    await removeLocalCluster(docker, name);
    process.stderr.write(`${what}: ${((Date.now() - started) / 1000).toFixed(0)} s with the cluster\n`);
  });
}

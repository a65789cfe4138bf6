// The conformance suite for the cluster's Kubernetes version: e2e.test and ginkgo, built from
// the Go module proxy and cached in the binary cache like the components.
import type { ResolvedConfig } from '../config/defaults.js';
import { findRelease } from '../config/versions.js';
import { conformanceGroups } from '../conformance/recipes.js';
import { FetchError } from '../errors.js';
import { BinaryCache } from '../runtime/bincache.js';
import { run } from '../runtime/exec.js';
import { GoToolchain } from '../runtime/gotool.js';
import { cacheDir } from '../runtime/paths.js';
import { fetchGroup, type FetchContext } from './fetch.js';
import type { Reporter } from './progress.js';

export interface Suite {
  /** Absolute path of e2e.test (in the binary cache: do not modify). */
  e2eTest: string;
  /** Absolute path of the ginkgo CLI. */
  ginkgo: string;
  /** What e2e.test is built from and stamped with, without the v (1.37.2). */
  kubernetesVersion: string;
  /** What `ginkgo version` says (2.32.0): the version Kubernetes' module graph selects. */
  ginkgoVersion: string;
}

/**
 * Builds (first time: ~15 min on 2 cores) or finds in the cache e2e.test and ginkgo for
 * config.kubernetesVersion. Always from the Go module proxy (binaries.goproxy honoured),
 * whatever binaries.source says: upstream publishes no offline-usable suite for us to check.
 */
export async function buildSuite(config: ResolvedConfig, reporter: Reporter): Promise<Suite> {
  const release = findRelease(config.kubernetesVersion);
  if (!release) throw new FetchError(`unsupported Kubernetes version ${config.kubernetesVersion}`, 'run k8s-img validate');
  const ctx: FetchContext = { config, cache: new BinaryCache(cacheDir()), go: new GoToolchain({ proxy: config.binaries.goproxy }), reporter };
  const [e2e, ginkgo] = conformanceGroups(release);
  const e2eTest = (await fetchGroup(ctx, e2e!))['e2e.test'].path;
  const ginkgoPath = (await fetchGroup(ctx, ginkgo!)).ginkgo.path;
  const said = await run(ginkgoPath, ['version']);
  const ginkgoVersion = /Ginkgo Version (\S+)/.exec(said.stdout)?.[1];
  if (said.code !== 0 || !ginkgoVersion) throw new FetchError(`${ginkgoPath} does not run (${said.stderr.trim() || said.stdout.trim()})`, `remove ${ctx.cache.root}/bin/ginkgo and build again`);
  return { e2eTest, ginkgo: ginkgoPath, kubernetesVersion: release.kubernetes, ginkgoVersion };
}

// The effects the image pipelines share: engine, cache, fetched binaries.
import { join } from 'node:path';
import type { ResolvedConfig } from '../config/defaults.js';
import { BinaryCache } from '../runtime/bincache.js';
import { DockerEngine } from '../runtime/docker.js';
import { GoToolchain } from '../runtime/gotool.js';
import { cacheDir } from '../runtime/paths.js';
import { buildImages, type BuiltImage } from './build.js';
import { fetchBinaries, type FetchedBinaries } from './fetch.js';
import type { Reporter } from './progress.js';

export interface Artifacts {
  bins: FetchedBinaries;
  images: BuiltImage[];
  /** Scratch space in the cache (build contexts, root filesystems). */
  workDir: string;
}

/** fetch (cached) + build (content-addressed): what `build` and `up` both do. */
export async function fetchAndBuild(config: ResolvedConfig, reporter: Reporter, docker = new DockerEngine(), opts: { locked?: boolean } = {}): Promise<Artifacts> {
  await docker.ping();
  const cache = new BinaryCache(cacheDir());
  const workDir = join(cache.root, 'work');
  const go = new GoToolchain({ proxy: config.binaries.goproxy });
  const bins = await fetchBinaries({ config, cache, go, reporter });
  return { bins, images: await buildImages({ config, bins, docker, reporter, workDir, go, ...opts }), workDir };
}

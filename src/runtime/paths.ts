// Where things live: the package's own data (templates, images), the cache, the state.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root, found from this file (never from the cwd). */
export const PACKAGE_ROOT = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) || !existsSync(join(dir, 'templates'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('k8s-img: cannot find the package root (templates/ next to package.json)');
    dir = up;
  }
  return dir;
})();

/** Binaries and build outputs, shared by all clusters; keyed by component, version and source. */
export function cacheDir(): string {
  const base = process.env.K8S_IMG_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'k8s-img');
  return resolve(base);
}

/** Keys, certificates and the local cluster's bundles, next to cluster.yaml. */
export function stateDir(configPath: string, cluster: string): string {
  return join(dirname(resolve(configPath)), '.k8s-img', cluster);
}

/** State of clusters started by `up` without -c. */
export function localStateRoot(): string {
  return resolve(process.env.K8S_IMG_STATE ?? join(process.env.XDG_DATA_HOME ?? join(homedir(), '.local', 'share'), 'k8s-img'));
}

/** The Debian archive root filesystems and source tarballs come from. */
export function debianMirror(): string {
  return process.env.K8S_IMG_DEBIAN_MIRROR ?? 'http://deb.debian.org/debian';
}

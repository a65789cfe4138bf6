// What day-two operations (etcd snapshots, restores, upgrades) need of a node: the
// NodeProvider's NodeHost (run argv, put a tar) plus getting a tar back (the snapshot).
import type { NodeHost } from '../providers/types.js';
import type { DockerEngine } from './docker.js';

export interface NodeAccess extends NodeHost {
  /** A tar stream holding `path` on the node (its last path element at the root). */
  getTar(path: string): Promise<NodeJS.ReadableStream>;
}

/** A local node container: `docker exec`, `docker cp` in and out. */
export function containerAccess(docker: DockerEngine, node: string, container: string, bundleDir: string): NodeAccess {
  return {
    node,
    where: `container ${container}`,
    bundleDir,
    exec: (argv, dir, stdinFile) => docker.exec(container, argv, { ...(dir ? { workdir: dir } : {}), ...(stdinFile ? { stdinFile } : {}) }),
    putTar: (stream, dir) => docker.putArchive(container, stream, dir),
    getTar: (path) => docker.getArchive(container, path),
    close: () => {},
  };
}

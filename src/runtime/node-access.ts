// What day-two operations (etcd snapshots, restores, upgrades) need of a node: the
// NodeProvider's NodeHost: run argv, put a tar in, get a tar back (the snapshot).
import type { NodeHost } from '../providers/types.js';
import type { DockerEngine } from './docker.js';

export type NodeAccess = NodeHost;

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

// What the bare baseline puts on a node besides its bundle, taken from the built images
// once per benchmark (as the tutorial downloads its binaries before it starts):
// - each component image's own files (its layout in src/plan/images.ts: the binaries and
//   scripts k8s-img adds to its base), as one tar per image;
// - the host packages the tools-based services expect from their userland and the node
//   image lacks (ipset, conntrack, ...; the tutorial's `apt install`): the files of the
//   Debian packages the tools base has installed and the node image has not.
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { IMAGES } from '../../src/plan/images.js';
import { LABEL } from '../../src/plan/names.js';
import type { ImageId } from '../../src/plan/types.js';
import type { DockerEngine } from '../../src/runtime/docker.js';
import type { ImageConfig } from './bare-units.js';

/** Marks what the bare benchmark creates on the engine (besides the k8s-img labels). */
export const BENCH_LABEL = 'io.k8s-img.bench';

/** A container made from `ref` (never started) for reading its files; removed afterwards. */
async function withImageContainer<T>(docker: DockerEngine, ref: string, fn: (c: ReturnType<DockerEngine['api']['getContainer']>) => Promise<T>): Promise<T> {
  const c = await docker.api.createContainer({ Image: ref, Cmd: ['/k8s-img-never-run'], Labels: { [LABEL.managed]: 'true', [LABEL.component]: 'read-file', [BENCH_LABEL]: 'bare' } });
  try {
    return await fn(c);
  } finally {
    await c.remove({ force: true }).catch(() => undefined);
  }
}

/** Writes the entries of the image's filesystem whose path `keep` accepts into `out` (a tar for `docker cp` to /). */
async function exportFiltered(docker: DockerEngine, ref: string, keep: (path: string) => boolean, out: string): Promise<number> {
  return withImageContainer(docker, ref, async (c) => {
    const extract = tar.extract();
    const pack = tar.pack();
    let kept = 0;
    extract.on('entry', (header, stream, next) => {
      if (header.type === 'directory' || !keep(header.name.replace(/^\.?\//, ''))) {
        stream.on('end', next);
        stream.resume();
        return;
      }
      kept++;
      stream.pipe(pack.entry(header, next));
    });
    extract.on('finish', () => pack.finalize());
    const written = pipeline(pack, createWriteStream(out));
    await pipeline((await c.export()) as unknown as NodeJS.ReadableStream, extract);
    await written;
    return kept;
  });
}

export async function imageConfig(docker: DockerEngine, ref: string): Promise<ImageConfig> {
  const c = (await docker.api.getImage(ref).inspect()).Config;
  return { entrypoint: c.Entrypoint ? [c.Entrypoint].flat() : [], cmd: c.Cmd ?? [], env: c.Env ?? [], user: c.User ?? '', workdir: c.WorkingDir ?? '' };
}

/** The image's own files (its layout) as a tar rooted at /, written to `dir`/<id>.tar. */
export async function imageFilesTar(docker: DockerEngine, id: ImageId, ref: string, dir: string): Promise<string> {
  const want = new Set(IMAGES[id].layout.map((e) => e.to.replace(/^\//, '')));
  const out = join(dir, `${id}.tar`);
  const kept = await exportFiltered(docker, ref, (p) => want.has(p), out);
  if (kept !== want.size) throw new Error(`${ref}: found ${kept} of the ${want.size} files of its layout`);
  return out;
}

/** Installed packages of a dpkg status file. */
function installed(status: string): Set<string> {
  return new Set(
    status
      .split(/\n\n+/)
      .filter((b) => /^Status: install ok installed$/m.test(b))
      .map((b) => /^Package: (\S+)$/m.exec(b)?.[1])
      .filter((p): p is string => Boolean(p)),
  );
}

/** /var/lib/dpkg of an image: its status and every package's file list. */
async function dpkgDb(docker: DockerEngine, ref: string): Promise<{ status: string; lists: Map<string, string> }> {
  return withImageContainer(docker, ref, async (c) => {
    const extract = tar.extract();
    let status = '';
    const lists = new Map<string, string>();
    extract.on('entry', (header, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on('data', (b: unknown) => chunks.push(b as Buffer));
      stream.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        if (header.name === 'dpkg/status') status = text;
        const m = /^dpkg\/info\/([^/:]+)(?::[^/]+)?\.list$/.exec(header.name);
        if (m) lists.set(m[1]!, text);
        next();
      });
    });
    await pipeline((await c.getArchive({ path: '/var/lib/dpkg' })) as unknown as NodeJS.ReadableStream, extract);
    return { status, lists };
  });
}

/**
 * The files of the Debian packages `toolsRef` has and `nodeRef` lacks, as a tar rooted
 * at / (paths through Debian's merged-/usr links are written under /usr).
 */
export async function hostPackagesTar(docker: DockerEngine, toolsRef: string, nodeRef: string, dir: string): Promise<{ file: string; packages: string[] }> {
  const tools = await dpkgDb(docker, toolsRef);
  const node = installed((await dpkgDb(docker, nodeRef)).status);
  const packages = [...installed(tools.status)].filter((p) => !node.has(p)).sort();
  const want = new Set<string>();
  for (const p of packages) {
    for (const line of (tools.lists.get(p) ?? '').split('\n')) {
      if (line.startsWith('/')) want.add(line.slice(1).replace(/^(lib|lib64|bin|sbin)\//, 'usr/$1/'));
    }
  }
  const file = join(dir, 'host-packages.tar');
  await exportFiltered(docker, toolsRef, (p) => want.has(p), file);
  return { file, packages };
}

// build: one image per component from the fetched binaries. Each image is a plan (its
// base, the files of its one layer with where they come from, its config) that
// assemble.ts writes and loads reproducibly; an image whose inputs have not changed is
// left alone.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ResolvedConfig } from '../config/defaults.js';
import { findRelease } from '../config/versions.js';
import { BuildError } from '../errors.js';
import { groupsFor } from './fetch.js';
import type { Group } from '../fetch/recipes.js';
import { ROOTFS } from '../plan/bases.js';
import { IMAGES, imageRef, type ImageDef } from '../plan/images.js';
import { IMAGE_IDS, type ImageId } from '../plan/types.js';
import { LABEL } from '../plan/names.js';
import type { LayerEntry } from '../render/layer-tar.js';
import type { FileOrigin, HostPackage } from '../render/sbom.js';
import type { DockerEngine } from '../runtime/docker.js';
import type { GoToolchain } from '../runtime/gotool.js';
import { parseHostPackages } from '../runtime/host-packages.js';
import { sourceDateEpoch } from '../runtime/image-configs.js';
import type { LayerSource } from '../runtime/image-load.js';
import { PACKAGE_ROOT } from '../runtime/paths.js';
import { TOOL_VERSION } from '../version.js';
import { assembleImage, type BuiltImage, type FilesLayer, type ImagePlan } from './assemble.js';
import type { FetchedBinaries, FetchedBinary } from './fetch.js';
import type { Reporter } from './progress.js';
import { rootfsImage, type RootfsImage } from './rootfs.js';

export { INPUT_HASH_LABEL, SBOM_LABEL, BASE_LABEL, type BuiltImage } from './assemble.js';

export interface BuildContext {
  config: ResolvedConfig;
  bins: FetchedBinaries;
  docker: DockerEngine;
  reporter: Reporter;
  /** Scratch space (the e2e images' build steps; root filesystems live in the cache's rootfs/). */
  workDir: string;
  /** For the SBOM: `go version -m` of each binary. */
  go?: GoToolchain;
  /** Stop rather than re-pin when the Debian mirror no longer has a lock's packages. */
  locked?: boolean;
}

const sha = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

/** A user table for scratch images: root, and nonroot (65532) as in distroless. */
const PASSWD = 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n';
const GROUP = 'root:x:0:\nnonroot:x:65532:\n';
const CA_BUNDLE = 'etc/ssl/certs/ca-certificates.crt';

type Entry = LayerEntry<LayerSource>;
const file = (path: string, content: LayerSource, size: number, mode: number): Entry => ({ path, type: 'file', mode, uid: 0, gid: 0, size, content });
const dir = (path: string, mode: number): Entry => ({ path, type: 'dir', mode, uid: 0, gid: 0, size: 0 });
const symlink = (path: string, target: string): Entry => ({ path, type: 'symlink', mode: 0o777, uid: 0, gid: 0, size: 0, linkname: target });

/** One of our own files (a script), with its checksum. */
function ownFile(path: string, src: string, mode = 0o755): Entry {
  const data = readFileSync(src);
  return file(path, { file: src, sha256: sha(data) }, data.length, mode);
}

/** Where a fetched binary comes from, as the SBOM says it (Go binaries are recognised from their build info). */
export function originOf(bin: FetchedBinary, groups: readonly Group<string, string>[]): FileOrigin {
  const g = groups.find((x) => x.id === bin.group);
  const details = bin.details ?? {};
  const toolchain: HostPackage[] = parseHostPackages(details.buildHost);
  if (bin.source === 'release' || bin.source === 'dir') {
    return { kind: 'copied', source: { name: bin.group, version: bin.version, comment: `binaries.source: ${bin.source}` }, from: bin.source === 'release' ? 'the release archive' : 'binaries.dir' };
  }
  if (!g) return { kind: 'k8s-img' };
  const r = g.go;
  if (r.kind === 'c') {
    const source = 'module' in r.source
      ? { name: r.source.module, version: r.source.version, ...(details.sourceSum ? { h1: details.sourceSum } : {}), comment: `${r.source.file} of the module` }
      : { name: 'k8s-img', version: TOOL_VERSION, ...(details.sourceSha256 ? { sha256: details.sourceSha256 } : {}), comment: r.source.packageFile };
    return { kind: 'c', source, toolchain };
  }
  if (r.kind === 'kconfig') return { kind: 'c', source: { name: g.id, version: g.version, sha256: r.tarball.sha256, comment: `release tarball ${r.tarball.pool.split('/').pop()}` }, toolchain };
  if (r.kind === 'go' && r.copyFiles?.some(([, name]) => name === bin.path.split('/').pop())) {
    const from = r.copyFiles.find(([, name]) => name === bin.path.split('/').pop())![0];
    return { kind: 'copied', source: { name: r.module, version: r.version, ...(details.moduleSum ? { h1: details.moduleSum } : {}) }, from };
  }
  // A Go binary: the SBOM replaces this by its build info (`go version -m`) when it can be read.
  return { kind: 'copied', source: { name: g.id, version: g.version, comment: 'a Go build whose build info could not be read' }, from: 'the Go build' };
}

/** The CA bundle scratch images carry: the one of the tools base (Debian's ca-certificates), never the build machine's. */
export interface CaBundle {
  data: Buffer;
  origin: FileOrigin;
}

async function caBundle(ctx: BuildContext, tools: { ref: string; rootfs?: RootfsImage }): Promise<CaBundle> {
  const data = await ctx.docker.readImageFile(tools.ref, `/${CA_BUNDLE}`);
  const pkg = tools.rootfs?.lock.packages.find((p) => p.name === 'ca-certificates');
  const source = pkg
    ? { name: 'ca-certificates', version: pkg.version, sha256: pkg.sha256, purl: `pkg:deb/debian/ca-certificates@${pkg.version}?arch=${pkg.arch}`, comment: 'the bundle its postinst writes, from the tools root filesystem' }
    : { name: 'ca-certificates', version: 'NOASSERTION', comment: `the bundle of images.base ${tools.ref}` };
  return { data, origin: { kind: 'copied', source, from: `/${CA_BUNDLE}` } };
}

/** The plan of one component image. */
export function componentPlan(
  id: ImageId,
  def: ImageDef,
  ref: string,
  version: string,
  bins: FetchedBinaries,
  groups: readonly Group<string, string>[],
  base: { ref: 'scratch' } | { ref: string; name: string },
  ca: CaBundle | undefined,
): ImagePlan {
  const entries: Entry[] = [];
  const origins = new Map<string, FileOrigin>();
  for (const e of def.layout) {
    const to = e.to.replace(/^\//, '');
    if ('artifact' in e) {
      const b = bins[e.artifact];
      if (!b) throw new BuildError(`image ${id} needs ${e.artifact}, which fetch did not provide`, 'run k8s-img fetch');
      entries.push(file(to, { file: b.path, sha256: b.sha256 }, b.size, e.artifact.endsWith('.yaml') ? 0o644 : 0o755));
      origins.set(to, originOf(b, groups));
    } else if ('script' in e) {
      entries.push(ownFile(to, join(PACKAGE_ROOT, 'images', e.dir ?? id, e.script)));
    } else if ('file' in e) {
      entries.push(ownFile(to, join(PACKAGE_ROOT, 'images', id, e.file), 0o644));
    } else {
      entries.push(symlink(to, e.link));
    }
  }
  if (def.base === 'scratch' && !def.bare) {
    entries.push(file('etc/passwd', Buffer.from(PASSWD), PASSWD.length, 0o644), file('etc/group', Buffer.from(GROUP), GROUP.length, 0o644), dir('tmp', 0o1777));
    if (ca) {
      entries.push(file(CA_BUNDLE, ca.data, ca.data.length, 0o644));
      origins.set(CA_BUNDLE, ca.origin);
    }
  }
  const main = def.wraps[0] ? bins[def.wraps[0]] : undefined;
  const layer: FilesLayer = { entries, origins, history: { created_by: `k8s-img ${TOOL_VERSION}: ${def.layout.map((e) => e.to).join(' ')}` } };
  return {
    id,
    ref,
    base,
    layers: [layer],
    config: {
      labels: {
        'org.opencontainers.image.title': `k8s-img ${id}`,
        'org.opencontainers.image.description': def.description,
        'org.opencontainers.image.version': version,
        'org.opencontainers.image.source': main?.upstream ?? 'https://github.com/k8s-img/k8s-img',
        'org.opencontainers.image.revision': main ? `${main.group}@${main.version} (${main.source})` : TOOL_VERSION,
        'org.opencontainers.image.vendor': 'k8s-img',
        [LABEL.managed]: 'true',
        [LABEL.component]: id,
      },
      ...(def.base === 'tools' ? { env: [`K8S_IMG_VERSION=${TOOL_VERSION}`] } : {}),
      user: def.user,
      entrypoint: def.entrypoint,
      ...(def.cmd ? { cmd: def.cmd } : {}),
    },
    sbom: { image: { name: id, version, description: def.description } },
  };
}

/** The tools base: made from its lock, or images.base as given. */
async function toolsBase(ctx: BuildContext): Promise<{ ref: string; name: string; rootfs?: RootfsImage }> {
  if (ctx.config.images.base) return { ref: ctx.config.images.base, name: ctx.config.images.base };
  const rootfs = await rootfsImage(ROOTFS.tools, assembleContext(ctx));
  return { ref: rootfs.ref, name: rootfs.name, rootfs };
}

export function assembleContext(ctx: Omit<BuildContext, 'bins'>) {
  return { ...ctx, epoch: sourceDateEpoch(), ...(ctx.go ? { go: ctx.go } : {}) };
}

/** Builds every image (or `only`), skipping those whose inputs have not changed. */
export async function buildImages(ctx: BuildContext, only: readonly ImageId[] = IMAGE_IDS): Promise<BuiltImage[]> {
  const release = findRelease(ctx.config.kubernetesVersion);
  if (!release) throw new BuildError(`unsupported Kubernetes version ${ctx.config.kubernetesVersion}`, 'run k8s-img validate');
  const groups = groupsFor(ctx.config);
  // Scratch images take their CA bundle from the tools base, so it is always made.
  const tools = await toolsBase(ctx);
  let ca: CaBundle | undefined;
  const results: BuiltImage[] = [];
  for (const id of only) {
    const def = IMAGES[id];
    if (def.base === 'scratch' && !def.bare) ca ??= await caBundle(ctx, tools);
    const base = def.base === 'tools' ? { ref: tools.ref, name: tools.name } : ({ ref: 'scratch' } as const);
    const plan = componentPlan(id, def, imageRef(ctx.config.images.prefix, id, release), def.tag(release), ctx.bins, groups, base, ca);
    results.push(await assembleImage(assembleContext(ctx), plan));
  }
  return results;
}

/** The node image of local mode: Debian with Docker and Compose v2, and our entrypoint. */
export async function buildNodeImage(ctx: Omit<BuildContext, 'bins'>): Promise<BuiltImage> {
  const rootfs = await rootfsImage(ROOTFS.node, assembleContext(ctx));
  const ref = nodeImageRef(ctx.config.images.prefix);
  const script = 'usr/local/bin/k8s-img-node';
  const description = 'a machine for local mode: Debian with Docker and Compose v2';
  return assembleImage(assembleContext(ctx), {
    id: 'node',
    ref,
    base: { ref: rootfs.ref, name: rootfs.name },
    layers: [{ entries: [ownFile(script, join(PACKAGE_ROOT, 'images', 'node', 'k8s-img-node'))], origins: new Map(), history: { created_by: `k8s-img ${TOOL_VERSION}: /${script}` } }],
    config: {
      labels: { [LABEL.managed]: 'true', [LABEL.component]: 'node', 'org.opencontainers.image.version': TOOL_VERSION, 'org.opencontainers.image.description': description },
      // No VOLUME /var: node containers mount their own (providers/image-store.ts), and the
      // tools that make image stores read the image's /var as it is.
      env: [`K8S_IMG_VERSION=${TOOL_VERSION}`],
      stopSignal: 'SIGTERM',
      entrypoint: [`/${script}`],
    },
    sbom: { image: { name: 'node', version: TOOL_VERSION, description } },
  });
}

export function nodeImageRef(prefix: string): string {
  return `${prefix}/node:${TOOL_VERSION}`;
}

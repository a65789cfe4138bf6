// build: one image per component from the fetched binaries, with dockerode.
// Content-addressed: the inputs' hash is a label, so an unchanged image is not rebuilt.
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ResolvedConfig } from '../config/defaults.js';
import { findRelease } from '../config/versions.js';
import { BuildError } from '../errors.js';
import { ROOTFS, type RootfsSpec } from '../plan/bases.js';
import { IMAGES, imageRef, type ImageDef } from '../plan/images.js';
import { IMAGE_IDS, type ImageId } from '../plan/types.js';
import { LABEL } from '../plan/names.js';
import { TemplateRenderer } from '../render/templates.js';
import type { DockerEngine } from '../runtime/docker.js';
import { run, tail } from '../runtime/exec.js';
import { PACKAGE_ROOT, debianMirror } from '../runtime/paths.js';
import { TOOL_VERSION } from '../version.js';
import type { FetchedBinaries } from './fetch.js';
import type { Reporter } from './progress.js';

export const INPUT_HASH_LABEL = 'io.k8s-img.input-hash';

export interface BuiltImage {
  id: string;
  ref: string;
  status: 'built' | 'up to date';
  size: number;
}

export interface BuildContext {
  config: ResolvedConfig;
  bins: FetchedBinaries;
  docker: DockerEngine;
  reporter: Reporter;
  /** Scratch space for build contexts and root filesystems (in the cache, not the repo). */
  workDir: string;
}

const sha = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

function dockerfileTemplates(): TemplateRenderer {
  const read = (f: string) => readFileSync(join(PACKAGE_ROOT, 'images', f), 'utf8');
  return new TemplateRenderer({ scratch: read('scratch.Dockerfile.hbs'), tools: read('tools.Dockerfile.hbs') });
}

/** A user table for scratch images: root, and nonroot (65532) as in distroless. */
const PASSWD = 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n';
const GROUP = 'root:x:0:\nnonroot:x:65532:\n';

export function place(from: string, to: string): void {
  mkdirSync(dirname(to), { recursive: true });
  try {
    linkSync(from, to); // the cache and the work folder share a file system: no copy
  } catch {
    copyFileSync(from, to);
  }
}

/**
 * One image's build context: the hash of everything that goes into it (known without
 * touching the disk but for the scripts), and a function that lays it out for a build.
 */
function imageContext(id: ImageId, def: ImageDef, ctx: BuildContext, dockerfile: string): { hash: string; layOut: () => string } {
  const inputs: string[] = [`Dockerfile ${sha(dockerfile)}`];
  const files: { from: string; to: string; mode?: number }[] = [];
  for (const e of def.layout) {
    if ('artifact' in e) {
      const b = ctx.bins[e.artifact];
      if (!b) throw new BuildError(`image ${id} needs ${e.artifact}, which fetch did not provide`, 'run k8s-img fetch');
      files.push({ from: b.path, to: e.to });
      inputs.push(`${e.to} ${b.sha256}`);
    } else if ('script' in e || 'file' in e) {
      const src = 'script' in e ? join(PACKAGE_ROOT, 'images', e.dir ?? id, e.script) : join(PACKAGE_ROOT, 'images', id, e.file);
      files.push({ from: src, to: e.to, mode: 'script' in e ? 0o755 : 0o644 });
      inputs.push(`${e.to} ${sha(readFileSync(src))}`);
    } else {
      inputs.push(`${e.to} -> ${e.link}`);
    }
  }
  const withEtc = def.base === 'scratch' && !def.bare;
  const ca = '/etc/ssl/certs/ca-certificates.crt';
  if (withEtc) {
    inputs.push(`/etc/passwd ${sha(PASSWD)}`, `/etc/group ${sha(GROUP)}`);
    if (existsSync(ca)) inputs.push(`/etc/ssl/certs/ca-certificates.crt ${sha(readFileSync(ca))}`);
  }
  const layOut = () => {
    // A folder of this process's own: builds running at the same time (two clusters, CI
    // and a developer) share the cache, and one must not empty the other's context.
    const dir = join(ctx.workDir, 'images', `${id}.${process.pid}`);
    rmSync(dir, { recursive: true, force: true });
    const root = join(dir, 'rootfs');
    mkdirSync(root, { recursive: true });
    for (const f of files) {
      place(f.from, join(root, f.to));
      if (f.mode !== undefined) chmodSync(join(root, f.to), f.mode);
    }
    if (withEtc) {
      const etc = join(root, 'etc');
      mkdirSync(join(etc, 'ssl', 'certs'), { recursive: true });
      writeFileSync(join(etc, 'passwd'), PASSWD);
      writeFileSync(join(etc, 'group'), GROUP);
      if (existsSync(ca)) copyFileSync(ca, join(etc, 'ssl', 'certs', 'ca-certificates.crt'));
      mkdirSync(join(root, 'tmp'), { recursive: true });
      chmodSync(join(root, 'tmp'), 0o1777);
    }
    writeFileSync(join(dir, 'Dockerfile'), dockerfile);
    return dir;
  };
  return { hash: sha(inputs.sort().join('\n')), layOut };
}

/** mmdebstrap → tarball → docker import, once per package list. Returns the image reference. */
export async function ensureRootfsImage(spec: RootfsSpec, ctx: Pick<BuildContext, 'config' | 'docker' | 'reporter' | 'workDir'>): Promise<string> {
  const mirror = debianMirror();
  const extra = spec.extraSuites ?? [];
  // Hashed as before when there are no extra suites: existing base images stay valid.
  const hash = sha(JSON.stringify({ suite: spec.suite, packages: spec.packages, ...(extra.length > 0 ? { extra } : {}) })).slice(0, 12);
  const ref = `${ctx.config.images.prefix}/rootfs-${spec.id}:${spec.suite}-${hash}`;
  if (await ctx.docker.imageInfo(ref)) return ref;
  await ctx.reporter.step(`Making the ${spec.id} root filesystem (mmdebstrap ${spec.suite})`, async (update) => {
    const dir = join(ctx.workDir, 'rootfs');
    mkdirSync(dir, { recursive: true });
    const tarball = join(dir, `${spec.id}-${hash}.tar`);
    const args = [
      '--variant=minbase',
      '--mode=root',
      '--format=tar',
      // minbase alone when there is nothing to add.
      ...(spec.packages.length > 0 ? [`--include=${spec.packages.join(',')}`] : []),
      // Documentation and locales are dead weight in an image.
      '--dpkgopt=path-exclude=/usr/share/man/*',
      '--dpkgopt=path-exclude=/usr/share/doc/*',
      '--dpkgopt=path-include=/usr/share/doc/*/copyright',
      '--dpkgopt=path-exclude=/usr/share/info/*',
      '--dpkgopt=path-exclude=/usr/share/locale/*',
      '--customize-hook=rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*',
      spec.suite,
      tarball,
      ...(extra.length > 0 ? [spec.suite, ...extra].map((suite) => `deb ${mirror} ${suite} main`) : [mirror]),
    ];
    const r = await run('mmdebstrap', args, { onLine: (l) => l.startsWith('I:') && update(l.slice(3, 80)) }).catch((e: Error) => ({ code: -1, stdout: '', stderr: e.message }));
    if (r.code !== 0) {
      throw new BuildError(`mmdebstrap failed for the ${spec.id} root filesystem`, `check that ${mirror} is reachable (K8S_IMG_DEBIAN_MIRROR sets another), or set images.base to an image you have`, tail(r.stderr, 15));
    }
    update('importing into the engine');
    const [repo, tag] = ref.split(':') as [string, string];
    await ctx.docker.importRootfs(tarball, repo, tag, {
      [LABEL.managed]: 'true',
      [LABEL.component]: `rootfs-${spec.id}`,
      'org.opencontainers.image.description': spec.purpose,
    });
    rmSync(tarball, { force: true });
  });
  return ref;
}

/** Builds every image (or `only`), skipping those whose inputs have not changed. */
export async function buildImages(ctx: BuildContext, only: readonly ImageId[] = IMAGE_IDS): Promise<BuiltImage[]> {
  const release = findRelease(ctx.config.kubernetesVersion);
  if (!release) throw new BuildError(`unsupported Kubernetes version ${ctx.config.kubernetesVersion}`, 'run k8s-img validate');
  const templates = dockerfileTemplates();
  const needsTools = only.some((id) => IMAGES[id].base === 'tools');
  const toolsBase = needsTools ? (ctx.config.images.base ?? (await ensureRootfsImage(ROOTFS.tools, ctx))) : '';
  const toolsBaseId = needsTools ? ((await ctx.docker.imageInfo(toolsBase))?.id ?? toolsBase) : '';
  const results: BuiltImage[] = [];

  for (const id of only) {
    const def = IMAGES[id];
    const ref = imageRef(ctx.config.images.prefix, id, release);
    const main = def.wraps[0] ? ctx.bins[def.wraps[0]] : undefined;
    const labels = {
      'org.opencontainers.image.title': `k8s-img ${id}`,
      'org.opencontainers.image.description': def.description,
      'org.opencontainers.image.version': def.tag(release),
      'org.opencontainers.image.source': main?.upstream ?? 'https://github.com/k8s-img/k8s-img',
      'org.opencontainers.image.revision': main ? `${main.group}@${main.version} (${main.source})` : TOOL_VERSION,
      'org.opencontainers.image.vendor': 'k8s-img',
      [LABEL.managed]: 'true',
      [LABEL.component]: id,
    };
    const dockerfile = templates.render(def.base, {
      ref,
      description: def.description,
      base: toolsBase,
      labels,
      links: def.layout.filter((e) => 'link' in e),
      user: def.user,
      entrypoint: def.entrypoint,
      cmd: def.cmd ?? null,
      toolVersion: TOOL_VERSION,
    });
    const { hash, layOut } = imageContext(id, def, ctx, dockerfile);
    results.push(await buildIfChanged(ctx, id, ref, layOut, sha(`${hash} ${toolsBaseId}`), {}));
  }
  return results;
}

/**
 * Builds `ref` unless an image with the same input hash exists. The context is a folder, or
 * a function that lays one out only when a build is needed (that folder is removed after).
 */
export async function buildIfChanged(
  ctx: Pick<BuildContext, 'docker' | 'reporter'>,
  id: string,
  ref: string,
  context: string | (() => string),
  inputHash: string,
  labels: Record<string, string>,
): Promise<BuiltImage> {
  const existing = await ctx.docker.imageInfo(ref);
  if (existing?.labels[INPUT_HASH_LABEL] === inputHash) {
    ctx.reporter.info(`= ${ref} up to date`);
    return { id, ref, status: 'up to date', size: existing.size };
  }
  const dir = typeof context === 'string' ? context : context();
  try {
    await ctx.reporter.step(`Building ${ref}`, async (update) => {
      // No cluster label: images are shared by every cluster, and containers inherit image labels.
      await ctx.docker.build(dir, ['Dockerfile', 'rootfs'], ref, { ...labels, [INPUT_HASH_LABEL]: inputHash }, (l) => update(l.slice(0, 70)));
    });
  } finally {
    if (typeof context !== 'string') rmSync(dir, { recursive: true, force: true });
  }
  return { id, ref, status: 'built', size: (await ctx.docker.imageInfo(ref))?.size ?? 0 };
}

/** The node image of local mode: Debian with Docker and Compose v2, and our entrypoint. */
export async function buildNodeImage(ctx: Omit<BuildContext, 'bins'>): Promise<BuiltImage> {
  const base = await ensureRootfsImage(ROOTFS.node, ctx);
  const baseId = (await ctx.docker.imageInfo(base))?.id ?? base;
  const ref = nodeImageRef(ctx.config.images.prefix);
  const read = (f: string) => readFileSync(join(PACKAGE_ROOT, 'images', f), 'utf8');
  const dockerfile = new TemplateRenderer({ node: read('node.Dockerfile.hbs') }).render('node', {
    ref,
    base,
    toolVersion: TOOL_VERSION,
    labels: { [LABEL.managed]: 'true', [LABEL.component]: 'node', 'org.opencontainers.image.version': TOOL_VERSION },
  });
  const dir = join(ctx.workDir, 'images', 'node');
  rmSync(dir, { recursive: true, force: true });
  const inputs = [dockerfile, baseId];
  for (const script of ['k8s-img-node']) {
    const src = join(PACKAGE_ROOT, 'images', 'node', script);
    place(src, join(dir, 'rootfs', 'usr', 'local', 'bin', script));
    inputs.push(readFileSync(src, 'utf8'));
  }
  writeFileSync(join(dir, 'Dockerfile'), dockerfile);
  return buildIfChanged(ctx, 'node', ref, dir, sha(inputs.join('\n')), {});
}

export function nodeImageRef(prefix: string): string {
  return `${prefix}/node:${TOOL_VERSION}`;
}

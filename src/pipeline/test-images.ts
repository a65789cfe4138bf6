// The e2e test images (conformance/test-images.ts), built with no registry: programs from the
// binary cache, Debian root filesystems from mmdebstrap, content-addressed like the components.
// One image failing is reported with its reason; the others still build.
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ResolvedConfig } from '../config/defaults.js';
import { findRelease, type SupportedRelease } from '../config/versions.js';
import { testImagePrograms, type TestProgram } from '../conformance/recipes.js';
import { leftOutReason } from '../conformance/left-out-images.js';
import { TEST_IMAGE_PATH, TEST_IMAGES_SUITE, TEST_ROOTFS, testImages, type TestImage, type TestRootfsId } from '../conformance/test-images.js';
import { BuildError, K8sImgError } from '../errors.js';
import { LABEL } from '../plan/names.js';
import { TemplateRenderer } from '../render/templates.js';
import { BinaryCache } from '../runtime/bincache.js';
import type { DockerEngine } from '../runtime/docker.js';
import { GoToolchain } from '../runtime/gotool.js';
import { PACKAGE_ROOT, cacheDir } from '../runtime/paths.js';
import { TOOL_VERSION } from '../version.js';
import { buildIfChanged, ensureRootfsImage, place } from './build.js';
import { fetchBinaries, fetchGroup, type FetchContext, type FetchedBinary } from './fetch.js';
import type { Reporter } from './progress.js';

export interface TestImagesResult {
  /** Every image asked for (and the images they are built on) that exists now. */
  built: { ref: string; id: string; size: number; status: 'built' | 'up to date' }[];
  /** Every image asked for that could not be built, and why: specs needing them cannot pass. */
  failed: { ref: string; reason: string }[];
}

/** Where the inputs of one image come from, or why they could not be had. */
interface Inputs {
  programs: Map<TestProgram, FetchedBinary>;
  components: Map<'coredns' | 'pause', FetchedBinary>;
  rootfs: Map<TestRootfsId, string>;
  kubernetesDir?: string;
  /** Input → why it is missing. */
  missing: Map<string, string>;
}

const sha = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const why = (e: unknown) => (e instanceof K8sImgError && e.hint ? `${e.message} (hint: ${e.hint})` : (e as Error).message);

/**
 * Builds the test images e2e.test names (`only`: exactly these refs; default: the whole table).
 * A ref the table has no recipe for is reported in `failed` with the reason it was left out.
 */
export async function buildTestImages(config: ResolvedConfig, docker: DockerEngine, reporter: Reporter, only?: readonly string[]): Promise<TestImagesResult> {
  const release = findRelease(config.kubernetesVersion);
  if (!release) throw new BuildError(`unsupported Kubernetes version ${config.kubernetesVersion}`, 'run k8s-img validate');
  const known = testImages(release);
  const other = `src/conformance/test-images.ts describes the images of the v${TEST_IMAGES_SUITE} suite, not of v${config.kubernetesVersion}`;
  if (!known && !only) throw new BuildError(other, 'name the images to build (e2e.test --list-images); each is reported as failed with this reason');
  await docker.ping();
  const table = known ?? [];
  const byRef = new Map(table.map((t) => [t.ref, t]));
  const failed: TestImagesResult['failed'] = (only ?? [])
    .filter((ref) => !byRef.has(ref))
    .map((ref) => ({ ref, reason: known ? (leftOutReason(ref) ?? 'no recipe in src/conformance/test-images.ts') : other }));
  const selected = withBases(table.filter((t) => !only || only.includes(t.ref)), byRef);

  const cache = new BinaryCache(cacheDir());
  const workDir = join(cache.root, 'work');
  const fetch: FetchContext = { config, cache, go: new GoToolchain({ proxy: config.binaries.goproxy }), reporter };
  const inputs = await gatherInputs(selected, release, fetch, { config, docker, reporter, workDir });

  const templates = new TemplateRenderer({ e2e: readFileSync(join(PACKAGE_ROOT, 'images', 'e2e.Dockerfile.hbs'), 'utf8') });
  const built: TestImagesResult['built'] = [];
  const imageIds = new Map<string, string>();
  for (const t of selected) {
    try {
      const lacking = needs(t).map((n) => inputs.missing.get(n) && `${n}: ${inputs.missing.get(n)}`).filter(Boolean);
      if (lacking.length > 0) throw new BuildError(`cannot build ${t.ref} without ${lacking.join('; ')}`);
      const base = await baseOf(t, inputs, imageIds, docker);
      const dockerfile = templates.render('e2e', {
        ...t,
        base: base.ref,
        // pause has no shell and upstream's pause image no PATH.
        path: t.layout.some((e) => 'component' in e && e.component === 'pause') ? null : TEST_IMAGE_PATH,
        run: t.run ?? [],
        user: t.user ?? null,
        workdir: t.workdir ?? null,
        expose: t.expose ?? [],
        stopSignal: t.stopSignal ?? null,
        entrypoint: t.entrypoint ?? null,
        cmd: t.cmd ?? null,
      });
      const { dir, hash } = prepareContext(t, inputs, dockerfile, workDir);
      const r = await buildIfChanged({ docker, reporter }, t.ref, t.ref, dir, sha(`${hash} ${base.id}`), labelsOf(t, base.ref));
      const id = (await docker.imageInfo(t.ref))!.id;
      imageIds.set(t.ref, id);
      built.push({ ref: t.ref, id, size: r.size, status: r.status });
    } catch (e) {
      failed.push({ ref: t.ref, reason: why(e) });
    }
  }
  return { built, failed };
}

/** The selection plus the table images they are built on, bases first (table order). */
function withBases(selected: TestImage[], byRef: Map<string, TestImage>): TestImage[] {
  const out = new Set<TestImage>();
  const add = (t: TestImage) => {
    if (typeof t.base === 'object' && 'image' in t.base) add(byRef.get(t.base.image)!);
    out.add(t);
  };
  selected.forEach(add);
  return [...byRef.values()].filter((t) => out.has(t));
}

/** The names of the inputs an image needs (keys of Inputs.missing). */
function needs(t: TestImage): string[] {
  const out = new Set<string>();
  if (typeof t.base === 'object' && 'rootfs' in t.base) out.add(`rootfs ${t.base.rootfs}`);
  for (const e of t.layout) {
    if ('program' in e) out.add(`program ${e.program}`);
    else if ('component' in e) out.add(e.component);
    else if ('kubernetesFile' in e) out.add('k8s.io/kubernetes module');
  }
  return [...out];
}

/** Builds or finds every program, root filesystem and file the selected images need; records what failed. */
async function gatherInputs(selected: TestImage[], release: SupportedRelease, fetch: FetchContext, build: Parameters<typeof ensureRootfsImage>[1]): Promise<Inputs> {
  const wanted = new Set(selected.flatMap(needs));
  const inputs: Inputs = { programs: new Map(), components: new Map(), rootfs: new Map(), missing: new Map() };
  const attempt = async (names: string[], fn: () => Promise<void>) => {
    if (!names.some((n) => wanted.has(n))) return;
    try {
      await fn();
    } catch (e) {
      for (const n of names) inputs.missing.set(n, why(e));
    }
  };
  for (const g of testImagePrograms(release, TOOL_VERSION)) {
    await attempt(g.binaries.map((b) => `program ${b}`), async () => {
      for (const [name, bin] of Object.entries(await fetchGroup(fetch, g))) inputs.programs.set(name as TestProgram, bin as FetchedBinary);
    });
  }
  for (const c of ['coredns', 'pause'] as const) {
    await attempt([c], async () => {
      inputs.components.set(c, (await fetchBinaries(fetch, [c]))[c]);
    });
  }
  for (const [id, spec] of Object.entries(TEST_ROOTFS) as [TestRootfsId, (typeof TEST_ROOTFS)[TestRootfsId]][]) {
    await attempt([`rootfs ${id}`], async () => {
      inputs.rootfs.set(id, await ensureRootfsImage(spec, build));
    });
  }
  await attempt(['k8s.io/kubernetes module'], async () => {
    inputs.kubernetesDir = (await fetch.go.download('k8s.io/kubernetes', `v${release.kubernetes}`, fetch.cache.root)).dir;
  });
  return inputs;
}

async function baseOf(t: TestImage, inputs: Inputs, imageIds: Map<string, string>, docker: DockerEngine): Promise<{ ref: string; id: string }> {
  if (t.base === 'scratch') return { ref: 'scratch', id: 'scratch' };
  const ref = 'rootfs' in t.base ? inputs.rootfs.get(t.base.rootfs)! : t.base.image;
  const id = 'image' in t.base ? imageIds.get(ref) : (await docker.imageInfo(ref))?.id;
  if (!id) throw new BuildError(`cannot build ${t.ref}: its base ${ref} was not built`, 'see that image\'s own reason');
  return { ref, id };
}

/** Lays out the build context; returns its folder and the hash of everything in it. */
function prepareContext(t: TestImage, inputs: Inputs, dockerfile: string, workDir: string): { dir: string; hash: string } {
  const dir = join(workDir, 'images', `e2e-${t.ref.replace(/[^\w.-]+/g, '_')}`);
  rmSync(dir, { recursive: true, force: true });
  const root = join(dir, 'rootfs');
  mkdirSync(root, { recursive: true });
  const hashes = [`Dockerfile ${sha(dockerfile)}`];
  const copy = (from: string, to: string, mode: number) => {
    mkdirSync(dirname(join(root, to)), { recursive: true });
    copyFileSync(from, join(root, to));
    chmodSync(join(root, to), mode);
    hashes.push(`${to} ${sha(readFileSync(from))} ${mode.toString(8)}`);
  };
  for (const e of t.layout) {
    if ('program' in e || 'component' in e) {
      const bin = 'program' in e ? inputs.programs.get(e.program)! : inputs.components.get(e.component)!;
      place(bin.path, join(root, e.to));
      hashes.push(`${e.to} ${bin.sha256}`);
    } else if ('kubernetesFile' in e) {
      copy(join(inputs.kubernetesDir!, e.kubernetesFile), e.to, 0o644);
    } else if ('file' in e) {
      copy(join(PACKAGE_ROOT, 'images', 'e2e', e.file), e.to, 0o644);
    } else if ('link' in e) {
      mkdirSync(dirname(join(root, e.to)), { recursive: true });
      symlinkSync(e.link, join(root, e.to));
      hashes.push(`${e.to} -> ${e.link}`);
    } else {
      mkdirSync(join(root, e.dir), { recursive: true });
      chmodSync(join(root, e.dir), e.mode);
      hashes.push(`${e.dir}/ ${e.mode.toString(8)}`);
    }
  }
  writeFileSync(join(dir, 'Dockerfile'), dockerfile);
  return { dir, hash: sha(hashes.sort().join('\n')) };
}

function labelsOf(t: TestImage, base: string): Record<string, string> {
  const name = t.ref.slice(t.ref.lastIndexOf('/') + 1).split(':')[0]!;
  return {
    ...(base === 'scratch' ? {} : { 'org.opencontainers.image.base.name': base }),
    [LABEL.managed]: 'true',
    [LABEL.component]: `e2e-${name}`,
    'org.opencontainers.image.ref.name': t.ref,
    'org.opencontainers.image.title': `e2e ${name}`,
    'org.opencontainers.image.description': t.description,
    'org.opencontainers.image.version': t.ref.slice(t.ref.lastIndexOf(':') + 1),
    'org.opencontainers.image.source': t.source,
    'org.opencontainers.image.revision': t.builtFrom,
    'org.opencontainers.image.vendor': 'k8s-img',
  };
}

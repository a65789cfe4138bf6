// Debian root filesystems (the tools base, the node image, the e2e images' bases), made by
// mmdebstrap from a lock: every package pinned at the version the mirror had on the
// recorded date, SOURCE_DATE_EPOCH set to that date, host-specific files left out. The
// same lock gives the same tar, so the same base image ID, here or on another machine.
//
// Locks ship in images/rootfs/<id>.lock.json. When the mirror has moved on (a Debian
// point release replaces packages), the pinned build fails: k8s-img then pins what the
// mirror has now, records that lock in the cache and warns that the base (and every image
// on it) has a new ID — or, with `build --locked`, stops. The tar made from a lock is kept
// in the cache, so this machine can always remake the images of a lock it has built.
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ResolvedConfig } from '../config/defaults.js';
import { BuildError, K8sImgError } from '../errors.js';
import type { RootfsSpec } from '../plan/bases.js';
import { LockError, debKey, formatLock, lockDifferences, lockEpoch, lockMatches, lockTag, mirrorArgs, parseDebSums, parseInstalled, parseLock, pinnedIncludes, type LockedPackage, type RootfsLock } from '../plan/rootfs-lock.js';
import { LABEL } from '../plan/names.js';
import { sha256File } from '../runtime/bincache.js';
import { downloadText } from '../runtime/download.js';
import { run, tail } from '../runtime/exec.js';
import { writeFileAtomic } from '../runtime/files.js';
import { PACKAGE_ROOT, cacheDir, debianMirror } from '../runtime/paths.js';
import { removeTemp, trackTemp } from '../runtime/temp-cleanup.js';
import { assembleImage, type AssembleContext } from './assemble.js';
import type { Reporter } from './progress.js';

export interface RootfsContext extends AssembleContext {
  config: ResolvedConfig;
  reporter: Reporter;
  /** Stop rather than pin newer packages when the mirror no longer has the locked ones. */
  locked?: boolean;
}

export interface RootfsImage {
  ref: string;
  /** The name without the images.prefix (the BASE_LABEL of images built on it). */
  name: string;
  lock: RootfsLock;
}

const shipped = (id: string) => join(PACKAGE_ROOT, 'images', 'rootfs', `${id}.lock.json`);
const root = () => join(cacheDir(), 'rootfs');
/** A lock k8s-img made here because the shipped one could not be used (or there was none). */
const local = (id: string) => join(root(), `${id}.lock.json`);

interface LocalLock extends RootfsLock {
  /** The tag of the shipped lock this one stands in for ('none': there was none for this package list). */
  replaces?: string;
}

function readLock(path: string): LocalLock | undefined {
  if (!existsSync(path)) return undefined;
  try {
    return parseLock(readFileSync(path, 'utf8'), path);
  } catch (e) {
    if (e instanceof LockError) throw new BuildError(e.message, `restore ${path} (git checkout), or remove it to pin the mirror's current packages`);
    throw e;
  }
}

/** The lock to build from: the shipped one, unless this machine already had to stand in for it. */
function chooseLock(spec: RootfsSpec): RootfsLock | undefined {
  const packaged = readLock(shipped(spec.id));
  const mine = readLock(local(spec.id));
  const fits = (l: LocalLock | undefined) => l && lockMatches(l, spec);
  if (fits(packaged)) return fits(mine) && mine!.replaces === lockTag(packaged!) ? mine : packaged;
  return fits(mine) && mine!.replaces === 'none' ? mine : undefined;
}

/** The image of `spec`'s root filesystem, made or found. */
export async function rootfsImage(spec: RootfsSpec, ctx: RootfsContext): Promise<RootfsImage> {
  let lock = chooseLock(spec);
  if (!lock) {
    ctx.reporter.warn(`no lock for the ${spec.id} root filesystem's package list (${shipped(spec.id)}): pinning what ${debianMirror()} has now`);
    lock = await resolveLock(spec, ctx, 'none');
  }
  const made = await tarOf(spec, lock, ctx).catch(async (e: unknown) => {
    if (!(e instanceof VersionsGone)) throw e;
    if (ctx.locked) throw new BuildError(e.message, `point K8S_IMG_DEBIAN_MIRROR at a mirror that still has the archive of ${lock!.release.date}, or build without --locked to pin the mirror's current packages (the images then get new IDs)`);
    ctx.reporter.warn(`${e.message}; pinning what the mirror has now: the ${spec.id} base and the images on it get new IDs (the lock is kept in ${local(spec.id)})`);
    lock = await resolveLock(spec, ctx, lockTag(lock!));
    return tarOf(spec, lock, ctx);
  });
  const name = `rootfs-${spec.id}:${lockTag(lock)}`;
  const ref = `${ctx.config.images.prefix}/${name}`;
  await assembleImage(ctx, {
    id: `rootfs-${spec.id}`,
    ref,
    base: { ref: 'scratch' },
    layers: [{ tarFile: made.file, size: made.size, identity: `${lockTag(lock)} ${made.diffId}`, history: { created_by: `mmdebstrap ${lock.suite} (${lock.packages.length} packages pinned in the archive of ${lock.release.date})` } }],
    config: {
      labels: {
        [LABEL.managed]: 'true',
        [LABEL.component]: `rootfs-${spec.id}`,
        'org.opencontainers.image.description': spec.purpose,
        'io.k8s-img.rootfs.lock': `${lock.suite} ${lock.release.version} ${lock.release.date}`,
      },
    },
    sbom: {
      image: { name: `rootfs-${spec.id}`, version: lockTag(lock), description: spec.purpose },
      debian: { lock, distro: `debian-${lock.release.version.split('.')[0]}`, layerIndex: 0 },
    },
  });
  return { ref, name, lock };
}

/** Compatibility for callers that need only the reference. */
export async function ensureRootfsImage(spec: RootfsSpec, ctx: RootfsContext): Promise<string> {
  return (await rootfsImage(spec, ctx)).ref;
}

class VersionsGone extends K8sImgError {}

const DPKG_EXCLUDES = [
  // Documentation and locales are dead weight in an image.
  '--dpkgopt=path-exclude=/usr/share/man/*',
  '--dpkgopt=path-exclude=/usr/share/doc/*',
  '--dpkgopt=path-include=/usr/share/doc/*/copyright',
  '--dpkgopt=path-exclude=/usr/share/info/*',
  '--dpkgopt=path-exclude=/usr/share/locale/*',
];
const INSTALLED = "chroot \"$1\" dpkg-query -W -f '${Package}\\t${Version}\\t${Architecture}\\t${source:Package}\\t${source:Version}\\n'";

/** Hook commands get our paths inside single quotes: only plain ones are allowed. */
function shellPath(p: string): string {
  if (!/^[\w./+-]+$/.test(p)) throw new BuildError(`the cache path ${p} has characters mmdebstrap hooks cannot take`, 'set K8S_IMG_CACHE to a path of letters, digits and . _ - + /');
  return `'${p}'`;
}

function mmdebstrap(args: string[], epoch: number, update: (d: string) => void): Promise<{ code: number; stderr: string }> {
  return run('mmdebstrap', ['--mode=root', ...args], {
    env: { ...process.env, SOURCE_DATE_EPOCH: String(epoch) },
    onLine: (l) => l.startsWith('I:') && update(l.slice(3, 80)),
  }).catch((e: Error) => ({ code: -1, stdout: '', stderr: e.message }));
}

/** Pins what the mirror has now: a minbase + packages run that only lists what it installed. */
async function resolveLock(spec: RootfsSpec, ctx: RootfsContext, replaces: string): Promise<RootfsLock> {
  const mirror = debianMirror();
  const releaseText = await downloadText(`${mirror.replace(/\/+$/, '')}/dists/${spec.suite}/Release`);
  const date = /^Date:\s*(.+)$/m.exec(releaseText)?.[1];
  if (!date || Number.isNaN(Date.parse(date))) throw new BuildError(`${mirror}/dists/${spec.suite}/Release has no Date`, 'check K8S_IMG_DEBIAN_MIRROR');
  const release = { date: new Date(Date.parse(date)).toISOString().replace(/\.000Z$/, 'Z'), version: /^Version:\s*(\S+)$/m.exec(releaseText)?.[1] ?? spec.suite };
  const work = join(root(), 'work');
  mkdirSync(work, { recursive: true });
  const list = join(work, `${spec.id}-resolved.tsv`);
  const installed = await ctx.reporter.step(`Pinning the ${spec.id} root filesystem (Debian ${release.version}, ${release.date})`, async (update) => {
    const r = await mmdebstrap(
      [
        '--variant=minbase',
        '--format=null',
        ...(spec.packages.length > 0 ? [`--include=${spec.packages.join(',')}`] : []),
        ...DPKG_EXCLUDES,
        `--customize-hook=${INSTALLED} > ${shellPath(list)}`,
        spec.suite,
        '/dev/null',
        ...mirrorArgs(spec.suite, spec.extraSuites, mirror),
      ],
      Math.floor(Date.parse(release.date) / 1000),
      update,
    );
    if (r.code !== 0) throw new BuildError(`mmdebstrap could not install the ${spec.id} packages from ${mirror}`, `check that ${mirror} is reachable (K8S_IMG_DEBIAN_MIRROR sets another), or set images.base to an image you have`, tail(r.stderr, 15));
    return parseInstalled(readFileSync(list, 'utf8'));
  });
  rmSync(list, { force: true });
  const version = (await run('mmdebstrap', ['--version']).catch(() => ({ stdout: '' }))).stdout.trim().replace(/^mmdebstrap\s*/, '');
  // The .debs' checksums come from the pinned build (tarOf), which also records the layer.
  const lock: LocalLock & { draft: true } = {
    format: 'k8s-img rootfs lock v1',
    id: spec.id,
    suite: spec.suite,
    ...(spec.extraSuites?.length ? { extraSuites: [...spec.extraSuites] } : {}),
    request: [...spec.packages],
    mirror,
    release,
    resolvedOn: new Date().toISOString().slice(0, 10),
    mmdebstrap: version,
    packages: installed.map((p) => ({ ...p, sha256: '' })),
    replaces,
    draft: true,
  };
  return lock;
}

interface MadeTar {
  file: string;
  size: number;
  diffId: string;
}

/** The tar of `lock` from the cache, or made by mmdebstrap with every package pinned. */
async function tarOf(spec: RootfsSpec, lock: RootfsLock, ctx: RootfsContext): Promise<MadeTar> {
  const draft = 'draft' in lock;
  const file = join(root(), `${spec.id}-${lockTag(lock)}.tar`);
  if (!draft && existsSync(file) && existsSync(`${file}.sha256`)) {
    return { file, size: statSync(file).size, diffId: `sha256:${readFileSync(`${file}.sha256`, 'utf8').trim()}` };
  }
  mkdirSync(root(), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  const sums = `${file}.debs-${process.pid}`;
  const list = `${file}.installed-${process.pid}`;
  for (const t of [tmp, sums, list]) trackTemp(t);
  try {
    await ctx.reporter.step(`Making the ${spec.id} root filesystem (mmdebstrap ${lock.suite}, ${lock.packages.length} pinned packages)`, async (update) => {
      const r = await mmdebstrap(
        [
          '--variant=custom',
          '--format=tar',
          `--include=${pinnedIncludes(lock)}`,
          ...DPKG_EXCLUDES,
          `--extract-hook=sha256sum "$1"/var/cache/apt/archives/*.deb > ${shellPath(sums)}`,
          `--customize-hook=${INSTALLED} > ${shellPath(list)}`,
          // The build host's resolver and name must not end up in the image (mmdebstrap copies them in).
          '--customize-hook=rm -f "$1"/etc/resolv.conf "$1"/etc/hostname',
          '--customize-hook=rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*',
          lock.suite,
          tmp,
          ...mirrorArgs(lock.suite, lock.extraSuites, debianMirror()),
        ],
        lockEpoch(lock),
        update,
      );
      if (r.code !== 0) {
        const gone = [...r.stderr.matchAll(/Version '([^']+)' for '([^']+)' was not found/g)].map((m) => `${m[2]}=${m[1]}`);
        if (gone.length > 0) throw new VersionsGone(`the Debian mirror no longer has ${gone.slice(0, 3).join(', ')}${gone.length > 3 ? ` and ${gone.length - 3} more` : ''} (the ${spec.id} lock pins the archive of ${lock.release.date})`);
        throw new BuildError(`mmdebstrap failed for the ${spec.id} root filesystem`, `check that ${debianMirror()} is reachable (K8S_IMG_DEBIAN_MIRROR sets another), or set images.base to an image you have`, tail(r.stderr, 15));
      }
    });
    const problems = lockDifferences(lock, parseInstalled(readFileSync(list, 'utf8')));
    if (problems.length > 0) throw new BuildError(`the ${spec.id} root filesystem is not what its lock says:\n  ${problems.slice(0, 10).join('\n  ')}`, 'the lock is incomplete: remove it to pin the mirror\'s current packages');
    const debs = parseDebSums(readFileSync(sums, 'utf8'));
    const withSums: LockedPackage[] = lock.packages.map((p) => ({ ...p, sha256: debs.get(debKey(p)) ?? '' }));
    const wrong = withSums.filter((p, i) => p.sha256 === '' || (!draft && p.sha256 !== lock.packages[i]!.sha256));
    if (wrong.length > 0) throw new BuildError(`the .deb files of ${wrong.slice(0, 5).map((p) => `${p.name} ${p.version}`).join(', ')} do not have the checksums of the ${spec.id} lock`, 'the mirror serves other bytes for these versions than when the lock was made: check the mirror');
    const hex = await sha256File(tmp);
    if (!draft && lock.layer && lock.layer !== `sha256:${hex}`) {
      ctx.reporter.warn(`the ${spec.id} root filesystem made here (sha256:${hex.slice(0, 12)}…) differs from the one its lock records (${lock.layer.slice(0, 19)}…): mmdebstrap ${lock.mmdebstrap} made that one`);
    }
    if (draft) {
      const { draft: _d, ...rest } = lock as RootfsLock & { draft: true };
      const final: LocalLock = { ...rest, packages: withSums, layer: `sha256:${hex}` };
      writeFileAtomic(local(spec.id), formatLock(final));
      Object.assign(lock, final);
      delete (lock as Partial<{ draft: true }>).draft;
    }
    const target = join(root(), `${spec.id}-${lockTag(lock)}.tar`);
    renameSync(tmp, target);
    writeFileAtomic(`${target}.sha256`, `${hex}\n`);
    pruneTars(spec.id, target);
    return { file: target, size: statSync(target).size, diffId: `sha256:${hex}` };
  } finally {
    for (const t of [tmp, sums, list]) removeTemp(t);
  }
}

/** One tar per root filesystem stays in the cache (the newest). */
function pruneTars(id: string, keep: string): void {
  const ours = new RegExp(`^${id.replace(/[.-]/g, '\\$&')}-[a-z]+-[0-9a-f]{12}\\.tar(\\.sha256)?$`);
  for (const f of readdirSync(root())) {
    const p = join(root(), f);
    if (ours.test(f) && p !== keep && p !== `${keep}.sha256`) rmSync(p, { force: true });
  }
}

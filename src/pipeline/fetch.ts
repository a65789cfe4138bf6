// fetch: every binary the cluster's images need, by binaries.source, cached by
// (group, version, source). A second fetch finds everything in the cache.
import { createHash } from 'node:crypto';
import { accessSync, chmodSync, constants, copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ResolvedConfig } from '../config/defaults.js';
import { findRelease } from '../config/versions.js';
import { FetchError } from '../errors.js';
import { goDirective, groups, versionCheck, wrapperGoMod, type CRecipe, type GoRecipe, type Group, type GroupId, type LocalGoRecipe } from '../fetch/recipes.js';
import type { BinaryName } from '../plan/images.js';
import { createTarGz, extractTarGz } from '../runtime/archive.js';
import { BinaryCache, sha256File, type BinaryInfo } from '../runtime/bincache.js';
import { checksumFor, downloadText, downloadTo } from '../runtime/download.js';
import { run, tail } from '../runtime/exec.js';
import type { GoToolchain } from '../runtime/gotool.js';
import { PACKAGE_ROOT } from '../runtime/paths.js';
import { TOOL_VERSION } from '../version.js';
import { buildKconfig } from './build-kconfig.js';
import type { Reporter } from './progress.js';

export interface FetchedBinary extends BinaryInfo {
  group: string;
  version: string;
  source: string;
  upstream: string;
}
export type FetchedBinaries = Record<BinaryName, FetchedBinary>;
/** A group of the cluster's components or of the conformance suite's programs. */
type AnyGroup = Group<string, string>;

export interface FetchContext {
  config: ResolvedConfig;
  cache: BinaryCache;
  go: GoToolchain;
  reporter: Reporter;
}

/** Our own programs are always built here; upstream ones follow binaries.source. */
function sourceOf(g: AnyGroup, config: ResolvedConfig): 'go' | 'release' | 'dir' | 'local' {
  if (g.go.kind === 'local-go' || (g.go.kind === 'c' && 'packageFile' in g.go.source)) return 'local';
  // Tools that run on nodes only for a check (kube-bench) always come from the module proxy.
  if (g.onDemand) return 'go';
  return config.binaries.source;
}

export function groupsFor(config: ResolvedConfig): Group[] {
  const release = findRelease(config.kubernetesVersion);
  if (!release) throw new FetchError(`unsupported Kubernetes version ${config.kubernetesVersion}`, 'run k8s-img validate');
  return groups(release, TOOL_VERSION);
}

const shortHash = (v: unknown) => createHash('sha256').update(JSON.stringify(v, (_k, x: unknown) => (typeof x === 'function' ? String(x) : x))).digest('hex').slice(0, 12);

/** The cache key's source part: a hash of the recipe, so changing flags rebuilds. */
function cacheSource(g: AnyGroup, source: string): string {
  if (source === 'release') return 'release';
  if (g.go.kind === 'c' && 'packageFile' in g.go.source) return `local-${shortHash([g.go, readFileSync(join(PACKAGE_ROOT, g.go.source.packageFile), 'utf8')])}`;
  if (g.go.kind === 'kconfig') return `src-${shortHash(g.go)}`;
  if (g.go.kind === 'local-go') {
    const dir = join(PACKAGE_ROOT, g.go.dir);
    const sources = readdirSync(dir).filter((f) => f.endsWith('.go') || f === 'go.mod').sort();
    return `local-${shortHash([g.go, ...sources.map((f) => readFileSync(join(dir, f), 'utf8'))])}`;
  }
  return `go-${shortHash(g.go)}`;
}

/** Fetches every group the images need (or only `only`, which may name on-demand tools); returns where each binary is. */
export async function fetchBinaries(ctx: FetchContext, only?: readonly GroupId[]): Promise<FetchedBinaries> {
  const out: Partial<FetchedBinaries> = {};
  for (const g of groupsFor(ctx.config).filter((x) => (only ? only.includes(x.id) : !x.onDemand))) Object.assign(out, await fetchGroup(ctx, g, sourceOf(g, ctx.config)));
  return out as FetchedBinaries;
}

/**
 * One group from the cache, or built (or downloaded, or checked in binaries.dir) and cached.
 * The conformance suite and its images' programs come through here too (always `go`).
 */
export async function fetchGroup<B extends string>(ctx: FetchContext, g: Group<B, string>, source: 'go' | 'release' | 'dir' | 'local' = 'go'): Promise<Record<B, FetchedBinary>> {
  const out: Partial<Record<B, FetchedBinary>> = {};
  const add = (bins: Record<string, BinaryInfo>, src: string) => {
    for (const [name, info] of Object.entries(bins)) out[name as B] = { ...info, group: g.id, version: g.version, source: src, upstream: g.upstream };
  };
  if (source === 'dir') {
    add(await ctx.reporter.step(`Checking ${g.id} ${g.version} in ${ctx.config.binaries.dir}`, () => checkDir(g as AnyGroup as Group, ctx)), 'dir');
    return out as Record<B, FetchedBinary>;
  }
  const key = cacheSource(g, source);
  const cached = ctx.cache.lookup(g.id, g.version, key);
  if (cached) {
    add(cached, key);
    return out as Record<B, FetchedBinary>;
  }
  const from = { go: 'Go module proxy', kconfig: 'release tarball', c: 'local source', 'local-go': 'local source' }[g.go.kind];
  const title = source === 'release' ? `Downloading ${g.id} ${g.version}` : `Building ${g.id} ${g.version} (${from})`;
  const bins = await ctx.reporter.step(title, async (update) => {
    const staging = ctx.cache.staging(g.id, g.version, key);
    try {
      if (source === 'release') await fromRelease(g, ctx, staging, update);
      else if (g.go.kind === 'go') await buildGo(g, g.go, ctx, staging, update);
      else if (g.go.kind === 'c') await buildC(g.go, ctx, staging);
      else if (g.go.kind === 'kconfig') await buildKconfig(g.go, join(ctx.cache.root, 'work', g.id), staging, update);
      else await buildLocalGo(g.go, ctx, staging);
      return await ctx.cache.commit(staging, { group: g.id, version: g.version, source: key, details: { upstream: g.upstream } }, g.binaries);
    } catch (e) {
      ctx.cache.discard(staging);
      throw e;
    }
  });
  add(bins, key);
  return out as Record<B, FetchedBinary>;
}

/** `go build -o dir/` names a binary after the package's last path element, skipping a /vN suffix. */
function defaultBinaryName(pkg: string): string {
  const parts = pkg.split('/');
  const last = parts.at(-1)!;
  return /^v\d+$/.test(last) ? parts.at(-2)! : last;
}

async function buildGo(g: AnyGroup, r: GoRecipe<string>, ctx: FetchContext, staging: string, update: (d: string) => void): Promise<void> {
  const work = join(ctx.cache.root, 'work', g.id);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  update(`downloading ${r.module}@${r.version}`);
  const upstream = await ctx.go.download(r.module, r.version, ctx.cache.root);
  if (r.sum && upstream.sum !== r.sum) {
    throw new FetchError(
      `${r.module}@${r.version} from the module proxy has hash ${upstream.sum ?? 'none'}, k8s-img pins ${r.sum}`,
      'the proxy served other content than the checksum database records: check GOPROXY (or binaries.goproxy); nothing was built',
    );
  }
  writeFileSync(join(work, 'go.mod'), wrapperGoMod(r, upstream.goMod, goDirective(upstream.goMod) ?? '1.24'));
  let compiled = 0;
  const ldflags = ['-s', '-w', ...r.ldflags].join(' ');
  const flags = ['-trimpath', ...(r.tags ? [`-tags=${r.tags.join(',')}`] : []), '-ldflags', ldflags];
  const opts = { what: `${g.id} ${g.version}`, cgo: r.cgo ?? false, onPackage: () => update(`${++compiled} packages compiled`) };
  if (r.test) {
    for (const [pkg, name] of r.packages) await ctx.go.testBuild(work, [...flags, '-o', join(staging, name), pkg], opts);
  } else {
    await ctx.go.build(work, [...flags, '-o', `${staging}/`, ...r.packages.map(([p]) => p)], opts);
    for (const [pkg, name] of r.packages) {
      const made = join(staging, defaultBinaryName(pkg));
      if (made !== join(staging, name)) renameSync(made, join(staging, name));
    }
  }
  for (const [file, name] of r.copyFiles ?? []) copyFileSync(join(upstream.dir, file), join(staging, name));
}

async function buildC(r: CRecipe<string>, ctx: FetchContext, staging: string): Promise<void> {
  const src =
    'packageFile' in r.source
      ? join(PACKAGE_ROOT, r.source.packageFile)
      : join((await ctx.go.download(r.source.module, r.source.version, ctx.cache.root)).dir, r.source.file);
  const defines = Object.entries(r.defines).map(([k, v]) => `-D${k}=${v}`);
  const args = ['-Os', '-Wall', '-Werror', '-static', '-s', '-ffunction-sections', '-fdata-sections', '-Wl,--gc-sections', ...defines, '-o', join(staging, r.output), src, ...(r.libs ?? []).map((l) => `-l${l}`)];
  const cc = r.cc ?? 'gcc';
  const res = await run(cc, args).catch((e: Error) => ({ code: -1, stdout: '', stderr: e.message }));
  if (res.code !== 0) {
    throw new FetchError(`${cc} failed for ${r.output}:\n${tail(res.stderr, 10).join('\n')}`, 'run `npm run setup` (it installs gcc, musl-tools and libmbedtls-dev)');
  }
}

async function buildLocalGo(r: LocalGoRecipe, ctx: FetchContext, staging: string): Promise<void> {
  const ldflags = ['-s', '-w', ...r.ldflags].join(' ');
  await ctx.go.build(join(PACKAGE_ROOT, r.dir), ['-trimpath', '-ldflags', ldflags, '-o', join(staging, r.output), '.'], { what: r.output });
}

function releaseBase(ctx: FetchContext, g: AnyGroup): string {
  return `${ctx.config.binaries.releaseURL!.replace(/\/+$/, '')}/${g.id}/${g.version}`;
}

async function fromRelease(g: AnyGroup, ctx: FetchContext, staging: string, update: (d: string) => void): Promise<void> {
  const rel = g.release;
  if (!rel) throw new FetchError(`${g.id} has no release archive`, 'use binaries.source: go for it');
  const base = releaseBase(ctx, g);
  const sums = await downloadText(`${base}/${rel.checksum.file}`);
  const want = checksumFor(sums, rel.file);
  if (!want) throw new FetchError(`${base}/${rel.checksum.file} has no checksum for ${rel.file}`, 'regenerate the mirror with `k8s-img fetch --export`');
  const archive = join(staging, rel.file);
  await downloadTo(`${base}/${rel.file}`, archive, (bytes, total) => update(`${(bytes / 1e6).toFixed(0)}${total ? `/${(total / 1e6).toFixed(0)}` : ''} MB`));
  const got = await sha256File(archive, rel.checksum.algorithm);
  if (got !== want) {
    throw new FetchError(
      `checksum mismatch for ${base}/${rel.file}: ${rel.checksum.algorithm} is ${got}, ${rel.checksum.file} says ${want}`,
      'the archive was altered or truncated; nothing was cached. Check the mirror, then fetch again',
    );
  }
  if (rel.plain) {
    const [[, bin]] = rel.members as [[string, BinaryName]];
    renameSync(archive, join(staging, bin));
    chmodSync(join(staging, bin), 0o755);
    return;
  }
  const missing = await extractTarGz(archive, new Map(rel.members.map(([member, bin]) => [member, join(staging, bin)])));
  rmSync(archive);
  if (missing.length > 0) throw new FetchError(`${rel.file} lacks ${missing.join(', ')}`, 'the archive does not have the upstream layout');
}

async function checkDir(g: Group, ctx: FetchContext): Promise<Record<string, BinaryInfo>> {
  const dir = ctx.config.binaries.dir!;
  const release = findRelease(ctx.config.kubernetesVersion)!;
  const out: Record<string, BinaryInfo> = {};
  const problems: string[] = [];
  for (const b of g.binaries) {
    const p = join(dir, b);
    if (!existsSync(p)) {
      problems.push(`${p}: missing`);
      continue;
    }
    try {
      if (!b.endsWith('.yaml')) accessSync(p, constants.X_OK);
    } catch {
      problems.push(`${p}: not executable (chmod +x it)`);
      continue;
    }
    const check = b.endsWith('.yaml') ? undefined : versionCheck(b, release);
    if (check) {
      const r = await run(p, check.args).catch((e: Error) => ({ code: -1, stdout: '', stderr: e.message }));
      const said = `${r.stdout}\n${r.stderr}`;
      if (!said.includes(check.expect)) {
        problems.push(`${p}: reports "${tail(said, 1)[0] ?? 'nothing'}", expected "${check.expect}"`);
        continue;
      }
    }
    out[b] = { path: p, sha256: await sha256File(p), size: statSync(p).size };
  }
  if (problems.length > 0) {
    throw new FetchError(`binaries.dir does not hold the expected ${g.id} ${g.version}:\n  ${problems.join('\n  ')}`, `put the ${g.id} ${g.version} binaries in ${dir}, or use binaries.source: go`);
  }
  return out;
}

/**
 * Writes the fetched binaries as a release mirror (<dir>/<group>/<version>/<archive> plus
 * its checksum file), the layout binaries.source: release reads.
 */
export async function exportMirror(config: ResolvedConfig, bins: FetchedBinaries, outDir: string, reporter: Reporter, only?: readonly GroupId[]): Promise<void> {
  for (const g of groupsFor(config).filter((x) => !only || only.includes(x.id))) {
    const rel = g.release;
    if (!rel) continue;
    await reporter.step(`Archiving ${g.id} ${g.version}`, async () => {
      const dir = join(outDir, g.id, g.version);
      mkdirSync(dir, { recursive: true });
      const tmp = join(dir, `.${rel.file}.tmp-${process.pid}`);
      if (rel.plain) copyFileSync(bins[rel.members[0]![1]].path, tmp);
      else await createTarGz(tmp, rel.members.map(([member, bin]) => [member.replace(/^\.\//, ''), bins[bin].path]));
      renameSync(tmp, join(dir, rel.file));
      const digest = await sha256File(join(dir, rel.file), rel.checksum.algorithm);
      writeFileSync(join(dir, rel.checksum.file), rel.checksum.file.endsWith('SUMS') ? `${digest}  ${rel.file}\n` : `${digest}\n`);
    });
  }
}

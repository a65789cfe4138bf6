// Every image k8s-img makes comes through here: its layers written by us (sorted entries,
// one fixed time, root-owned unless said otherwise), its config canonical, its SBOM made
// from what went in and named by a label, all streamed into `docker load`. The same
// inputs give the same bytes, so the same image ID, on any machine. An image whose
// input hash (a label) has not changed is left alone, as before.
import { createHash } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { arch } from 'node:os';
import { BuildError } from '../errors.js';
import { parseGoVersionM } from '../fetch/buildinfo.js';
import { LABEL } from '../plan/names.js';
import { SCRATCH, baseConfigOf, canonicalJson, dockerArch, type BaseConfig, type HistoryEntry, type ImageConfigSpec } from '../render/image-config.js';
import { encodeLayer, normalizeEntries, type EntryType, type LayerEntry } from '../render/layer-tar.js';
import { sbomText, spdxDocument, type FileOrigin, type SbomFile, type SbomInput, type SbomLayer, type SpdxDocument } from '../render/sbom.js';
import type { DockerEngine } from '../runtime/docker.js';
import type { GoToolchain } from '../runtime/gotool.js';
import { ImageConfigStore, filesFromSave } from '../runtime/image-configs.js';
import { loadImage, type LayerSource, type NewLayer } from '../runtime/image-load.js';
import { SbomStore, fileFacts } from '../runtime/sbom-store.js';
import { TOOL_VERSION } from '../version.js';
import type { Reporter } from './progress.js';

export const INPUT_HASH_LABEL = 'io.k8s-img.input-hash';
/** `sha256:<digest>` of the image's SPDX document (the cache's sbom/ folder; `save` copies it into bundles). */
export const SBOM_LABEL = 'io.k8s-img.sbom';
/** What the image is built on, without the images.prefix (the same image under any prefix). */
export const BASE_LABEL = 'io.k8s-img.base';

/** Bumped when the same inputs would give other bytes (tar encoding, config or SBOM layout). */
const ASSEMBLY = 'a2'; // a2: derived images inherit their base's entrypoint, cmd, user, ports

export interface BuiltImage {
  id: string;
  ref: string;
  status: 'built' | 'up to date';
  size: number;
}

/** A layer of our own files: entries, and where each file comes from (for the SBOM). */
export interface FilesLayer {
  entries: LayerEntry<LayerSource>[];
  origins: Map<string, FileOrigin>;
  history: HistoryEntry;
}

/** A finished tar (a root filesystem), known by `identity` in the input hash. */
export interface TarLayer {
  tarFile: string;
  size: number;
  identity: string;
  history: HistoryEntry;
}

export interface ImagePlan {
  /** Names the image in messages and progress. */
  id: string;
  ref: string;
  /** `scratch`, or an image in the engine and its name without the prefix. */
  base: { ref: 'scratch' } | { ref: string; name: string };
  layers: (FilesLayer | TarLayer)[];
  /** Commands run on base + layers (exec form), each a layer of its own: the e2e images' RUN lines. */
  run?: { steps: string[][]; env: string[] };
  config: ImageConfigSpec;
  sbom: Pick<SbomInput, 'image' | 'debian'>;
}

export interface AssembleContext {
  docker: DockerEngine;
  reporter: Reporter;
  /** Reads Go build info for the SBOM (`go version -m`). */
  go?: GoToolchain;
  /** Scratch space for the RUN steps' build context. */
  workDir: string;
  epoch: number;
  sboms?: SbomStore;
  configs?: ImageConfigStore;
}

const sha = (b: string | Buffer) => createHash('sha256').update(b).digest('hex');
const isTar = (l: FilesLayer | TarLayer): l is TarLayer => 'tarFile' in l;

interface Base {
  id: string;
  config: BaseConfig;
  sbom?: SpdxDocument;
  note: string;
  name: string;
}

async function baseOf(ctx: AssembleContext, plan: ImagePlan): Promise<Base> {
  if (!('name' in plan.base)) return { id: 'scratch', config: SCRATCH, note: 'scratch (nothing)', name: 'scratch' };
  const { ref, name } = plan.base;
  const info = await ctx.docker.imageInfo(ref);
  if (!info) throw new BuildError(`cannot build ${plan.ref}: its base ${ref} is not in the engine`, 'build the base first (k8s-img build), or load the image named by images.base');
  const config = baseConfigOf(await (ctx.configs ?? new ImageConfigStore()).get(ctx.docker, ref, info.id));
  const sbom = (ctx.sboms ?? new SbomStore()).get(info.labels[SBOM_LABEL]);
  return { id: info.id, config, ...(sbom ? { sbom } : {}), note: `${name} (${info.id.slice(0, 19)}…)${sbom ? '' : ', which has no SBOM'}`, name };
}

const contentDigest = (e: LayerEntry<LayerSource>): string | undefined => {
  if (e.type !== 'file' || e.content === undefined) return undefined;
  if (Buffer.isBuffer(e.content)) return sha(e.content);
  if (!e.content.sha256) throw new BuildError(`layer file ${e.path} (${e.content.file}) has no recorded sha256`, 'this is a bug in k8s-img');
  return e.content.sha256;
};

/** Everything the image's bytes depend on. */
function inputHash(plan: ImagePlan, base: Base, layers: (FilesLayer | TarLayer)[], epoch: number): string {
  return sha(
    canonicalJson({
      assembly: ASSEMBLY,
      tool: TOOL_VERSION,
      base: base.id,
      epoch,
      config: plan.config,
      run: plan.run ?? null,
      sbom: plan.sbom,
      layers: layers.map((l) =>
        isTar(l)
          ? { tar: l.identity, history: l.history }
          : { history: l.history, entries: l.entries.map((e) => [e.path, e.type, e.mode.toString(8), e.uid, e.gid, e.size, e.linkname ?? '', contentDigest(e) ?? '']) },
      ),
    }),
  );
}

/** Builds `plan` unless an image with the same inputs (and its SBOM) is already there. */
export async function assembleImage(ctx: AssembleContext, plan: ImagePlan): Promise<BuiltImage> {
  const sboms = ctx.sboms ?? new SbomStore();
  const configs = ctx.configs ?? new ImageConfigStore();
  const base = await baseOf(ctx, plan);
  const layers = plan.layers.map((l) => (isTar(l) ? l : { ...l, entries: normalizeEntries(l.entries) }));
  const hash = inputHash(plan, base, layers, ctx.epoch);
  const existing = await ctx.docker.imageInfo(plan.ref);
  if (existing?.labels[INPUT_HASH_LABEL] === hash && sboms.has(existing.labels[SBOM_LABEL])) {
    ctx.reporter.info(`= ${plan.ref} up to date`);
    return { id: plan.id, ref: plan.ref, status: 'up to date', size: existing.size };
  }
  const opts = { epoch: ctx.epoch, arch: dockerArch(arch()) };
  await ctx.reporter.step(`Building ${plan.ref}`, async (update) => {
    const newLayers: NewLayer[] = layers.map((l) =>
      isTar(l) ? { tarFile: l.tarFile, size: l.size, history: l.history } : { encoded: encodeLayer(l.entries, ctx.epoch), history: l.history },
    );
    const sbomLayers: SbomLayer[] = [];
    for (const [i, l] of layers.entries()) {
      if (isTar(l)) continue;
      update(`describing layer ${i + 1}`);
      sbomLayers.push({ index: base.config.diffIds.length + i, description: l.history.created_by, files: await sbomFiles(ctx, l) });
    }
    if (plan.run) {
      update('running its build steps');
      const ran = await runSteps(ctx, plan, base.config, newLayers, opts, hash);
      for (const [j, r] of ran.entries()) {
        newLayers.push(r.layer);
        sbomLayers.push({ index: base.config.diffIds.length + layers.length + j, description: r.layer.history.created_by, files: r.files });
      }
    }
    const doc = spdxDocument({ ...plan.sbom, toolVersion: TOOL_VERSION, epoch: ctx.epoch, ...(base.sbom ? { base: base.sbom } : {}), baseNote: base.note, layers: sbomLayers });
    const digest = sboms.put(sbomText(doc));
    const labels = { ...plan.config.labels, [INPUT_HASH_LABEL]: hash, [SBOM_LABEL]: digest, [BASE_LABEL]: base.name };
    update('loading into the engine');
    const loaded = await loadImage(ctx.docker, plan.ref, { ...plan.config, labels }, base.config, newLayers, opts);
    configs.put(loaded.config);
  });
  return { id: plan.id, ref: plan.ref, status: 'built', size: (await ctx.docker.imageInfo(plan.ref))?.size ?? 0 };
}

/** The SBOM's view of a layer's regular files: checksums and where each came from. */
async function sbomFiles(ctx: AssembleContext, layer: FilesLayer): Promise<SbomFile[]> {
  const out: SbomFile[] = [];
  for (const e of layer.entries) {
    if (e.type !== 'file' || e.content === undefined) continue;
    const origin = layer.origins.get(e.path) ?? { kind: 'k8s-img' };
    if (Buffer.isBuffer(e.content)) {
      out.push({ path: e.path, sha1: createHash('sha1').update(e.content).digest('hex'), sha256: sha(e.content), type: 'TEXT', origin });
      continue;
    }
    const facts = await fileFacts(e.content.file, e.content.sha256!, ctx.go);
    const build = facts.goBuildInfo ? parseGoVersionM(facts.goBuildInfo) : undefined;
    const binary = Boolean(build) || origin.kind === 'c';
    out.push({ path: e.path, sha1: facts.sha1, sha256: e.content.sha256!, type: binary ? 'BINARY' : 'TEXT', origin: build ? { kind: 'go', build } : origin });
  }
  return out;
}

/**
 * The RUN lines: base + our layers loaded as a stage image, the steps run on it by the
 * engine's builder (SOURCE_DATE_EPOCH set for them), and each step's layer read back and
 * written again our way. The stage images are removed.
 */
async function runSteps(
  ctx: AssembleContext,
  plan: ImagePlan,
  base: BaseConfig,
  layers: NewLayer[],
  opts: { epoch: number; arch: string },
  hash: string,
): Promise<{ layer: NewLayer; files: SbomFile[] }[]> {
  const run = plan.run!;
  const stage = `k8s-img-stage/${plan.id.replace(/[^a-z0-9._-]+/g, '-')}:${hash.slice(0, 12)}`;
  const stageLabels = { [LABEL.managed]: 'true', [LABEL.component]: 'stage' };
  const dir = join(ctx.workDir, 'stage', hash.slice(0, 12));
  try {
    const loaded = await loadImage(ctx.docker, stage, { labels: stageLabels, env: run.env }, base, layers, opts);
    mkdirSync(dir, { recursive: true });
    const lines = [`FROM ${stage}`, 'ARG SOURCE_DATE_EPOCH', ...run.steps.map((s) => `RUN ${JSON.stringify(s)}`)];
    writeFileSync(join(dir, 'Dockerfile'), `${lines.join('\n')}\n`);
    await ctx.docker.build(dir, ['Dockerfile'], `${stage}-run`, stageLabels, undefined, { SOURCE_DATE_EPOCH: String(opts.epoch) });
    const after = (await ctx.docker.imageInfo(`${stage}-run`))!.layers.slice(loaded.diffIds.length + base.diffIds.length);
    if (after.length !== run.steps.length) throw new BuildError(`the build steps of ${plan.ref} made ${after.length} layers, not ${run.steps.length}`, 'this is a bug in k8s-img');
    const tars = await layerTars(ctx.docker, `${stage}-run`, after);
    return run.steps.map((step, i) => {
      const entries = normalizeEntries(readLayer(tars.get(after[i]!)!));
      const history = { created_by: `RUN ${JSON.stringify(step)}` };
      const files: SbomFile[] = entries
        .filter((e) => e.type === 'file' && !e.path.split('/').pop()!.startsWith('.wh.'))
        .map((e) => ({ path: e.path, sha1: createHash('sha1').update(e.content!).digest('hex'), sha256: sha(e.content!), type: 'OTHER', origin: { kind: 'run', step: history.created_by } }));
      return { layer: { encoded: encodeLayer(entries, opts.epoch), history }, files };
    });
  } finally {
    await ctx.docker.removeImage(`${stage}-run`);
    await ctx.docker.removeImage(stage);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The layer tars of `ref` whose diff IDs are `want`, out of `docker save` (blobs are uncompressed). */
async function layerTars(docker: DockerEngine, ref: string, want: string[]): Promise<Map<string, Buffer>> {
  const name = (d: string) => `blobs/sha256/${d.replace(/^sha256:/, '')}`;
  const got = await filesFromSave(docker, ref, want.map(name));
  const missing = want.filter((d) => !got.has(name(d)));
  if (missing.length > 0) throw new BuildError(`docker save of ${ref} lacks the layers ${missing.join(', ')}`, 'the engine must save uncompressed layers named by their diff IDs (Docker ≥ 25)');
  return new Map(want.map((d) => [d, got.get(name(d))!]));
}

/** A layer tar's entries with their content, as the engine wrote them (times and names dropped later). */
function readLayer(data: Buffer): LayerEntry<Buffer>[] {
  const entries: LayerEntry<Buffer>[] = [];
  let offset = 0;
  // A small synchronous reader: these layers are the e2e images' few RUN lines.
  let paxNext: Record<string, Buffer> = {};
  while (offset + 512 <= data.length) {
    const h = data.subarray(offset, offset + 512);
    if (h.every((b) => b === 0)) break;
    const field = (o: number, n: number) => h.subarray(o, o + n).toString('utf8').replace(/\0.*$/s, '');
    const num = (o: number, n: number) => parseInt(field(o, n).trim() || '0', 8);
    const size = num(124, 12);
    const flag = String.fromCharCode(h[156]!);
    const body = data.subarray(offset + 512, offset + 512 + size);
    offset += 512 + Math.ceil(size / 512) * 512;
    if (flag === 'x') {
      paxNext = parsePax(body);
      continue;
    }
    if (flag === 'g') continue;
    const prefix = field(345, 155);
    const name = paxNext.path?.toString('utf8') ?? (prefix ? `${prefix}/${field(0, 100)}` : field(0, 100));
    const linkname = paxNext.linkpath?.toString('utf8') ?? field(157, 100);
    const type = ({ '0': 'file', '\0': 'file', '1': 'link', '2': 'symlink', '3': 'char', '4': 'block', '5': 'dir', '6': 'fifo' } as Record<string, EntryType>)[flag];
    if (!type) throw new BuildError(`a build step's layer holds a tar entry of type ${JSON.stringify(flag)} (${name})`, 'this is a bug in k8s-img');
    const xattrs: Record<string, Buffer> = {};
    for (const [k, v] of Object.entries(paxNext)) if (k.startsWith('SCHILY.xattr.')) xattrs[k.slice('SCHILY.xattr.'.length)] = v;
    entries.push({
      path: name,
      type,
      mode: num(100, 8),
      uid: paxNext.uid ? Number(paxNext.uid.toString()) : num(108, 8),
      gid: paxNext.gid ? Number(paxNext.gid.toString()) : num(116, 8),
      size: type === 'file' ? size : 0,
      ...(type === 'link' || type === 'symlink' ? { linkname } : {}),
      ...(type === 'char' || type === 'block' ? { devmajor: num(329, 8), devminor: num(337, 8) } : {}),
      ...(Object.keys(xattrs).length > 0 ? { xattrs } : {}),
      ...(type === 'file' ? { content: Buffer.from(body) } : {}),
    });
    paxNext = {};
  }
  return entries;
}

/** pax records, values as bytes (xattr values are binary; paths are UTF-8). */
function parsePax(body: Buffer): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  let i = 0;
  while (i < body.length) {
    const space = body.indexOf(0x20, i);
    if (space < 0) break;
    const len = Number(body.subarray(i, space).toString('ascii'));
    if (!len) break;
    const record = body.subarray(space + 1, i + len - 1);
    const eq = record.indexOf(0x3d);
    out[record.subarray(0, eq).toString('utf8')] = Buffer.from(record.subarray(eq + 1));
    i += len;
  }
  return out;
}

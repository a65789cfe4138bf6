// An image's configuration as the exact bytes Docker hashes into the image ID: canonical
// JSON (keys sorted, no spaces), one fixed creation time for the image and every history
// entry, and nothing the engine would add on its own (container IDs, builder config). Pure.

export interface ImageConfigSpec {
  labels: Record<string, string>;
  env?: string[];
  user?: string;
  entrypoint?: string[];
  cmd?: string[];
  workdir?: string;
  /** `80`, `53/udp` */
  exposedPorts?: string[];
  stopSignal?: string;
  volumes?: string[];
}

export interface HistoryEntry {
  created_by: string;
  comment?: string;
  empty_layer?: boolean;
  /** Set on a base's entries (kept as the base has them); ours get the image's time. */
  created?: string;
}

/**
 * What an image inherits from its base (as docker build does): layers and their history,
 * environment, labels, and the run settings a child does not set (its entrypoint, cmd, user,
 * ports, stop signal, volumes; a child's own entrypoint drops the base's cmd).
 */
export interface BaseConfig {
  diffIds: string[];
  history: HistoryEntry[];
  env: string[];
  labels: Record<string, string>;
  workdir?: string;
  user?: string;
  entrypoint?: string[];
  cmd?: string[];
  /** As the config holds them: `80/tcp`. */
  exposedPorts?: string[];
  stopSignal?: string;
  volumes?: string[];
}

export const SCRATCH: BaseConfig = { diffIds: [], history: [], env: [], labels: {} };

/** JSON with object keys sorted at every level: one text per value. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) {
      const x = (v as Record<string, unknown>)[k];
      if (x !== undefined) out[k] = sortKeys(x);
    }
    return out;
  }
  return v;
}

/** RFC 3339 without fractions, as Docker writes it. */
export function rfc3339(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** NAME=value list with later names replacing earlier ones, in first-seen order. */
export function mergeEnv(base: readonly string[], ours: readonly string[]): string[] {
  const m = new Map<string, string>();
  for (const e of [...base, ...ours]) m.set(e.split('=')[0]!, e);
  return [...m.values()];
}

/**
 * The config of an image made of `base` plus `layers` (their diff IDs and history, in
 * order). Docker's `Architecture` naming (amd64, arm64).
 */
export function imageConfig(spec: ImageConfigSpec, base: BaseConfig, layers: { diffId: string; history: HistoryEntry }[], opts: { epoch: number; arch: string }): string {
  const created = rfc3339(opts.epoch);
  const env = mergeEnv(base.env, spec.env ?? []);
  const set = (xs: string[] | undefined) => (xs && xs.length > 0 ? Object.fromEntries(xs.map((x) => [x, {}])) : undefined);
  const ports = [...(base.exposedPorts ?? []), ...(spec.exposedPorts ?? []).map((p) => (p.includes('/') ? p : `${p}/tcp`))];
  const config = {
    User: spec.user ?? base.user,
    Env: env.length > 0 ? env : undefined,
    Entrypoint: spec.entrypoint ?? base.entrypoint,
    Cmd: spec.cmd ?? (spec.entrypoint ? undefined : base.cmd),
    WorkingDir: spec.workdir ?? base.workdir,
    Labels: { ...base.labels, ...spec.labels },
    ExposedPorts: set([...new Set(ports)]),
    StopSignal: spec.stopSignal ?? base.stopSignal,
    Volumes: set([...new Set([...(base.volumes ?? []), ...(spec.volumes ?? [])])]),
  };
  return canonicalJson({
    architecture: opts.arch,
    os: 'linux',
    created,
    config,
    rootfs: { type: 'layers', diff_ids: [...base.diffIds, ...layers.map((l) => l.diffId)] },
    history: [...base.history, ...layers.map((l) => ({ ...l.history, created }))],
  });
}

/** What a derived image takes from a base's config (the exact JSON the engine holds). */
export function baseConfigOf(configJson: string): BaseConfig {
  const c = JSON.parse(configJson) as {
    config?: {
      Env?: string[] | null;
      Labels?: Record<string, string> | null;
      WorkingDir?: string;
      User?: string;
      Entrypoint?: string[] | null;
      Cmd?: string[] | null;
      ExposedPorts?: Record<string, unknown> | null;
      StopSignal?: string;
      Volumes?: Record<string, unknown> | null;
    };
    rootfs?: { diff_ids?: string[] };
    history?: HistoryEntry[];
  };
  return {
    diffIds: c.rootfs?.diff_ids ?? [],
    history: c.history ?? [],
    env: c.config?.Env ?? [],
    labels: c.config?.Labels ?? {},
    ...(c.config?.WorkingDir ? { workdir: c.config.WorkingDir } : {}),
    ...(c.config?.User ? { user: c.config.User } : {}),
    ...(c.config?.Entrypoint?.length ? { entrypoint: c.config.Entrypoint } : {}),
    ...(c.config?.Cmd?.length ? { cmd: c.config.Cmd } : {}),
    ...(c.config?.ExposedPorts ? { exposedPorts: Object.keys(c.config.ExposedPorts).sort() } : {}),
    ...(c.config?.StopSignal ? { stopSignal: c.config.StopSignal } : {}),
    ...(c.config?.Volumes ? { volumes: Object.keys(c.config.Volumes).sort() } : {}),
  };
}

/** Docker's name for this machine's architecture. */
export function dockerArch(nodeArch: string): string {
  return ({ x64: 'amd64', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' } as Record<string, string>)[nodeArch] ?? nodeArch;
}

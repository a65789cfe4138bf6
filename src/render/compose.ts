// NodePlan → Compose Specification document (compose.yaml). Pure.
import YAML from 'yaml';
import { LABEL, names } from '../plan/names.js';
import type { ClusterPlan, NodePlan, ServicePlan } from '../plan/types.js';

const seconds = (n: number) => `${n}s`;

function service(plan: ClusterPlan, node: NodePlan, s: ServicePlan, configHash: string | undefined): Record<string, unknown> {
  const p = s.privileges;
  const out: Record<string, unknown> = {
    image: s.image,
    container_name: names.service(s.name),
    pull_policy: 'never',
    network_mode: 'host',
    restart: s.restart,
  };
  if (p.pidHost) out.pid = 'host';
  if (p.user) out.user = p.user;
  if (s.entrypoint) out.entrypoint = s.entrypoint;
  if (s.command.length > 0) out.command = s.command;
  if (Object.keys(s.environment).length > 0) out.environment = s.environment;
  if (p.privileged) out.privileged = true;
  if (p.capDrop.length > 0) out.cap_drop = p.capDrop;
  if (p.noNewPrivileges) out.security_opt = ['no-new-privileges:true'];
  if (p.readOnlyRootfs) out.read_only = true;
  if (p.tmpfs.length > 0) out.tmpfs = p.tmpfs;
  if (s.volumes.length > 0) {
    out.volumes = s.volumes.map((v) => ({
      type: 'bind',
      source: v.source,
      target: v.target,
      ...(v.readOnly ? { read_only: true } : {}),
      bind: { create_host_path: true, ...(v.propagation ? { propagation: v.propagation } : {}) },
    }));
  }
  if (s.health) {
    out.healthcheck = {
      test: ['CMD', ...s.health.test],
      interval: seconds(s.health.intervalSeconds),
      timeout: seconds(s.health.timeoutSeconds),
      retries: s.health.retries,
      start_period: seconds(s.health.startPeriodSeconds),
      start_interval: '1s',
    };
  }
  if (s.dependsOn.length > 0) {
    out.depends_on = Object.fromEntries(s.dependsOn.map((d) => [d.service, { condition: d.condition }]));
  }
  out.labels = {
    [LABEL.managed]: 'true',
    [LABEL.cluster]: plan.cluster,
    [LABEL.node]: node.name,
    [LABEL.role]: node.roles.join(','),
    [LABEL.component]: s.name,
    ...(configHash ? { [LABEL.configHash]: configHash } : {}),
  };
  // Logs stay bounded on long-running nodes.
  out.logging = { driver: 'json-file', options: { 'max-size': '50m', 'max-file': '3' } };
  return out;
}

/** The compose document as an object (validated against the Compose Specification in tests). */
export function composeDocument(plan: ClusterPlan, node: NodePlan, configHashes: Record<string, string> = {}): Record<string, unknown> {
  return {
    name: names.project(plan.cluster),
    services: Object.fromEntries(node.services.map((s) => [s.name, service(plan, node, s, s.files.length > 0 ? configHashes[s.name] : undefined)])),
  };
}

// YAML 1.1 output quotes words like `no` that older parsers read as booleans.
const YAML_OPTIONS = { lineWidth: 0, aliasDuplicateObjects: false, version: '1.1' } as const;

export function composeBody(plan: ClusterPlan, node: NodePlan, configHashes: Record<string, string> = {}): string {
  const doc = composeDocument(plan, node, configHashes);
  return blockYaml(doc) ?? YAML.stringify(doc, YAML_OPTIONS);
}

/**
 * The YAML library's own output for `doc`, ~20× faster (a 1 000-node cluster has 1 000
 * compose files, ~280 000 scalars): block mappings and sequences laid out as the
 * library lays them out, every key and scalar rendered by the library itself once per
 * distinct value, but for strings plainScalar proves it writes as they are. Returns
 * undefined for anything outside that shape (empty or nested sequences, null, a scalar
 * the library writes on several lines); the caller then asks the library for all of it.
 * A test compares the two on every node of the test configurations.
 */
export function blockYaml(doc: Record<string, unknown>): string | undefined {
  const out: string[] = [];
  try {
    mapping(doc, '', out, '');
  } catch (e) {
    if (e === NOT_BLOCK) return undefined;
    throw e;
  }
  return out.join('');
}

const NOT_BLOCK = new Error('not a plain block document');
const keys = new Map<string, string>();
const scalars = new Map<unknown, string>();

function keyText(k: string): string {
  let t = keys.get(k);
  if (t === undefined) {
    const full = YAML.stringify({ [k]: 0 }, YAML_OPTIONS);
    if (!full.endsWith(': 0\n') || full.slice(0, -4).includes('\n')) throw NOT_BLOCK;
    keys.set(k, (t = full.slice(0, -4)));
  }
  return t;
}

/**
 * Strings the library writes as they are in a block sequence or as a mapping value
 * (YAML 1.1, no line width), without asking it: most of a compose file's distinct
 * values are flags, paths, node names, addresses and hashes. Each shape has no space,
 * quote, comment or flow character, no indicator first and no ":" last, and cannot be
 * read as a YAML 1.1 boolean, null, number, timestamp or merge key (yaml's
 * schema/yaml-1.1 tests): (1) none of those holds "/" or "=" (flags, paths, URLs);
 * (2) the words are letters only and only exponents ("e5") start with a letter, so a
 * name that starts with another letter and holds a digit, ".", "_" or "-" is none;
 * (3) numbers hold at most one "." (dotted quads); (4) numbers hold no letters but e,
 * and b or x after a 0, so lowercase hexadecimal with an a, c, d or f is none.
 * A test checks the library's output against this on random strings.
 */
export function plainScalar(v: string): boolean {
  return (
    (/^(?!---|\.\.\.|[,@%])[\w./=:,@+-]*[/=][\w./=:,@+-]*$/.test(v) && !v.endsWith(':')) ||
    (/^[A-DF-Za-df-z][\w.-]*$/.test(v) && /[\d._-]/.test(v)) ||
    /^\d{1,3}(?:\.\d{1,3}){3}$/.test(v) ||
    (/^[0-9a-f]+$/.test(v) && /[acdf]/.test(v))
  );
}

function scalarText(v: unknown): string {
  if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') throw NOT_BLOCK;
  const memo = typeof v === 'string' ? v : `\0${typeof v}:${String(v)}`;
  let t = scalars.get(memo);
  if (t === undefined) {
    if (typeof v === 'string' && plainScalar(v)) {
      t = v;
    } else {
      const full = YAML.stringify([v], YAML_OPTIONS);
      if (!full.startsWith('- ') || !full.endsWith('\n') || full.slice(2, -1).includes('\n')) throw NOT_BLOCK;
      t = full.slice(2, -1);
    }
    scalars.set(memo, t);
  }
  return t;
}

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `first` is written before the first key instead of `indent` (a sequence item's "- "). */
function mapping(m: Record<string, unknown>, indent: string, out: string[], first: string): void {
  const inner = `${indent}  `;
  let i = 0;
  for (const k in m) {
    const v = m[k];
    out.push(i++ === 0 ? first : indent, keyText(k), ':');
    if (Array.isArray(v)) {
      out.push('\n');
      sequence(v, inner, out);
    } else if (isMap(v)) {
      out.push('\n');
      mapping(v, inner, out, inner);
    } else {
      out.push(' ', scalarText(v), '\n');
    }
  }
  if (i === 0) throw NOT_BLOCK;
}

function sequence(items: unknown[], indent: string, out: string[]): void {
  if (items.length === 0) throw NOT_BLOCK;
  const item = `${indent}- `;
  const inner = `${indent}  `;
  for (const v of items) {
    if (Array.isArray(v)) throw NOT_BLOCK;
    if (isMap(v)) mapping(v, inner, out, item);
    else out.push(item, scalarText(v), '\n');
  }
}

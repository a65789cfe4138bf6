// The pinned package list of a Debian root filesystem (images/rootfs/<id>.lock.json):
// every package mmdebstrap installed, at the version the mirror had on the recorded
// date, with the sha256 of its .deb. A root filesystem made from the same lock is the
// same tar (SOURCE_DATE_EPOCH is the archive's date). Pure.
import { createHash } from 'node:crypto';
import type { RootfsSpec } from './bases.js';

export const LOCK_FORMAT = 'k8s-img rootfs lock v1';

/**
 * How the tar is made from a lock (mmdebstrap options, hooks). A change here makes other
 * bytes from the same lock: it is part of the image tag.
 */
export const ROOTFS_RECIPE = 'custom-variant,no-doc-man-info-locale,no-apt-lists,no-resolv-hostname';

export interface LockedPackage {
  name: string;
  version: string;
  arch: string;
  /** The source package and its version (dpkg's source:Package, source:Version). */
  source: string;
  sourceVersion: string;
  /** sha256 of the .deb, as downloaded and checked by apt. */
  sha256: string;
}

export interface RootfsLock {
  format: typeof LOCK_FORMAT;
  id: string;
  suite: string;
  /** Further suites apt took packages from (the spec's extraSuites); absent when none. */
  extraSuites?: string[];
  /** The spec's package list it was resolved from (a different list needs a new lock). */
  request: string[];
  mirror: string;
  /** The archive's Release file: its Date is SOURCE_DATE_EPOCH. */
  release: { date: string; version: string };
  /** When k8s-img resolved it. */
  resolvedOn: string;
  mmdebstrap: string;
  /** The diff ID of the tar made from this lock where it was resolved. */
  layer?: string;
  packages: LockedPackage[];
}

export class LockError extends Error {}

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

/** Parses and checks a lock file's text. */
export function parseLock(text: string, where: string): RootfsLock {
  let v: Partial<RootfsLock>;
  try {
    v = JSON.parse(text) as Partial<RootfsLock>;
  } catch (e) {
    throw new LockError(`${where} is not JSON: ${(e as Error).message}`);
  }
  if (v.format !== LOCK_FORMAT) throw new LockError(`${where}: not a k8s-img rootfs lock (format ${JSON.stringify(v.format)})`);
  const str = (x: unknown) => typeof x === 'string' && x.length > 0;
  if (!str(v.id) || !str(v.suite) || !str(v.mirror) || !Array.isArray(v.request) || !v.release || !str(v.release.date) || !Array.isArray(v.packages) || v.packages.length === 0) {
    throw new LockError(`${where}: a field is missing (id, suite, mirror, request, release.date, packages)`);
  }
  if (v.extraSuites !== undefined && (!Array.isArray(v.extraSuites) || !v.extraSuites.every((x) => /^[a-z0-9-]+$/.test(String(x))))) throw new LockError(`${where}: extraSuites must be a list of suite names`);
  if (Number.isNaN(Date.parse(v.release.date))) throw new LockError(`${where}: release.date ${v.release.date} is not a date`);
  for (const p of v.packages) {
    if (!/^[a-z0-9][a-z0-9+.-]+$/.test(p.name) || !/^[A-Za-z0-9.+~:-]+$/.test(p.version) || !/^[a-z0-9-]+$/.test(p.arch) || !/^[0-9a-f]{64}$/.test(p.sha256)) {
      throw new LockError(`${where}: package entry ${JSON.stringify(p)} is malformed`);
    }
  }
  return v as RootfsLock;
}

export function formatLock(lock: RootfsLock): string {
  const { packages, ...head } = lock;
  // One package per line: a lock refresh reads as a diff of versions.
  const body = JSON.stringify(head, null, 2).replace(/\n}$/, '');
  return `${body},\n  "packages": [\n${packages.map((p) => `    ${JSON.stringify(p)}`).join(',\n')}\n  ]\n}\n`;
}

/** Whether the lock was resolved for exactly this package list and suite. */
export function lockMatches(lock: RootfsLock, spec: RootfsSpec): boolean {
  const sorted = (l: readonly string[] | undefined) => [...(l ?? [])].sort().join(' ');
  return lock.suite === spec.suite && sorted(lock.extraSuites) === sorted(spec.extraSuites) && sorted(lock.request) === sorted(spec.packages);
}

/** SOURCE_DATE_EPOCH of a root filesystem: the archive's date. */
export function lockEpoch(lock: RootfsLock): number {
  return Math.floor(Date.parse(lock.release.date) / 1000);
}

/** mmdebstrap's --include for the custom variant: every package at its locked version. */
export function pinnedIncludes(lock: RootfsLock): string {
  return lock.packages.map((p) => `${p.name}=${p.version}`).join(',');
}

/** What the tag of the image says: the suite and a hash of the pinned set and the recipe (and extra suites, when any). */
export function lockTag(lock: RootfsLock): string {
  const pinned = lock.packages.map((p) => `${p.name} ${p.version} ${p.arch} ${p.sha256}`).join('\n');
  const extra = lock.extraSuites?.length ? `\nextra ${lock.extraSuites.join(' ')}` : '';
  return `${lock.suite}-${sha(`${ROOTFS_RECIPE}${extra}\n${pinned}`).slice(0, 12)}`;
}

/** mmdebstrap's mirror arguments: the mirror alone, or one sources line per suite when there are extra ones. */
export function mirrorArgs(suite: string, extraSuites: readonly string[] | undefined, mirror: string): string[] {
  return extraSuites?.length ? [suite, ...extraSuites].map((s) => `deb ${mirror} ${s} main`) : [mirror];
}

/** `dpkg-query -W -f '${Package}\t${Version}\t${Architecture}\t${source:Package}\t${source:Version}\n'` output. */
export function parseInstalled(text: string): Omit<LockedPackage, 'sha256'>[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const [name, version, arch, source, sourceVersion] = l.split('\t');
      return { name: name!, version: version!, arch: arch!, source: source || name!, sourceVersion: sourceVersion || version! };
    })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** `sha256sum` output over the .deb files → sha256 by `name_version_arch` (apt's file names, with `:` as %3a). */
export function parseDebSums(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const l of text.split('\n')) {
    const m = /^([0-9a-f]{64})\s+\*?(?:.*\/)?([^/]+)\.deb$/.exec(l.trim());
    if (m) out.set(decodeURIComponent(m[2]!), m[1]!);
  }
  return out;
}

/** apt names a .deb `name_version_arch.deb`, the epoch's colon written %3a (decoded by parseDebSums). */
export const debKey = (p: { name: string; version: string; arch: string }) => `${p.name}_${p.version}_${p.arch}`;

/** Differences between the lock and what was installed, as readable lines. */
export function lockDifferences(lock: RootfsLock, installed: Omit<LockedPackage, 'sha256'>[]): string[] {
  const want = new Map(lock.packages.map((p) => [p.name, p.version]));
  const got = new Map(installed.map((p) => [p.name, p.version]));
  const out: string[] = [];
  for (const [n, v] of want) if (got.get(n) !== v) out.push(`${n}: locked ${v}, installed ${got.get(n) ?? 'nothing'}`);
  for (const [n, v] of got) if (!want.has(n)) out.push(`${n}: installed ${v}, not in the lock`);
  return out;
}

// The build machine's Debian packages that go into what we compile (compilers, static
// libraries), with their versions: recorded with the binaries, named in the SBOM.
import type { HostPackage } from '../render/sbom.js';
import { run } from './exec.js';

/** The installed ones of `names` (dpkg-query); none on a machine without dpkg. */
export async function hostPackages(names: readonly string[]): Promise<HostPackage[]> {
  if (names.length === 0) return [];
  const r = await run('dpkg-query', ['-W', '-f', '${Package}\\t${Version}\\t${Architecture}\\n', ...names]).catch(() => undefined);
  if (!r) return [];
  return r.stdout
    .split('\n')
    .map((l) => l.split('\t'))
    .filter((f) => f.length === 3 && f[1] !== '')
    .map(([name, version, arch]) => ({ name: name!, version: version!, arch: arch! }));
}

export const formatHostPackages = (ps: HostPackage[]) => ps.map((p) => `${p.name} ${p.version} ${p.arch}`).join(', ');

export function parseHostPackages(text: string | undefined): HostPackage[] {
  if (!text) return [];
  return text.split(', ').map((s) => s.split(' ')).filter((f) => f.length === 3).map(([name, version, arch]) => ({ name: name!, version: version!, arch: arch! }));
}

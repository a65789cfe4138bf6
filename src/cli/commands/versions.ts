import { DEFAULT_RELEASE, SUPPORTED_RELEASES } from '../../config/versions.js';
import type { CliIO } from '../io.js';

export function run(_args: unknown, io: CliIO): void {
  const rows = [['kubernetes', 'etcd', 'coredns', 'calico', 'containerd', 'runc', 'registry', 'cni-plugins', 'pause', 'tested'] as string[]];
  for (const r of SUPPORTED_RELEASES) {
    rows.push([
      `${r.kubernetes}${r === DEFAULT_RELEASE ? ' (default)' : ''}`,
      r.etcd, r.coredns, r.calico.release, r.containerd, r.runc, r.registry, r.cniPlugins, r.pause,
      { ci: 'yes, in CI', manual: 'by hand', no: 'no' }[r.tested],
    ]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  io.stdout.write(rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n') + '\n');
  for (const r of SUPPORTED_RELEASES) if (r.note) io.stdout.write(`${r.kubernetes}: ${r.note}\n`);
}

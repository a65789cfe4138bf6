// Durations in cluster.yaml (etcd.snapshots.every): whole numbers with a unit, one or
// more, largest first — 20s, 30m, 6h, 1d12h. Pure.
const UNITS: Record<string, number> = { d: 86_400, h: 3_600, m: 60, s: 1 };
const DURATION = /^(?:\d{1,6}d)?(?:\d{1,6}h)?(?:\d{1,6}m)?(?:\d{1,6}s)?$/;

/** Seconds, or undefined when the text is not a duration. */
export function durationSeconds(text: string): number | undefined {
  if (text === '' || !DURATION.test(text)) return undefined;
  let total = 0;
  for (const [, n, unit] of text.matchAll(/(\d+)([dhms])/g)) total += Number(n) * UNITS[unit!]!;
  return total;
}

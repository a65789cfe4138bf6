// Temporary files and folders (which may hold private keys) are removed on every
// path out: errors remove them where they happen; SIGINT/SIGTERM remove them here.
import { rmSync } from 'node:fs';

const live = new Set<string>();
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

function onSignal(signal: NodeJS.Signals): void {
  removeAll();
  uninstall();
  // The default action (and exit status) of the signal, now that nothing is left behind.
  process.kill(process.pid, signal);
}

function install(): void {
  for (const s of SIGNALS) process.on(s, onSignal);
}

function uninstall(): void {
  for (const s of SIGNALS) process.off(s, onSignal);
}

function removeAll(): void {
  for (const p of live) rmSync(p, { recursive: true, force: true });
  live.clear();
}

/**
 * Registers a temporary path before it is created. While any is registered, a
 * signal is handled by us (Node then defers it past synchronous work) and removes them.
 */
export function trackTemp(path: string): void {
  if (live.size === 0) install();
  live.add(path);
}

/** The path was renamed into place or removed: forget it. */
export function untrackTemp(path: string): void {
  live.delete(path);
  if (live.size === 0) uninstall();
}

/** Removes a temporary path (quietly: it may never have been created) and forgets it. */
export function removeTemp(path: string): void {
  rmSync(path, { recursive: true, force: true });
  untrackTemp(path);
}

/** Paths currently tracked (tests check that none are left). */
export function trackedTemps(): string[] {
  return [...live];
}

// Multi-step commands as ordered lists of named actions (kind's create/actions): each
// has a title and one run(ctx); the runner shows each as a progress step.
import type { Reporter } from './progress.js';

export interface Action<C> {
  title: string | ((ctx: C) => string);
  run(ctx: C, update: (detail: string) => void): Promise<void>;
  /** Skipped when this says no (e.g. preflight for local node containers). */
  when?: (ctx: C) => boolean;
  /** Reports its own steps (fetch and build, save): not wrapped in one. */
  reportsItself?: boolean;
}

export async function runActions<C extends { reporter: Reporter }>(ctx: C, actions: Action<C>[]): Promise<void> {
  for (const a of actions) {
    if (a.when && !a.when(ctx)) continue;
    if (a.reportsItself) await a.run(ctx, () => {});
    else await ctx.reporter.step(typeof a.title === 'string' ? a.title : a.title(ctx), (update) => a.run(ctx, update));
  }
}

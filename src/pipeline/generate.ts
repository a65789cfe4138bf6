// generate: config → plan → secrets (state dir) → rendered bundles → DIR, atomically.
import { join } from 'node:path';
import type { ResolvedConfig } from '../config/defaults.js';
import { REGISTRY_STORAGE } from '../plan/components.js';
import { planCluster } from '../plan/plan.js';
import type { ClusterPlan } from '../plan/types.js';
import { renderBundles, type BundleFile, type Secrets } from '../render/bundle.js';
import { replaceTree, type TreeFile } from '../runtime/files.js';
import { StateDir, basicIssuer, type SecretIssuer } from '../runtime/state.js';
import { loadTemplates } from '../runtime/templates.js';

/** What `save` adds to a bundle (the cluster registry's storage too); regenerating keeps them. */
export const ARCHIVE_FILES = ['images.tar', 'images.sha256', 'images.txt', REGISTRY_STORAGE];

export interface GenerateResult {
  plan: ClusterPlan;
  bundles: Map<string, BundleFile[]>;
  secrets: Secrets;
}

export async function renderCluster(config: ResolvedConfig, state: StateDir, issuers: SecretIssuer[] = [basicIssuer]): Promise<GenerateResult> {
  const plan = planCluster(config);
  const secrets = await state.ensure(plan, issuers);
  return { plan, bundles: renderBundles(plan, loadTemplates(), secrets), secrets };
}

export function writeBundles(outDir: string, result: GenerateResult): void {
  const files: TreeFile[] = [];
  const keep: string[] = [];
  for (const [node, list] of result.bundles) {
    for (const f of list) files.push({ path: join(node, f.path), content: f.content, mode: f.mode });
    for (const k of ARCHIVE_FILES) keep.push(join(node, k));
  }
  replaceTree(outDir, files, keep);
}

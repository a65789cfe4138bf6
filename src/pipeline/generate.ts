// generate: config → plan → secrets (state dir) → rendered bundles → DIR, atomically.
import { dirname, join, resolve } from 'node:path';
import type { ResolvedConfig } from '../config/defaults.js';
import { REGISTRY_STORAGE, SBOM_DIR } from '../plan/components.js';
import { planCluster } from '../plan/plan.js';
import type { ClusterPlan } from '../plan/types.js';
import { renderBundles, type BundleFile, type Secrets } from '../render/bundle.js';
import { replaceTree, type TreeFile } from '../runtime/files.js';
import type { StampStore } from '../runtime/tree-stamps.js';
import { BUNDLE_MARKER, markerContent, type Protected } from '../runtime/output-dir.js';
import { StateDir, basicIssuer, type SecretIssuer } from '../runtime/state.js';
import { loadTemplates } from '../runtime/templates.js';
import { claimState, verifyState } from './state-check.js';

/** What `save` adds to a bundle (the cluster registry's storage too); regenerating keeps them. */
export const ARCHIVE_FILES = ['images.tar', 'images.sha256', 'images.txt', REGISTRY_STORAGE, SBOM_DIR];

export interface GenerateResult {
  plan: ClusterPlan;
  bundles: Map<string, BundleFile[]>;
  secrets: Secrets;
}

export async function renderCluster(config: ResolvedConfig, state: StateDir, issuers: SecretIssuer[] = [basicIssuer], plan = planCluster(config)): Promise<GenerateResult> {
  const secrets = await state.ensure(plan, issuers);
  return { plan, bundles: renderBundles(plan, loadTemplates(), secrets), secrets };
}

/**
 * renderCluster behind the checks: the state folder must be sound and this cluster
 * file's (recorded on first use), so no broken key is ever shipped.
 */
export async function renderVerified(config: ResolvedConfig, state: StateDir, configPath: string, issuers: SecretIssuer[]): Promise<GenerateResult> {
  const plan = planCluster(config); // planned once: a 1 000-node plan takes a noticeable while
  const files = state.remembering();
  await verifyState(files, plan, configPath);
  claimState(files, configPath);
  return renderCluster(config, files, issuers, plan);
}

/** What a bundle folder must never be or contain. */
export function protectedPaths(configPath: string, state: StateDir): Protected[] {
  return [
    { path: dirname(resolve(configPath)), what: "the configuration file's folder" },
    { path: state.dir, what: 'the state folder (keys)' },
  ];
}

/** Replaces the bundle folder (checked with checkOutputDir first) with the rendered bundles and its marker; `stamps`: see tree-stamps.ts. */
export function writeBundles(outDir: string, result: GenerateResult, stamps?: StampStore): void {
  const files: TreeFile[] = [{ path: BUNDLE_MARKER, content: markerContent([...result.bundles.keys()]), mode: 0o644 }];
  const keep: string[] = [];
  for (const [node, list] of result.bundles) {
    for (const f of list) files.push({ path: `${node}/${f.path}`, content: f.content, mode: f.mode });
    for (const k of ARCHIVE_FILES) keep.push(join(node, k));
  }
  replaceTree(outDir, files, keep, stamps);
}

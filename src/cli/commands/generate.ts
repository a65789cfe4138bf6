import { protectedPaths, renderVerified, writeBundles } from '../../pipeline/generate.js';
import { adminKubeconfig } from '../../runtime/admin-kubeconfig.js';
import { readClusterConfig } from '../../runtime/config-file.js';
import { writeFileAtomic } from '../../runtime/files.js';
import { defaultIssuers } from '../../runtime/issuers.js';
import { checkOutputDir } from '../../runtime/output-dir.js';
import { stateDir } from '../../runtime/paths.js';
import { StateDir, adminKubeconfigPath, bundleStamps } from '../../runtime/state.js';
import type { CliIO } from '../io.js';
import { printWarnings } from '../output.js';

export async function run(args: { config: string; out: string }, io: CliIO): Promise<void> {
  const { config, warnings } = readClusterConfig(args.config);
  const state = new StateDir(stateDir(args.config, config.name));
  // The output is checked before any key is made.
  const out = checkOutputDir(args.out, protectedPaths(args.config, state));
  const result = await renderVerified(config, state, args.config, defaultIssuers());
  printWarnings([...warnings, ...result.plan.warnings], io.stderr);
  writeBundles(out.dir, result, bundleStamps(state));
  // The admin's kubeconfig stays with the state, never in a node's bundle.
  writeFileAtomic(adminKubeconfigPath(state), adminKubeconfig(result.plan, result.secrets), 0o600);
  for (const [node, files] of result.bundles) io.stdout.write(`${args.out}/${node}/  ${files.length} files\n`);
  io.stderr.write(`keys and certificates: ${state.dir}\nadmin kubeconfig: ${adminKubeconfigPath(state)}\n`);
}

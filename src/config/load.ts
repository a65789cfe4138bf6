// Text → validated, defaulted configuration. Pure: the caller reads the file.
import YAML from 'yaml';
import type { z } from 'zod';
import { ConfigError, type Problem } from '../errors.js';
import { resolveDefaults, type ResolvedConfig } from './defaults.js';
import { checkRules } from './rules.js';
import { API_VERSION, clusterSchema } from './schema.js';
import { closest } from './suggest.js';

export interface LoadedConfig {
  config: ResolvedConfig;
  warnings: Problem[];
}

/** Parses and validates cluster.yaml text; throws ConfigError listing every problem. */
export function parseClusterConfig(text: string, source = 'cluster.yaml'): LoadedConfig {
  const doc = YAML.parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((e) => ({
        path: e.linePos ? `line ${e.linePos[0].line}` : '(yaml)',
        message: e.message.replace(/ at line \d+, column \d+:?/, "").split('\n')[0]!,
        hint: 'fix the YAML syntax (indentation, colons, quotes)',
        severity: 'error' as const,
      })),
      source,
    );
  }
  return validateClusterConfig(doc.toJS(), source);
}

export function validateClusterConfig(raw: unknown, source = 'cluster.yaml'): LoadedConfig {
  const problems: Problem[] = [];
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError([{ path: '(root)', message: 'the file holds no mapping', hint: 'start from `k8s-img init`', severity: 'error' }], source);
  }
  problems.push(...unknownKeys(raw, clusterSchema, ''));
  const parsed = clusterSchema.safeParse(raw);
  if (!parsed.success) {
    problems.push(...parsed.error.issues.map(issueToProblem));
  } else {
    problems.push(...checkRules(resolveDefaults(parsed.data)));
  }
  const errors = problems.filter((p) => p.severity === 'error');
  if (errors.length > 0 || !parsed.success) throw new ConfigError(problems, source);
  return { config: resolveDefaults(parsed.data), warnings: problems };
}

function pathText(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${String(p)}` : String(p);
  return out || '(root)';
}

function issueToProblem(issue: z.core.$ZodIssue): Problem {
  const path = pathText(issue.path);
  const base = { path, severity: 'error' as const };
  switch (issue.code) {
    case 'invalid_value': {
      const allowed = issue.values.map((v) => JSON.stringify(v)).join(', ');
      if (issue.path.join('.') === 'apiVersion') return { ...base, message: `must be ${API_VERSION}`, hint: `set apiVersion: ${API_VERSION}` };
      return { ...base, message: `must be one of ${allowed}`, hint: `pick one of ${allowed}` };
    }
    case 'invalid_type': {
      const missing = /received undefined/.test(issue.message);
      return missing
        ? { ...base, message: 'is required', hint: `add ${path} (see \`k8s-img init\` for an example)` }
        : { ...base, message: `must be ${issue.expected === 'int' ? 'an integer' : `a ${issue.expected}`}`, hint: `write ${path} as a ${issue.expected}` };
    }
    case 'too_small':
      return { ...base, message: 'must not be empty', hint: `list at least ${String(issue.minimum)} item(s)` };
    default:
      return { ...base, message: issue.message, hint: 'compare with `k8s-img init`' };
  }
}

/** Keys the schema does not know, with a suggestion when one is close. */
function unknownKeys(value: unknown, schema: z.ZodType, path: string): Problem[] {
  const def = (schema as unknown as { def: { type: string; innerType?: z.ZodType; element?: z.ZodType; shape?: Record<string, z.ZodType> } }).def;
  if (def.type === 'optional' || def.type === 'default' || def.type === 'nullable') return unknownKeys(value, def.innerType!, path);
  if (def.type === 'array' && Array.isArray(value)) return value.flatMap((v, i) => unknownKeys(v, def.element!, `${path}[${i}]`));
  if (def.type !== 'object' || value === null || typeof value !== 'object' || Array.isArray(value)) return [];
  const known = Object.keys(def.shape!);
  return Object.entries(value).flatMap(([key, v]) => {
    const at = path ? `${path}.${key}` : key;
    if (!known.includes(key)) {
      const guess = closest(key, known);
      return [{
        path: at,
        message: 'unknown key',
        hint: guess ? `did you mean "${guess}"?` : `known keys here: ${known.join(', ')}`,
        severity: 'error' as const,
      }];
    }
    return unknownKeys(v, def.shape![key]!, at);
  });
}

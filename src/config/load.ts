// Text → validated, defaulted configuration. Pure: the caller reads the file.
import type { z } from 'zod';
import { ConfigError, type Problem } from '../errors.js';
import { resolveDefaults, type ResolvedConfig } from './defaults.js';
import { checkRules } from './rules.js';
import { salvage } from './salvage.js';
import { API_VERSION, clusterSchema, type ClusterConfig } from './schema.js';
import { closest } from './suggest.js';
import { parseYaml } from './yaml-text.js';

export interface LoadedConfig {
  config: ResolvedConfig;
  warnings: Problem[];
}

/** Parses and validates cluster.yaml text; throws ConfigError listing every problem. */
export function parseClusterConfig(text: string, source = 'cluster.yaml'): LoadedConfig {
  return validateClusterConfig(parseYaml(text, source), source);
}

export function validateClusterConfig(raw: unknown, source = 'cluster.yaml'): LoadedConfig {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError([{ path: '(root)', message: 'the file holds no mapping', hint: 'start from `k8s-img init`', severity: 'error' }], source);
  }
  const problems: Problem[] = [...unknownKeys(raw, clusterSchema, '')];
  const parsed = clusterSchema.safeParse(raw);
  if (parsed.success) {
    problems.push(...checkRules(resolveDefaults(parsed.data)));
  } else {
    // Type errors first, then the rules on what could be salvaged, except where a
    // type error already speaks about the same place.
    const typeProblems = parsed.error.issues.map(issueToProblem);
    const lenient = resolveDefaults(salvage(clusterSchema, raw) as ClusterConfig);
    const related = (a: string, b: string) => a === b || (a.startsWith(b) && '.['.includes(a[b.length]!)) || (b.startsWith(a) && '.['.includes(b[a.length]!));
    problems.push(...typeProblems, ...checkRules(lenient).filter((p) => !typeProblems.some((t) => related(p.path, t.path))));
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

/** The expected type in YAML's words: a list, a mapping, a number. */
function article(type: string): string {
  const words: Record<string, string> = { int: 'an integer', array: 'a list', object: 'a mapping' };
  return words[type] ?? (/^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`);
}

function issueToProblem(issue: z.core.$ZodIssue): Problem {
  const path = pathText(issue.path);
  const base = { path, severity: 'error' as const };
  switch (issue.code) {
    case 'invalid_value': {
      const allowed = issue.values.map((v) => JSON.stringify(v)).join(', ');
      if (issue.path.join('.') === 'apiVersion') return { ...base, message: `must be ${API_VERSION}`, hint: `set apiVersion: ${API_VERSION}` };
      if (issue.values.length === 1) return { ...base, message: `must be ${allowed}`, hint: `set ${path}: ${String(issue.values[0])}` };
      return { ...base, message: `must be one of ${allowed}`, hint: `pick one of ${allowed}` };
    }
    case 'invalid_type': {
      const missing = /received undefined/.test(issue.message);
      return missing
        ? { ...base, message: 'is required', hint: `add ${path} (see \`k8s-img init\` for an example)` }
        : { ...base, message: `must be ${article(issue.expected)}`, hint: `write ${path} as ${article(issue.expected)}` };
    }
    case 'too_small':
      return { ...base, message: 'must not be empty', hint: `list at least ${String(issue.minimum)} item(s)` };
    default:
      // Library wording (limits such as 9007199254740991, regex sources) stays out.
      return { ...base, message: 'has an invalid value', hint: 'compare with `k8s-img init`' };
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
      if (path.endsWith('ssh') && /pass/i.test(key)) {
        return [{ path: at, message: 'passwords are not read from the configuration', hint: 'use a key: identityFile, an SSH agent (SSH_AUTH_SOCK) or ~/.ssh/config', severity: 'error' as const }];
      }
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

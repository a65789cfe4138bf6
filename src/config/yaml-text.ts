// YAML text → plain data, with limits: one document, few aliases, no merge keys,
// plain keys only. Every parser complaint becomes a Problem in our own words; the
// library's wording (API names, option names) never reaches the user.
import YAML, { isAlias, isCollection, isNode, isScalar, type ScalarTag, type YAMLError } from 'yaml';
import { ConfigError, type Problem } from '../errors.js';
import { UNREADABLE, readPlainYaml } from './yaml-plain.js';

/** A real configuration has none; a few are tolerated, the "billion laughs" are not. */
export const MAX_ALIASES = 50;

const SYNTAX_HINT = 'fix the YAML syntax (indentation, colons, quotes)';

const OWN_WORDS: Record<string, { message: string; hint: string }> = {
  MULTIPLE_DOCS: { message: 'the file holds more than one YAML document', hint: 'keep one cluster per file: remove the "---" separator and what follows' },
  DUPLICATE_KEY: { message: 'a key appears twice in one mapping', hint: 'keep one of them' },
  TAB_AS_INDENT: { message: 'a tab is used for indentation', hint: 'indent with spaces' },
  TAG_RESOLVE_FAILED: { message: 'unknown YAML tag', hint: 'remove the "!tag" before the value' },
  BAD_ALIAS: { message: 'invalid alias', hint: 'remove the "*alias"' },
};

function where(e: YAMLError): string {
  return e.linePos ? `line ${e.linePos[0].line}` : '(yaml)';
}

function problem(e: YAMLError): Problem {
  const own = OWN_WORDS[e.code];
  if (own) return { path: where(e), ...own, severity: 'error' };
  const first = e.message.replace(/ at line \d+, column \d+:?/, '').split('\n')[0]!;
  // Parser messages that name the library's API are replaced by a plain one.
  const message = /YAML\.|mapAsMap|parseAllDocuments|Set \w+: true/.test(first) ? 'invalid YAML' : first;
  return { path: where(e), message, hint: SYNTAX_HINT, severity: 'error' };
}

function fail(source: string, problems: Problem[]): never {
  throw new ConfigError(problems, source);
}

const PARSE_OPTIONS = { uniqueKeys: true, prettyErrors: true, merge: false, strict: true } as const;

export function parseYaml(text: string, source: string): unknown {
  // Most files take the plain shapes yaml-plain.ts reads; for the rest, the library.
  const plain = readPlainYaml(text, plainScalarValue);
  if (plain !== undefined) return plain;
  let doc: YAML.Document.Parsed;
  try {
    doc = YAML.parseDocument(text, PARSE_OPTIONS);
  } catch {
    // e.g. nesting so deep that the parser runs out of stack
    return fail(source, [{ path: '(yaml)', message: 'the file cannot be parsed as YAML', hint: SYNTAX_HINT, severity: 'error' }]);
  }
  const found = [...doc.errors, ...doc.warnings].map(problem);
  if (found.length > 0) fail(source, found);

  let aliases = 0;
  YAML.visit(doc, {
    Alias() {
      aliases++;
    },
    Pair(_key, pair) {
      const key = pair.key;
      // Worked out only for a problem: counting lines for every key is quadratic in the file's size.
      const at = () => (isNode(key) ? lineOf(text, key.range?.[0]) : undefined) ?? '(yaml)';
      if (isCollection(key) || isAlias(key)) {
        found.push({ path: at(), message: 'a key is a list, a mapping or an alias', hint: 'write keys as plain words, e.g. "name:"', severity: 'error' });
      } else if (isScalar(key) && key.value === '<<') {
        found.push({ path: at(), message: 'merge keys ("<<") are not supported', hint: 'write the keys out in full', severity: 'error' });
      }
    },
  });
  if (aliases > MAX_ALIASES) found.push({ path: '(yaml)', message: `${aliases} aliases; at most ${MAX_ALIASES} are allowed`, hint: 'write the values out instead of "*alias" references', severity: 'error' });
  if (found.length > 0) fail(source, found);
  try {
    return doc.toJS({ maxAliasCount: MAX_ALIASES });
  } catch (e) {
    const unresolved = /unresolved alias/i.test((e as Error).message);
    return fail(source, [
      unresolved
        ? { path: '(yaml)', message: 'an alias ("*name") is used before its anchor ("&name")', hint: 'define the anchor first, or write the value out', severity: 'error' }
        : { path: '(yaml)', message: 'the aliases ("*name") expand to too much data', hint: 'write the values out instead of nesting aliases', severity: 'error' },
    ]);
  }
}

function lineOf(text: string, offset: number | undefined): string | undefined {
  if (offset === undefined) return undefined;
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return `line ${line}`;
}

/** The library's own resolution of a plain scalar (its core schema tags, in its order): yaml-plain.ts's resolver. */
let scalarTags: { tags: ScalarTag[]; options: YAML.Document['options'] } | null | undefined;
const plainValues = new Map<string, unknown>();

export function plainScalarValue(plain: string): unknown {
  if (plainValues.has(plain)) return plainValues.get(plain);
  if (scalarTags === undefined) {
    const doc = new YAML.Document(null, PARSE_OPTIONS);
    // A schema with compatibility tags warns about some values: the library's to read.
    scalarTags = doc.schema.compat ? null : { tags: (doc.schema.tags as ScalarTag[]).filter((t) => t.default === true && t.test), options: doc.options };
  }
  if (scalarTags === null) return UNREADABLE;
  let value: unknown = plain;
  for (const tag of scalarTags.tags) {
    if (!tag.test!.test(plain)) continue;
    let failed = false;
    value = tag.resolve(plain, () => (failed = true), scalarTags.options);
    if (isScalar(value)) value = value.value; // null and booleans come as Scalar nodes
    if (failed || (typeof value === 'object' && value !== null)) value = UNREADABLE;
    break;
  }
  plainValues.set(plain, value);
  return value;
}

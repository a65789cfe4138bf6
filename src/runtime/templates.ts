// Loads every *.hbs under templates/ and compose/ into a TemplateSet.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { TemplateSet } from '../render/templates.js';
import { PACKAGE_ROOT } from './paths.js';

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
}

export function loadTemplates(root = PACKAGE_ROOT): TemplateSet {
  const out: Record<string, string> = {};
  for (const top of ['templates', 'compose']) {
    for (const file of walk(join(root, top)).filter((f) => f.endsWith('.hbs')).sort()) {
      out[relative(join(root, top), file).slice(0, -'.hbs'.length)] = readFileSync(file, 'utf8');
    }
  }
  return out;
}

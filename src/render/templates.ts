// Handlebars, configured once: strict (a missing field is an error naming the
// template) and without HTML escaping (it would corrupt YAML and shell).
import Handlebars from 'handlebars';

export type TemplateSet = Readonly<Record<string, string>>;

export class TemplateRenderer {
  private readonly hb = Handlebars.create();
  private readonly cache = new Map<string, Handlebars.TemplateDelegate>();

  constructor(private readonly sources: TemplateSet) {
    this.hb.registerHelper('json', (v: unknown) => JSON.stringify(v));
    this.hb.registerHelper('join', (v: unknown[], sep: unknown) => v.join(typeof sep === 'string' ? sep : ','));
  }

  render(name: string, data: object): string {
    let fn = this.cache.get(name);
    if (!fn) {
      const source = this.sources[name];
      if (source === undefined) throw new Error(`template "${name}" not found (known: ${Object.keys(this.sources).sort().join(', ')})`);
      fn = this.hb.compile(source, { strict: true, noEscape: true });
      this.cache.set(name, fn);
    }
    try {
      return fn(data);
    } catch (e) {
      throw new Error(`template "${name}": ${(e as Error).message}`, { cause: e });
    }
  }
}

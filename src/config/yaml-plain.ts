// cluster.yaml in the plain shapes configuration files take, read without the YAML
// library: its parser needs ~0.2 s for a 1 000-node file (generate, plan and validate
// all start with it). Block mappings and sequences indented with spaces, one-line flow
// collections, plain and simply quoted scalars, comments. Anything else — anchors,
// aliases, tags, block or multi-line scalars, escapes, tabs, documents markers, keys
// that are not plain words, duplicate keys, anything odd — gives undefined, and the
// library reads the file: its reading and its errors stay the reference. A test
// compares both on every configuration file of the tests, on random configurations
// and on random edits of them. Pure.

/** A plain scalar's value, as the YAML library's core schema resolves it; UNREADABLE to give up. */
export type PlainResolver = (plain: string) => unknown;
export const UNREADABLE = Symbol('not read here');

/** Thrown for anything outside the subset; never escapes readPlainYaml. */
class NotPlain extends Error {}
const need: (ok: boolean) => asserts ok = (ok) => {
  if (!ok) throw new NotPlain();
};

interface Line {
  indent: number;
  text: string; // after the indentation, comments included
}

// A key: a plain word (no leading "_", so never __proto__).
const KEY = /^([A-Za-z][\w.-]*):(?: +|$)/;
// A plain scalar: printable ASCII, no flow indicator, quote or "#" first; "-" first only
// before a word character (not "- ", which starts a sequence entry).
const PLAIN_START = /^(?:[\w./~+=(]|-[\w.])/;
const PRINTABLE = /^[\x20-\x7e]*$/;

/** The document as plain data, or undefined when it is not in the subset. */
export function readPlainYaml(text: string, resolve: PlainResolver): Record<string, unknown> | undefined {
  try {
    return new Reader(text, resolve).document();
  } catch (e) {
    if (e instanceof NotPlain) return undefined;
    throw e;
  }
}

class Reader {
  private readonly lines: Line[] = [];
  private at = 0;

  constructor(
    text: string,
    private readonly resolve: PlainResolver,
  ) {
    // Tabs, carriage returns, other control characters, byte order marks and the
    // characters YAML 1.1 took for line breaks: the library's.
    need(!/[\x00-\x09\x0b-\x1f\x7f\x85\u2028\u2029\ufeff]/.test(text));
    for (const raw of text.split('\n')) {
      const body = raw.replace(/^ +/, ''); // indentation is spaces only
      if (body === '' || body.startsWith('#')) continue;
      const indent = raw.length - body.length;
      need(indent > 0 || !/^(?:---|\.\.\.|%)/.test(body));
      this.lines.push({ indent, text: body.replace(/ +$/, '') });
    }
  }

  document(): Record<string, unknown> {
    need(this.lines.length > 0 && this.lines[0]!.indent === 0 && !isEntry(this.lines[0]!.text));
    const doc = this.mapping(0);
    need(this.at === this.lines.length);
    return doc;
  }

  private get line(): Line | undefined {
    return this.lines[this.at];
  }

  /** A block node whose first line is the current one, at its indentation. */
  private block(): unknown {
    const l = this.line!;
    return isEntry(l.text) ? this.sequence(l.indent) : this.mapping(l.indent);
  }

  private mapping(indent: number): Record<string, unknown> {
    const map: Record<string, unknown> = {};
    for (let l = this.line; l && l.indent === indent && !isEntry(l.text); l = this.line) {
      const m = KEY.exec(l.text);
      need(m !== null && resolveKey(this.resolve, m[1]!) && !Object.hasOwn(map, m[1]!));
      const rest = l.text.slice(m[0].length);
      this.at++;
      if (rest === '' || rest.startsWith('#')) {
        const next = this.line;
        if (next && next.indent > indent) map[m[1]!] = this.block();
        else if (next && next.indent === indent && isEntry(next.text)) map[m[1]!] = this.sequence(indent);
        else map[m[1]!] = null;
      } else {
        map[m[1]!] = this.inline(rest);
      }
    }
    need(!this.line || this.line.indent < indent); // nothing more indented left over
    return map;
  }

  private sequence(indent: number): unknown[] {
    const seq: unknown[] = [];
    for (let l = this.line; l && l.indent === indent && isEntry(l.text); l = this.line) {
      const after = l.text.slice(1);
      const content = after.trimStart();
      if (content === '' || content.startsWith('#')) {
        this.at++;
        const next = this.line;
        seq.push(next && next.indent > indent ? this.block() : null);
      } else if (KEY.test(content) || isEntry(content)) {
        // "- key: value" or "- - x": a mapping or sequence whose entries line up with this first one
        const inner = indent + 1 + after.length - content.length;
        this.lines[this.at] = { indent: inner, text: content };
        seq.push(this.block());
      } else {
        this.at++;
        seq.push(this.inline(content));
      }
    }
    // What follows is the parent's: less indented, or its next key when this sequence is
    // a key's value at the key's own indentation ("key:" then "- a").
    need(!this.line || this.line.indent <= indent);
    return seq;
  }

  /** A value that ends its line: a flow collection, a quoted or a plain scalar, then perhaps a comment. */
  private inline(s: string): unknown {
    const flow = new Flow(s, this.resolve);
    const value = s[0] === '[' || s[0] === '{' || s[0] === '"' || s[0] === "'" ? flow.value() : this.plain(s, flow);
    flow.end();
    // A more indented line would continue a scalar or be an error: not ours.
    need(!this.line || this.line.indent <= (this.lines[this.at - 1]?.indent ?? 0));
    return value;
  }

  /** A block plain scalar: up to a comment or the end of the line. */
  private plain(s: string, flow: Flow): unknown {
    const hash = s.indexOf(' #');
    const text = (hash < 0 ? s : s.slice(0, hash)).trimEnd();
    need(PLAIN_START.test(text) && PRINTABLE.test(text) && !text.includes(': ') && !text.endsWith(':'));
    flow.skip(text.length);
    return resolved(this.resolve, text);
  }
}

/** A key must be read as the string it is (not true, null or a number). */
const resolveKey = (resolve: PlainResolver, key: string) => resolve(key) === key;

function resolved(resolve: PlainResolver, text: string): unknown {
  const v = resolve(text);
  need(v !== UNREADABLE);
  return v;
}

const isEntry = (text: string) => text === '-' || text.startsWith('- ');

/** One line's flow collections and quoted scalars. */
class Flow {
  private i = 0;

  constructor(
    private readonly s: string,
    private readonly resolve: PlainResolver,
  ) {}

  skip(n: number): void {
    this.i += n;
  }

  /** Only spaces and a comment may follow the value. */
  end(): void {
    const rest = this.s.slice(this.i);
    need(rest === '' || /^ +(?:#.*)?$/.test(rest));
  }

  value(): unknown {
    const c = this.s[this.i];
    if (c === '[') return this.sequence();
    if (c === '{') return this.mapping();
    if (c === '"' || c === "'") return this.quoted(c);
    return this.plain();
  }

  private spaces(): void {
    while (this.s[this.i] === ' ') this.i++;
  }

  /** Comma-separated items up to `close` ("]" or "}"), each read by `item`. */
  private items(close: string, item: () => void): void {
    this.i++;
    this.spaces();
    if (this.s[this.i] === close) {
      this.i++;
      return;
    }
    for (;;) {
      item();
      this.spaces();
      const c = this.s[this.i++];
      if (c === close) return;
      need(c === ',');
      this.spaces();
    }
  }

  private sequence(): unknown[] {
    const seq: unknown[] = [];
    this.items(']', () => seq.push(this.value()));
    return seq;
  }

  private mapping(): Record<string, unknown> {
    const map: Record<string, unknown> = {};
    this.items('}', () => {
      const m = KEY.exec(this.s.slice(this.i));
      need(m !== null && m[0].endsWith(' ') && resolveKey(this.resolve, m[1]!) && !Object.hasOwn(map, m[1]!));
      this.i += m[0].length;
      map[m[1]!] = this.value();
    });
    return map;
  }

  /** "text" without escapes, or 'text' with '' for a quote. */
  private quoted(q: string): string {
    let j = this.i + 1;
    let out = '';
    for (;;) {
      const k = this.s.indexOf(q, j);
      need(k >= 0);
      out += this.s.slice(j, k);
      if (q === "'" && this.s[k + 1] === "'") {
        out += "'";
        j = k + 2;
        continue;
      }
      need(q === "'" || !out.includes('\\'));
      this.i = k + 1;
      return out;
    }
  }

  /** A plain scalar inside a flow collection: up to , ] } or a comment. */
  private plain(): unknown {
    const rest = this.s.slice(this.i);
    const m = /^[^,[\]{}]*/.exec(rest)!;
    const hash = m[0].indexOf(' #');
    const text = (hash < 0 ? m[0] : m[0].slice(0, hash)).trimEnd();
    need(text.length > 0 && PLAIN_START.test(text) && PRINTABLE.test(text) && !/: |:$/.test(text) && !text.includes('"') && !text.includes("'"));
    this.i += text.length;
    return resolved(this.resolve, text);
  }
}

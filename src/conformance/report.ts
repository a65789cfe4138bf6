// Reading ginkgo's JUnit report: totals and a line per SIG, the way conformance
// results are usually read. Pure.

export interface SpecResult {
  name: string;
  sig: string;
  status: 'passed' | 'failed' | 'skipped';
  seconds: number;
  /** First lines of the failure message. */
  failure?: string;
}

export interface Summary {
  passed: number;
  failed: number;
  skipped: number;
  /** Specs ginkgo ran (passed + failed): what "N/M" results are made of. */
  ran: number;
  bySig: Record<string, { passed: number; failed: number; skipped: number }>;
  failures: SpecResult[];
}

/** XML character references as Go's encoder writes them (&#34; &#xA;) and the named five. */
const unescape = (s: string) =>
  s
    .replace(/&#x([0-9a-f]+);/gi, (_m, h: string) => String.fromCodePoint(parseInt(h, 16)))
    .replace(/&#(\d+);/g, (_m, d: string) => String.fromCodePoint(Number(d)))
    .replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');

/** The <testcase> elements of a JUnit XML file (ginkgo's layout: one suite, one case per spec). */
export function parseJunit(xml: string): SpecResult[] {
  const out: SpecResult[] = [];
  for (const m of xml.matchAll(/<testcase\b([^>]*?)(?:\/>|>([\s\S]*?)<\/testcase>)/g)) {
    const attrs = Object.fromEntries([...m[1]!.matchAll(/(\w+)="([^"]*)"/g)].map((a) => [a[1]!, unescape(a[2]!)]));
    const body = m[2] ?? '';
    // ginkgo reports its own setup and teardown nodes as testcases too: they are not specs.
    if (/^\[(SynchronizedBeforeSuite|SynchronizedAfterSuite|BeforeSuite|AfterSuite|ReportAfterSuite|ReportBeforeSuite)\]/.test(attrs.name ?? '')) continue;
    const name = specName(attrs.name ?? '');
    const failure = /<(failure|error)\b([^>]*?)(?:\/>|>([\s\S]*?)<\/\1>)/.exec(body);
    const status = failure ? 'failed' : /<skipped\b/.test(body) || attrs.status === 'skipped' ? 'skipped' : 'passed';
    const sig = /\[(sig-[\w-]+)\]/.exec(name)?.[1] ?? 'other';
    const message = failure ? (/\bmessage="([^"]*)"/.exec(failure[2]!)?.[1] ?? failure[3] ?? '') : '';
    const text = failure ? unescape(message).trim().split('\n').slice(0, 3).join(' ') : undefined;
    out.push({ name, sig, status, seconds: Number(attrs.time ?? 0), ...(text ? { failure: text } : {}) });
  }
  return out;
}

/**
 * The spec's name as e2e.test lists it: ginkgo's junit adds the node type before it
 * ("[It] ") and the spec's labels after it (" [sig-node, Conformance]").
 */
export function specName(junitName: string): string {
  return junitName.replace(/^\[It\] /, '').replace(/ \[[^\]]*,[^\]]*\]$|( \[sig-[\w-]+\])$/, '');
}

export function summarize(specs: SpecResult[]): Summary {
  const bySig: Summary['bySig'] = {};
  for (const s of specs) {
    const row = (bySig[s.sig] ??= { passed: 0, failed: 0, skipped: 0 });
    row[s.status]++;
  }
  const count = (st: SpecResult['status']) => specs.filter((s) => s.status === st).length;
  return {
    passed: count('passed'),
    failed: count('failed'),
    skipped: count('skipped'),
    ran: count('passed') + count('failed'),
    bySig: Object.fromEntries(Object.entries(bySig).sort(([a], [b]) => (a < b ? -1 : 1))),
    failures: specs.filter((s) => s.status === 'failed'),
  };
}

export function formatSummary(s: Summary, unbuilt: { ref: string; reason: string }[]): string {
  const rows = Object.entries(s.bySig).filter(([, r]) => r.passed + r.failed > 0).map(([sig, r]) => `  ${sig.padEnd(28)} ${String(r.passed).padStart(4)} passed ${String(r.failed).padStart(4)} failed ${String(r.skipped).padStart(5)} skipped`);
  const lines = [
    `${s.passed}/${s.ran} passed, ${s.failed} failed, ${s.skipped} skipped (not selected)`,
    ...rows,
  ];
  if (s.failures.length > 0) lines.push('', 'failed:', ...s.failures.map((f) => `  ✗ ${f.name}${f.failure ? `\n      ${f.failure.slice(0, 300)}` : ''}`));
  if (unbuilt.length > 0) lines.push('', 'images that could not be built (specs that need them fail):', ...unbuilt.map((u) => `  ${u.ref}: ${u.reason}`));
  return `${lines.join('\n')}\n`;
}

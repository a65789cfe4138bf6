// Fuzzing the CLI surface (validate, plan, generate, init --from-properties) with
// mutated YAML and properties files. Whatever the input: the exit code is one of
// 0, 2, 3, 64; no internal error, stack trace or library wording; each run is
// quick; after a failure the output folder is byte-identical and no temporary
// folder remains. FC_SEED=<n> replays a failing run.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import YAML from 'yaml';
import { trackedTemps } from '../../src/runtime/temp-cleanup.js';
import { NEVER, snapshot } from '../helpers/bad-input.js';
import { runInProcess, type CliResult } from '../helpers/cli.js';
import { FIXTURES } from '../helpers/fixtures.js';
import { scratchDir } from '../helpers/scratch.js';

const ALLOWED_EXITS = [0, 2, 3, 64];
// "Bounded time": a hang (a FIFO read, an alias bomb, a spin on /proc) shows as minutes;
// a normal run takes milliseconds. The bound leaves room for a heavily loaded machine.
const MAX_MS = 20_000;
const seed = process.env.FC_SEED ? Number(process.env.FC_SEED) : undefined;
const params = (numRuns: number) => ({ numRuns, ...(seed !== undefined ? { seed } : {}) });

const BASES = ['tutorial-secure', 'tutorial-simple', 'single-node'].map((n) => readFileSync(join(FIXTURES, 'valid', `${n}.yaml`), 'utf8'));

/** Values a hostile or careless user might type. */
const nasty = fc.oneof(
  fc.constantFrom('0.0.0.0', '127.0.0.1', '255.255.255.255', '224.0.0.1', '192.168.232.0', '10.68.255.255', '1e400', '.nan', '.inf', '~', '[]', '{}', '""', 'yes',
    '"a\\nRUN x"', '&a x', '*a', '!!binary aGk=', '!evil x', '<<: {}', '? [a]', '9007199254740993', '-1', '/opt/$(id)', 'http://x y', 'debian\nRUN id', '\t'),
  fc.string({ maxLength: 12 }),
  fc.integer().map(String),
  fc.double().map(String),
);

/** Lines that break YAML structure in many ways. */
const nastyLine = fc.constantFrom('---', '...', '<<: *x', 'x: &x [a, b]', 'y: [*x, *x, *x]', '? [a, b]\n: c', '\tname: x', 'name: demo', '%YAML 1.1', '!!map', '- item', '{', '"', 'nodes: []', 'kind: [Cluster]', ': x', '#');

const mutation = fc.oneof(
  fc.record({ kind: fc.constant('value' as const), line: fc.nat(), value: nasty }),
  fc.record({ kind: fc.constant('delete' as const), line: fc.nat() }),
  fc.record({ kind: fc.constant('duplicate' as const), line: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), line: fc.nat(), text: fc.oneof(nastyLine, fc.string({ maxLength: 20 })) }),
  fc.record({ kind: fc.constant('indent' as const), line: fc.nat(), by: fc.integer({ min: -4, max: 4 }) }),
  fc.record({ kind: fc.constant('bytes' as const), at: fc.nat(), text: fc.string({ unit: 'binary', maxLength: 6 }) }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never;

function mutate(text: string, m: Mutation): string {
  const lines = text.split('\n');
  const i = 'line' in m ? m.line % lines.length : 0;
  switch (m.kind) {
    case 'value':
      lines[i] = lines[i]!.replace(/:\s*[^{[\s][^,}\]]*$|(?<=: )[^,}\]]+(?=[,}])/, `: ${m.value}`);
      break;
    case 'delete':
      lines.splice(i, 1);
      break;
    case 'duplicate':
      lines.splice(i, 0, lines[i]!);
      break;
    case 'insert':
      lines.splice(i, 0, m.text);
      break;
    case 'indent':
      lines[i] = m.by >= 0 ? ' '.repeat(m.by) + lines[i] : lines[i]!.slice(-m.by);
      break;
    case 'bytes': {
      const at = m.at % (text.length + 1);
      return text.slice(0, at) + m.text + text.slice(at);
    }
  }
  return lines.join('\n');
}

const yamlInput = fc.record({ base: fc.nat({ max: BASES.length - 1 }), mutations: fc.array(mutation, { minLength: 1, maxLength: 4 }) }).map(({ base, mutations }) => mutations.reduce(mutate, BASES[base]!));

function checkResult(r: CliResult, ms: number): void {
  const output = `exit ${r.code}\n${r.stdout}\n${r.stderr}`;
  assert.ok(ALLOWED_EXITS.includes(r.code), output);
  for (const bad of NEVER) assert.doesNotMatch(r.stdout + r.stderr, bad, output);
  assert.ok(ms < MAX_MS, `took ${ms} ms`);
  assert.deepEqual(trackedTemps(), []);
}

function noTemporaryLeft(dir: string): void {
  const left = Object.keys(snapshot(dir)).filter((p) => /\.tmp-/.test(p));
  assert.deepEqual(left, [], 'a temporary file or folder remains');
}

async function timed(args: string[], cwd: string): Promise<[CliResult, number]> {
  const started = Date.now();
  const r = await runInProcess(args, { cwd });
  return [r, Date.now() - started];
}

describe('fuzzing the CLI', () => {
  it('validate and plan: mutated cluster.yaml', async () => {
    await fc.assert(
      fc.asyncProperty(yamlInput, fc.constantFrom(['validate'], ['plan'], ['plan', '--json']), async (text, args) => {
        const dir = scratchDir('k8s-img-fuzz-');
        writeFileSync(join(dir, 'cluster.yaml'), text);
        const before = snapshot(dir);
        const [r, ms] = await timed([...args], dir);
        checkResult(r, ms);
        assert.deepEqual(snapshot(dir), before, 'validate and plan write nothing');
      }),
      params(300),
    );
  });

  it('generate: mutated cluster.yaml into a new, marked or foreign output folder', async () => {
    await fc.assert(
      fc.asyncProperty(yamlInput, fc.constantFrom('absent', 'empty', 'foreign', 'file'), async (text, out) => {
        const dir = scratchDir('k8s-img-fuzz-');
        writeFileSync(join(dir, 'cluster.yaml'), text);
        if (out === 'empty') mkdirSync(join(dir, 'out'));
        if (out === 'foreign') {
          mkdirSync(join(dir, 'out'));
          writeFileSync(join(dir, 'out', 'mine.txt'), 'keep me');
        }
        if (out === 'file') writeFileSync(join(dir, 'out'), 'keep me');
        const outBefore = existsSync(join(dir, 'out')) ? snapshot(join(dir, '.')) : {};
        const [r, ms] = await timed(['generate', '-o', 'out'], dir);
        checkResult(r, ms);
        noTemporaryLeft(dir);
        if (r.code !== 0) {
          const pick = (s: Record<string, string>) => Object.fromEntries(Object.entries(s).filter(([p]) => p === 'out' || p.startsWith('out/')));
          assert.deepEqual(pick(snapshot(dir)), pick(outBefore), 'the output folder changed');
        }
        if (out === 'foreign' || out === 'file') assert.notEqual(r.code, 0, 'a foreign output was accepted');
      }),
      params(60),
    );
  });

  it('init --from-properties: mutated config.properties files', async () => {
    const value = fc.oneof(nasty, fc.constantFrom('/opt/bin', '192.168.232.206', '192.168.232.207', 'http://192.168.232.207:2379', 'https://192.168.232.207:2379'));
    const props = fc.array(
      fc.record({
        BIN_PATH: fc.oneof(fc.constant('/opt/bin'), value, fc.constant('/opt/bin, goproxy: http://evil.example')),
        NODE_IP: fc.oneof(fc.constantFrom('192.168.232.206', '192.168.232.207', '192.168.232.208'), value),
        ETCD_ENDPOINTS: fc.oneof(fc.constant('http://192.168.232.207:2379'), value),
        MASTER_IP: fc.oneof(fc.constant('192.168.232.206'), value),
        extra: fc.array(fc.tuple(fc.constantFrom('__proto__', 'constructor', 'goproxy', 'X'), value), { maxLength: 2 }),
      }),
      { minLength: 1, maxLength: 3 },
    );
    await fc.assert(
      fc.asyncProperty(props, async (files) => {
        const dir = scratchDir('k8s-img-fuzz-');
        const names = files.map((f, i) => {
          const lines = [...Object.entries(f).filter(([k]) => k !== 'extra'), ...f.extra].map(([k, v]) => `${k}=${String(v)}`);
          writeFileSync(join(dir, `n${i}.properties`), `${lines.join('\n')}\n`);
          return `n${i}.properties`;
        });
        const before = snapshot(dir);
        const [r, ms] = await timed(['init', '--from-properties', ...names], dir);
        checkResult(r, ms);
        noTemporaryLeft(dir);
        if (r.code !== 0) {
          assert.deepEqual(snapshot(dir), before, 'a failed import wrote something');
          return;
        }
        // What was written holds only the keys an import makes, and is valid.
        const written = YAML.parse(readFileSync(join(dir, 'cluster.yaml'), 'utf8')) as Record<string, Record<string, unknown>>;
        assert.deepEqual(Object.keys(written.binaries!).sort(), ['dir', 'source']);
        assert.deepEqual(Object.keys(written).sort(), ['apiVersion', 'binaries', 'images', 'kind', 'name', 'networking', 'nodes', 'security', 'ssh']);
        const [v] = await timed(['validate'], dir);
        assert.equal(v.code, 0, v.stderr);
      }),
      params(150),
    );
  });
});

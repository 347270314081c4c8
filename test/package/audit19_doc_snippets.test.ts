/**
 * Audit 19: the documentation's code runs as a new user copies it. Every ```ts block of the
 * README, the guides, the toolbox reference and docs/figures.md is type-checked as its own module
 * with the repository's strict compiler options, in one TypeScript program (`deepprob` ->
 * `src/index.ts`, `deepprob/node` -> `src/node.ts`; marks `<!-- snippet: continues | fragment |
 * runs -->`, see `doc_snippets.ts`); the blocks marked `runs` are run one after another in one
 * `tsx` child process and must finish without throwing. Every `deepprob <command> --flag` of
 * these pages (the README and docs/guides/cli.md above all) names a command and an option the CLI
 * parser has.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { afterAll, describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/main.js';
import {
  parseSnippets,
  root,
  snippetsOf,
  typeCheck,
  writeRunner,
  type Snippet,
} from './doc_snippets.js';

const docs = [
  'README.md',
  ...readdirSync(join(root, 'docs/guides'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/guides/${f}`),
  'docs/uncertainty.md',
  'docs/figures.md',
];
const parsed = docs.map((f) => ({ f, ...snippetsOf(f) }));
const snippets: Snippet[] = parsed.flatMap((p) => p.snippets);

describe('the ```ts blocks of the README and the guides', () => {
  it('are found, with few fragments', () => {
    const per = Object.fromEntries(parsed.map((p) => [p.f, p.snippets.length]));
    expect(per['README.md']).toBe(2);
    expect(per['docs/guides/ppl.md']).toBeGreaterThanOrEqual(36);
    expect(per['docs/guides/bayesian-layers.md']).toBe(1); // three blocks, one program
    expect(per['docs/guides/distributions.md']).toBe(2);
    expect(per['docs/guides/conversion.md']).toBe(1);
    expect(per['docs/uncertainty.md']).toBe(3);
    expect(per['docs/figures.md']).toBe(3);
    expect(parsed.flatMap((p) => p.fragments.map((l) => `${p.f}:${l}`))).toEqual([]);
  });

  it('type-check as modules under the strict settings of tsconfig.json', () => {
    // a canary checked in the same program shows the check can fail, naming file and line
    const canary: Snippet = {
      id: 'canary.md:1',
      file: 'canary.md',
      lines: [1],
      code: "import { ppl } from 'deepprob';\nppl.noSuchFunction();",
      runs: false,
    };
    const out = typeCheck([...snippets, canary]);
    expect(out.length).toBe(1);
    expect(out[0]).toMatch(
      /^canary\.md:1 \(line 2 of the code\): Property 'noSuchFunction' does not exist/,
    );
  }, 120_000);

  it('the snippet marks: a fragment is left out, a continuation joins the block before', () => {
    const md = [
      '```ts',
      'const a = 1;',
      '```',
      '<!-- snippet: continues runs -->',
      '',
      '```ts',
      'const b = a;',
      '```',
      '<!-- snippet: fragment -->',
      '```ts',
      '...',
      '```',
      '  ```ts',
      '  const c = 2;',
      '  ```',
    ].join('\n');
    const { snippets: s, fragments } = parseSnippets('m.md', md);
    expect(fragments).toEqual([10]);
    expect(s.map((x) => [x.id, x.lines, x.code, x.runs])).toEqual([
      ['m.md:1', [1, 6], 'const a = 1;\nconst b = a;', true],
      ['m.md:13', [13], '  const c = 2;', false],
    ]);
    expect(() => parseSnippets('m.md', '<!-- snippet: contnues -->\n```ts\n```')).toThrow(
      /m\.md:2: unknown snippet mark 'contnues'/,
    );
  });
});

describe('the blocks marked `runs`', () => {
  const dir = join(root, 'scratch', `audit19-doc-snippets-${process.pid}`);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('run in one tsx process without throwing', () => {
    const run = snippets.filter((s) => s.runs);
    expect(run.length).toBeGreaterThanOrEqual(10);
    const runner = writeRunner(run, dir);
    const out = execFileSync(join(root, 'node_modules/.bin/tsx'), [runner], {
      cwd: dir,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 240_000,
    });
    const lines = out.split('\n').filter((l) => /^(ok|fail) /.test(l));
    expect(lines.filter((l) => l.startsWith('fail'))).toEqual([]);
    expect(lines.length).toBe(run.length);
  }, 300_000);
});

/** Each `deepprob ...` / `node bin/deepprob.js ...` command line of a markdown file. */
function commandLines(file: string): string[] {
  const text = readFileSync(join(root, file), 'utf8');
  const out: string[] = [];
  // fenced sh blocks (a trailing backslash continues the line) and inline code spans
  for (const m of text.matchAll(/```sh\n([\s\S]*?)```/g)) {
    for (const line of (m[1] as string).replace(/\\\n\s*/g, ' ').split('\n')) out.push(line);
  }
  for (const m of text.matchAll(/`([^`\n]+)`/g)) out.push(m[1] as string);
  return out
    .map((l) => l.replace(/#.*$/, '').trim())
    .map((l) => /(?:^|\s)(?:node bin\/deepprob\.js|npx deepprob|deepprob)\s+(.*)$/.exec(l)?.[1])
    .filter((l): l is string => l !== undefined && /^[a-z]/.test(l))
    .flatMap((l) => {
      // `deepprob train|eval|convert`: one line per command
      const [first, ...rest] = l.split(/\s+/);
      return (first as string).split('|').map((c) => [c, ...rest].join(' '));
    });
}

/** The command a line names (`queue status`) and the long options it gives. */
function resolveLine(program: Command, line: string): { path: string; bad: string[] } {
  // optional parts written `[--layers dense|conv]` count as given
  const words = line.split(/\s+/).map((w) => w.replace(/^\[+|\]+$/g, ''));
  let cmd = program;
  const path: string[] = [];
  for (const w of words) {
    const sub = cmd.commands.find((c) => c.name() === w);
    if (sub === undefined) break;
    cmd = sub;
    path.push(w);
  }
  if (path.length === 0) return { path: words[0] as string, bad: [`no command '${words[0]}'`] };
  const known = new Set<string>();
  for (let c: Command | null = cmd; c !== null; c = c.parent) {
    for (const o of c.options) if (o.long !== undefined) known.add(o.long);
  }
  known.add('--help');
  const bad = words
    .filter((w) => w.startsWith('--'))
    .map((w) => w.split('=')[0] as string)
    .filter((f) => !known.has(f) && !(f.startsWith('--no-') && known.has(`--${f.slice(5)}`)))
    .map((f) => `${path.join(' ')} ${f}`);
  return { path: path.join(' '), bad };
}

describe('deepprob command lines in the README, the CLI guide and the other docs', () => {
  it('name commands and options the CLI parser has', () => {
    const program = buildProgram();
    const bad: string[] = [];
    let n = 0;
    for (const f of docs) {
      for (const line of commandLines(f)) {
        n++;
        for (const b of resolveLine(program, line).bad) bad.push(`${f}: ${b} (in: ${line})`);
      }
    }
    expect(n).toBeGreaterThan(80);
    expect(bad).toEqual([]);
  });

  it('a flag the parser lacks is reported', () => {
    const program = buildProgram();
    expect(resolveLine(program, 'train --epochs 3 --no-such-flag 1').bad).toEqual([
      'train --no-such-flag',
    ]);
    expect(resolveLine(program, 'queue status --redis redis://x').bad).toEqual([]);
    expect(resolveLine(program, 'frobnicate --x').bad).toEqual(["no command 'frobnicate'"]);
    expect(resolveLine(program, 'convert --out d [--layerz dense|conv]').bad).toEqual([
      'convert --layerz',
    ]);
  });
});

/**
 * The TypeScript code blocks of the README and the guides, as a user copies them: extracted from
 * the markdown, each block one module (`export {}` appended), type-checked in one program with
 * the repository's compiler options (`deepprob` -> `src/index.ts`, `deepprob/node` ->
 * `src/node.ts` through `paths`). An HTML comment on the line before a block marks it:
 * `<!-- snippet: continues -->` appends it to the previous block of the file (one module),
 * `<!-- snippet: fragment -->` leaves it out (not standalone code), `<!-- snippet: runs -->` has
 * the audit run it (words combine: `<!-- snippet: continues runs -->`).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import ts from 'typescript';

export const root = resolve(import.meta.dirname, '../..');

/** One module made of one block (or a block and the blocks that continue it). */
export interface Snippet {
  /** `docs/guides/ppl.md:27`: the markdown file and the line of the first block's fence. */
  id: string;
  /** The markdown file, relative to the repository root. */
  file: string;
  /** Line of each block's opening fence (1-based). */
  lines: number[];
  /** The code, blocks joined by newlines. */
  code: string;
  /** Whether a block of it is marked `runs`. */
  runs: boolean;
}

/** The blocks of one markdown file, merged per the `snippet:` marks; fragments left out. */
export function snippetsOf(file: string): { snippets: Snippet[]; fragments: number[] } {
  return parseSnippets(file, readFileSync(join(root, file), 'utf8'));
}

/** The blocks of markdown `text` (named `file` in the ids), merged per the `snippet:` marks. */
export function parseSnippets(
  file: string,
  text: string,
): { snippets: Snippet[]; fragments: number[] } {
  const lines = text.split('\n');
  const snippets: Snippet[] = [];
  const fragments: number[] = [];
  let prev = '';
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    if (line.trim() === '```ts') {
      const start = i + 1;
      const body: string[] = [];
      for (i++; i < lines.length && (lines[i] as string).trim() !== '```'; i++) {
        body.push(lines[i] as string);
      }
      const mark = /^<!--\s*snippet:\s*([\w\s]+?)\s*-->$/.exec(prev.trim());
      const words = new Set(mark === null ? [] : (mark[1] as string).split(/\s+/));
      for (const w of words) {
        if (!['continues', 'fragment', 'runs'].includes(w)) {
          throw new Error(`${file}:${start}: unknown snippet mark '${w}'`);
        }
      }
      const code = body.join('\n');
      const last = snippets.at(-1);
      if (words.has('fragment')) fragments.push(start);
      else if (words.has('continues')) {
        if (last === undefined) throw new Error(`${file}:${start}: nothing to continue`);
        last.code += `\n${code}`;
        last.lines.push(start);
        last.runs ||= words.has('runs');
      } else {
        snippets.push({
          id: `${file}:${start}`,
          file,
          lines: [start],
          code,
          runs: words.has('runs'),
        });
      }
      prev = '```';
      continue;
    }
    if (line.trim() !== '') prev = line;
  }
  return { snippets, fragments };
}

/** The virtual path a snippet is checked under (inside the repository, so packages resolve). */
export function snippetPath(s: Snippet, dir: string): string {
  return join(dir, `${s.id.replace(/[^\w]+/g, '_')}.ts`);
}

/** The repository's compiler options (tsconfig.json), with its `paths`. */
export function compilerOptions(): ts.CompilerOptions {
  const cfg = ts.readConfigFile(join(root, 'tsconfig.json'), (p) => ts.sys.readFile(p));
  if (cfg.error !== undefined)
    throw new Error(ts.flattenDiagnosticMessageText(cfg.error.messageText, '\n'));
  return ts.parseJsonConfigFileContent(cfg.config, ts.sys, root).options;
}

/**
 * Type-check every snippet in one program; the messages of each snippet that has any, as
 * `id (line L of the block): message`.
 */
export function typeCheck(snippets: Snippet[]): string[] {
  const dir = join(root, 'test/package/__doc_snippets__');
  const files = new Map(snippets.map((s) => [snippetPath(s, dir), `${s.code}\nexport {};\n`]));
  const options = compilerOptions();
  const host = ts.createCompilerHost(options);
  const { getSourceFile, fileExists, readFile } = host;
  host.getSourceFile = (name, lang, onError, create) => {
    const text = files.get(name);
    return text === undefined
      ? getSourceFile.call(host, name, lang, onError, create)
      : ts.createSourceFile(name, text, lang);
  };
  host.fileExists = (name) => files.has(name) || fileExists.call(host, name);
  host.readFile = (name) => files.get(name) ?? readFile.call(host, name);
  const dirExists = host.directoryExists?.bind(host);
  host.directoryExists = (d) => d === dir || (dirExists?.(d) ?? ts.sys.directoryExists(d));
  const program = ts.createProgram([...files.keys()], options, host);
  const out: string[] = [];
  for (const s of snippets) {
    const sf = program.getSourceFile(snippetPath(s, dir));
    if (sf === undefined) throw new Error(`${s.id}: not in the program`);
    const diags = [...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf)];
    for (const d of diags) {
      const line = d.start === undefined ? 0 : sf.getLineAndCharacterOfPosition(d.start).line;
      out.push(
        `${s.id} (line ${line + 1} of the code): ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`,
      );
    }
  }
  return out;
}

/** The code with the package specifiers pointing at the sources (for running with tsx). */
export function forRunning(code: string): string {
  return code
    .replace(/from '(deepprob\/node)'/g, `from '${join(root, 'src/node.ts')}'`)
    .replace(/from '(deepprob)'/g, `from '${join(root, 'src/index.ts')}'`)
    .replace(/import '(deepprob\/node)'/g, `import '${join(root, 'src/node.ts')}'`)
    .replace(/import '(deepprob)'/g, `import '${join(root, 'src/index.ts')}'`);
}

/**
 * Write the snippets (specifiers pointing at the sources) and a runner importing them one after
 * another into `dir`; the runner prints `ok <id> <ms>` or `fail <id>: <message>` per snippet,
 * seeds deepprob's stream before each (`setSeed(0)`: the same draws on every run) and clears the
 * param store after each (a user's script runs alone).
 */
export function writeRunner(snippets: Snippet[], dir: string): string {
  mkdirSync(dir, { recursive: true });
  const lines = [
    `import { ppl, setSeed } from '${join(root, 'src/index.ts')}';`,
    'const files: [string, string][] = [',
  ];
  snippets.forEach((s, i) => {
    const f = join(dir, `snippet_${i}.ts`);
    writeFileSync(f, `${forRunning(s.code)}\nexport {};\n`);
    lines.push(`  [${JSON.stringify(s.id)}, ${JSON.stringify(f)}],`);
  });
  lines.push(
    '];',
    'for (const [id, f] of files) {',
    '  setSeed(0);',
    '  const t0 = Date.now();',
    '  try {',
    '    await import(f);',
    '    console.log(`ok ${id} ${Date.now() - t0}`);',
    '  } catch (e) {',
    "    console.log(`fail ${id}: ${String((e as Error)?.message ?? e).split('\\n')[0]}`);",
    '  }',
    '  ppl.clearParamStore();',
    '}',
  );
  const runner = join(dir, 'runner.ts');
  writeFileSync(runner, `${lines.join('\n')}\n`);
  return runner;
}

/**
 * The layering of ARCHITECTURE.md, checked on the import statements of every file in `src/`:
 * a file imports only from its own folder or from folders of a lower layer; the browser entry
 * (`src/index.ts`) reaches no Node-only module. The table below is the one of ARCHITECTURE.md
 * ("Layers of the library"); the test also checks that the two agree.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..', '..');
const src = join(root, 'src');

/** Layer of each top-level folder (or root file) of `src/`: imports go to a lower number only. */
export const LAYERS: Readonly<Record<string, number>> = {
  utils: 0,
  'version.ts': 0,
  backend: 1,
  constraints: 2,
  bijectors: 3,
  distributions: 4,
  layers: 5,
  dpn: 6,
  infer: 7,
  ppl: 7,
  transforms: 8,
  toolbox: 9,
  data: 10,
  models: 10,
  train: 11,
  app: 12,
  queue: 13,
  cli: 14,
  'index.ts': 15,
  'node.ts': 16,
};

function filesOf(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return filesOf(p);
    return name.endsWith('.ts') ? [p] : [];
  });
}

/** Relative import specifiers of a source text (static, re-exports, side effects, dynamic). */
export function importsOf(text: string): string[] {
  const out: string[] = [];
  const code = stripComments(text);
  const re = /(?:\bfrom\s*|\bimport\s*\(?\s*)['"](\.[^'"]+)['"]/g;
  for (const m of code.matchAll(re)) out.push(m[1] as string);
  return out;
}

/** `text` without its block and line comments (documentation may show imports). */
function stripComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
}

/** The source file an import resolves to (`./x.js` -> `./x.ts`). */
function resolveImport(from: string, spec: string): string {
  return resolve(dirname(from), spec.replace(/\.js$/, '.ts'));
}

/** Top-level folder (or root file) of a file under `src/`. */
function unitOf(file: string): string {
  return relative(src, file).split(/[\\/]/)[0] as string;
}

/** Layering violations `file -> import` of one file with source `text`. */
export function violationsOf(file: string, text: string): string[] {
  const unit = unitOf(file);
  const own = LAYERS[unit];
  if (own === undefined)
    return [`${relative(src, file)}: folder '${unit}' is not in the layer table`];
  const bad: string[] = [];
  for (const spec of importsOf(text)) {
    const target = resolveImport(file, spec);
    const tu = unitOf(target);
    if (tu === unit) continue;
    const layer = LAYERS[tu];
    if (layer === undefined || layer >= own) {
      bad.push(
        `${relative(src, file)} -> ${relative(src, target)} (${unit} ${own}, ${tu} ${layer})`,
      );
    }
  }
  return bad;
}

describe('layering of src/ (ARCHITECTURE.md)', () => {
  const files = filesOf(src);

  it('every import goes to the same folder or a lower layer', () => {
    expect(files.length).toBeGreaterThan(100);
    expect(files.flatMap((f) => violationsOf(f, readFileSync(f, 'utf8')))).toEqual([]);
  });

  it('the checker refuses an upward or sideways import and ignores comments', () => {
    const probe = join(src, 'toolbox', 'metrics.ts');
    const text = readFileSync(probe, 'utf8');
    expect(violationsOf(probe, text)).toEqual([]);
    expect(violationsOf(probe, `${text}\nimport { runTraining } from '../app/index.js';`)).toEqual([
      'toolbox/metrics.ts -> app/index.ts (toolbox 9, app 12)',
    ]);
    expect(violationsOf(probe, `${text}\nexport * from '../data/index.js';`)).toHaveLength(1);
    expect(violationsOf(join(src, 'ppl', 'x.ts'), "import '../infer/elbo.js';")).toHaveLength(1);
    expect(violationsOf(probe, `${text}\n/** import x from '../app/index.js'; */`)).toEqual([]);
    expect(violationsOf(join(src, 'nowhere', 'x.ts'), '')).toHaveLength(1);
  });

  it('the browser entry src/index.ts reaches no Node-only module', () => {
    const seen = new Set<string>();
    const stack = [join(src, 'index.ts')];
    const nodeOnly: string[] = [];
    while (stack.length > 0) {
      const f = stack.pop() as string;
      if (seen.has(f)) continue;
      seen.add(f);
      const text = readFileSync(f, 'utf8');
      if (/from\s*['"]node:|import\s*\(\s*['"]node:/.test(stripComments(text)))
        nodeOnly.push(relative(src, f));
      for (const spec of importsOf(text)) stack.push(resolveImport(f, spec));
    }
    expect(seen.size).toBeGreaterThan(50);
    expect(nodeOnly).toEqual([]);
  });

  it('ARCHITECTURE.md has the same layer table', () => {
    const doc = readFileSync(join(root, 'ARCHITECTURE.md'), 'utf8');
    const section = doc.slice(doc.indexOf('## Layers of the library'));
    const block = section.slice(
      section.indexOf('```'),
      section.indexOf('```', section.indexOf('```') + 3),
    );
    const table: Record<string, number> = {};
    for (const line of block.split('\n')) {
      const m = /^(\d+)\s+([\w.]+(?:, [\w.]+)*)/.exec(line);
      if (m === null) continue;
      for (const unit of (m[2] as string).split(', ')) table[unit] = Number(m[1]);
    }
    expect(table).toEqual(LAYERS);
  });
});

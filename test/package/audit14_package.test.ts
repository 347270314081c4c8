/**
 * Issue 18 audit: the package as a TF.js developer meets it, checked from the sources (fast; the
 * packed tarball in a fresh project is `.ci/user-project.sh`). The manifest's entry points and
 * dependencies, what a browser bundle of `deepprob` pulls in (esbuild), whether both entries can
 * be `require`d (no top-level await in their static module graphs), TSDoc on every export, no
 * `any` in a public signature, the CLI's help, the names used by the README and the guides, and
 * `ready()`'s argument checks.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { build, transform, type Metafile } from 'esbuild';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import * as nodeEntry from '../../src/node.js';
import { ready } from '../../src/backend/ready.js';
import { TESTED_TFJS_RANGE } from '../../src/backend/tfjs_version.js';
import { ArgumentError } from '../../src/utils/errors.js';
import { anyInSignature, hasDoc, surface } from './surface.js';

const root = resolve(import.meta.dirname, '../..');
interface Manifest {
  main: string;
  types: string;
  type: string;
  bin: Record<string, string>;
  files: string[];
  exports: Record<string, string | Record<string, string>>;
  typesVersions: Record<string, Record<string, string[]>>;
  version: string;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
  peerDependenciesMeta: Record<string, { optional?: boolean }>;
}
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Manifest;
const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
const entries = [join(root, 'src/index.ts'), join(root, 'src/node.ts')];

/** The package a bare specifier names: `@scope/name/sub` -> `@scope/name`. */
function packageOf(spec: string): string {
  const parts = spec.split('/');
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] as string);
}

/** Every `.ts` file under `src/` (recursively). */
function srcFiles(dir = join(root, 'src')): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? srcFiles(join(dir, e.name))
      : e.name.endsWith('.ts')
        ? [join(dir, e.name)]
        : [],
  );
}

/** Bare module specifiers of value imports in `src/` (static and literal dynamic), by file. */
function bareImports(): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  const re =
    /^\s*(?:import|export)\s+(?!type\s)(?:[^'";]*?\s+from\s+)?'([^'.][^']*)'|\bimport\(\s*'([^'.][^']*)'\s*\)/gm;
  for (const f of srcFiles()) {
    for (const m of readFileSync(f, 'utf8').matchAll(re)) {
      const spec = m[1] ?? m[2];
      if (spec === undefined || builtins.has(spec)) continue;
      const p = packageOf(spec);
      if (!out.has(p)) out.set(p, new Set());
      out.get(p)?.add(f.slice(root.length + 1));
    }
  }
  return out;
}

const bundles = new Map<string, Promise<{ meta: Metafile; errors: string[] }>>();

/** esbuild of one entry (once per entry and platform); the metafile and the messages. */
function bundle(
  entry: string,
  platform: 'browser' | 'node',
): Promise<{ meta: Metafile; errors: string[] }> {
  const key = `${entry} ${platform}`;
  let b = bundles.get(key);
  if (b === undefined) {
    b = bundleOnce(entry, platform);
    bundles.set(key, b);
  }
  return b;
}

/** esbuild of one entry; the metafile and the messages (no output written). */
async function bundleOnce(
  entry: string,
  platform: 'browser' | 'node',
): Promise<{ meta: Metafile; errors: string[] }> {
  try {
    const r = await build({
      entryPoints: [entry],
      bundle: true,
      write: false,
      metafile: true,
      platform,
      format: 'esm',
      logLevel: 'silent',
      outdir: join(root, 'node_modules/.cache/audit14-bundle'),
      loader: { '.wasm': 'empty', '.node': 'empty' },
    });
    return { meta: r.metafile, errors: [] };
  } catch (e) {
    const errs = (e as { errors?: { text: string; location?: { file: string } | null }[] }).errors;
    if (errs === undefined) throw e;
    return {
      meta: { inputs: {}, outputs: {} },
      errors: errs.map((x) => `${x.location?.file ?? '?'}: ${x.text}`),
    };
  }
}

describe('package.json: entry points a consumer resolves', () => {
  it('exports "." and "./node" with types first, ESM targets in dist/ built from src/', () => {
    expect(pkg.type).toBe('module');
    expect(Object.keys(pkg.exports).sort()).toEqual(['.', './node', './package.json']);
    for (const [sub, name] of [
      ['.', 'index'],
      ['./node', 'node'],
    ] as const) {
      const cond = pkg.exports[sub] as Record<string, string>;
      expect(typeof cond, sub).toBe('object');
      // TypeScript reads conditions in order: `types` must come before `import`/`default`
      expect(Object.keys(cond)[0], `${sub}: first condition`).toBe('types');
      expect(cond['types']).toBe(`./dist/${name}.d.ts`);
      expect(cond['import']).toBe(`./dist/${name}.js`);
      // `default` is what require() (Node >= 20.19's require of ESM) and bundlers use
      expect(cond['default']).toBe(`./dist/${name}.js`);
      expect(readdirSync(join(root, 'src'))).toContain(`${name}.ts`);
    }
    expect(pkg.exports['./package.json']).toBe('./package.json');
    // TypeScript's legacy resolution (`moduleResolution: node`, the default of `module:
    // commonjs` before TS 6) ignores `exports`: `typesVersions` maps the subpath for it
    expect(pkg.typesVersions).toEqual({ '*': { node: ['./dist/node.d.ts'] } });
    expect(pkg.main).toBe('./dist/index.js');
    expect(pkg.types).toBe('./dist/index.d.ts');
  });

  it('version (and so `deepprob --version`) is the package version', () => {
    expect(nodeEntry.version).toBe(pkg.version);
    expect(nodeEntry.buildProgram().version()).toBe(pkg.version);
  });

  it('ships dist, bin, README and LICENSE; the bin launches the compiled CLI', () => {
    for (const f of ['dist', 'bin', 'README.md', 'LICENSE']) expect(pkg.files).toContain(f);
    expect(readFileSync(join(root, 'LICENSE'), 'utf8')).toMatch(/Apache License\s+Version 2\.0/);
    const bin = readFileSync(join(root, pkg.bin['deepprob'] as string), 'utf8');
    expect(bin.startsWith('#!/usr/bin/env node\n')).toBe(true);
    expect(bin).toContain("'../dist/cli/main.js'");
    expect(readdirSync(join(root, 'src/cli'))).toContain('main.ts');
  });

  it('tfjs is a peer in the tested range, and the installed tfjs is in it', () => {
    expect(pkg.peerDependencies['@tensorflow/tfjs']).toBe(TESTED_TFJS_RANGE);
    expect(pkg.peerDependencies['@tensorflow/tfjs-backend-wasm']).toBe(TESTED_TFJS_RANGE);
    expect(pkg.dependencies['@tensorflow/tfjs']).toBeUndefined();
    const [maj, min] = TESTED_TFJS_RANGE.replace('~', '').split('.');
    expect(tf.version_core.startsWith(`${maj}.${min}.`)).toBe(true);
  });

  it('every package src/ imports is a dependency or peer; every dependency is used', () => {
    const used = bareImports();
    const runtime = new Set([
      ...Object.keys(pkg.dependencies),
      ...Object.keys(pkg.peerDependencies),
    ]);
    const missing = [...used].filter(([p]) => !runtime.has(p)).map(([p, f]) => `${p} (${[...f]})`);
    expect(missing, 'imported by src/ but only a devDependency or not declared').toEqual([]);
    const unused = Object.keys(pkg.dependencies).filter((d) => !used.has(d));
    expect(unused, 'runtime dependencies nothing in src/ imports').toEqual([]);
  });

  it('optional peers are never imported statically (a project without them still loads)', () => {
    const optional = Object.entries(pkg.peerDependenciesMeta)
      .filter(([, m]) => m.optional === true)
      .map(([k]) => k);
    expect(optional).toEqual(expect.arrayContaining(['bullmq', 'ioredis', 'webgpu']));
    const stat = /^\s*(?:import|export)\s+(?!type\s)(?:[^'";]*?\s+from\s+)?'([^'.][^']*)'/gm;
    const bad: string[] = [];
    for (const f of srcFiles()) {
      for (const m of readFileSync(f, 'utf8').matchAll(stat)) {
        if (optional.includes(packageOf(m[1] as string))) bad.push(`${f}: ${m[1]}`);
      }
    }
    expect(bad).toEqual([]);
  });
});

describe('bundling', () => {
  it("esbuild --platform=browser of 'deepprob' pulls in no Node built-in and no Node-only package", async () => {
    const { meta, errors } = await bundle(join(root, 'src/index.ts'), 'browser');
    expect(errors).toEqual([]);
    const inputs = Object.keys(meta.inputs);
    expect(inputs.length).toBeGreaterThan(100);
    const nodeOnly = inputs.filter((i) =>
      /node_modules\/(commander|pngjs|vega|vega-lite|cli-progress|bullmq|ioredis|webgpu)\/|src\/(cli|app|queue)\/|node_hooks|file_io|file_scheme/.test(
        i,
      ),
    );
    expect(nodeOnly).toEqual([]);
    const builtinImports = Object.entries(meta.inputs).flatMap(([file, v]) =>
      v.imports.filter((x) => builtins.has(x.path)).map((x) => `${file} -> ${x.path}`),
    );
    expect(builtinImports).toEqual([]);
  }, 60_000);

  it("esbuild --platform=node of 'deepprob/node' resolves without the optional peers", async () => {
    // the optional peers are installed here (devDependencies), so mark what a user lacks as absent
    // by checking they are not bundled: they must be loaded at run time, by a variable specifier
    const { meta, errors } = await bundle(join(root, 'src/node.ts'), 'node');
    expect(errors).toEqual([]);
    const bundled = Object.keys(meta.inputs).filter((i) =>
      /node_modules\/(bullmq|ioredis|webgpu|@tensorflow\/tfjs-node)\//.test(i),
    );
    expect(bundled).toEqual([]);
  }, 60_000);

  it('both entries can be require()d: no top-level await in their static module graphs', async () => {
    // src/node.ts re-exports src/index.ts: its static closure holds the other's
    for (const entry of [join(root, 'src/node.ts')]) {
      const { meta, errors } = await bundle(entry, 'node');
      expect(errors).toEqual([]);
      // the static closure: follow import statements and require calls, not dynamic import()
      const seen = new Set<string>();
      const todo = [Object.keys(meta.inputs).find((k) => resolve(root, k) === entry) as string];
      while (todo.length > 0) {
        const f = todo.pop() as string;
        if (seen.has(f)) continue;
        seen.add(f);
        for (const imp of meta.inputs[f]?.imports ?? []) {
          if (!imp.external && (imp.kind === 'import-statement' || imp.kind === 'require-call')) {
            todo.push(imp.path);
          }
        }
      }
      expect(seen.size).toBeGreaterThan(50);
      const tla: string[] = [];
      for (const f of seen) {
        const text = readFileSync(resolve(root, f), 'utf8');
        if (!/\bawait\b/.test(text) || !/\.(m?js|ts)$/.test(f)) continue;
        try {
          await transform(text, { loader: f.endsWith('.ts') ? 'ts' : 'js', format: 'cjs' });
        } catch (e) {
          if (String((e as Error).message).includes('Top-level await')) tla.push(f);
        }
      }
      expect(tla, `${entry}: modules with top-level await (require() fails)`).toEqual([]);
    }
  }, 90_000);
});

describe('declarations a consumer reads', () => {
  const api = surface(entries);

  it('the surface walk finds the documented namespaces and entry points', () => {
    const paths = new Set(api.map((e) => e.path));
    for (const p of [
      'layers.denseFlipout',
      'layers.compileBayesian',
      'ppl.NUTS',
      'toolbox.stochasticPredictor',
      'distributions.Normal',
      'bijectors.Sigmoid',
      'ready',
      'fileIO',
      'registerFileScheme',
      'queue',
    ]) {
      expect(paths.has(p), p).toBe(true);
    }
    expect(api.length).toBeGreaterThan(1000);
  });

  it('every export has TSDoc', () => {
    const missing = api.filter((e) => e.decls.length > 0 && !hasDoc(e.decls)).map((e) => e.path);
    expect(missing).toEqual([]);
  });

  it('no `any` in a public signature', () => {
    expect(api.flatMap((e) => anyInSignature(e.decls))).toEqual([]);
  });
});

describe('the deepprob program', () => {
  it('every command and subcommand has a description and help listing its options', () => {
    const program = nodeEntry.buildProgram();
    const names: string[] = [];
    const visit = (cmd: typeof program, prefix: string): void => {
      for (const c of cmd.commands) {
        const name = `${prefix}${c.name()}`;
        names.push(name);
        expect(c.description().length, name).toBeGreaterThan(10);
        const help = c.helpInformation();
        expect(help).toContain(`Usage: deepprob ${name}`);
        for (const o of c.options) expect(help, `${name} ${o.flags}`).toContain(o.long ?? o.flags);
        visit(c, `${name} `);
      }
    };
    visit(program, '');
    for (const c of ['train', 'eval', 'convert', 'uncertainty', 'shift', 'queue status'])
      expect(names).toContain(c);
    expect(program.helpInformation()).toContain('--backend');
  });

  it('--backend lists every backend ready() starts in Node', () => {
    const flag = nodeEntry.buildProgram().options.find((o) => o.long === '--backend');
    for (const b of ['wasm', 'cpu', 'webgpu', 'tensorflow']) expect(flag?.description).toContain(b);
  });
});

describe('README and guides name what the entries export', () => {
  const docs = [
    'README.md',
    ...readdirSync(join(root, 'docs/guides')).map((f) => `docs/guides/${f}`),
    'docs/uncertainty.md',
  ];
  const blocks = docs.flatMap((f) =>
    [...readFileSync(join(root, f), 'utf8').matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => ({
      f,
      code: (m[1] as string).replace(/\/\/.*$/gm, ''),
    })),
  );
  const ns = nodeEntry as unknown as Record<string, unknown>;
  const typeNames = new Set(
    surface(entries)
      .filter((e) =>
        e.decls.some((d) => ts.isInterfaceDeclaration(d) || ts.isTypeAliasDeclaration(d)),
      )
      .map((e) => e.path),
  );

  it('imports come from the documented entry points and name their exports', async () => {
    const index = (await import('../../src/index.js')) as unknown as Record<string, unknown>;
    const bad: string[] = [];
    let n = 0;
    for (const { f, code } of blocks) {
      for (const m of code.matchAll(/import\s+(?:type\s+)?([^;]*?)\s+from\s+'([^']+)'/g)) {
        const spec = m[2] as string;
        if (
          !['deepprob', 'deepprob/node', '@tensorflow/tfjs'].includes(spec) &&
          !builtins.has(spec)
        )
          bad.push(`${f}: import from ${spec}`);
        const named = /\{([^}]*)\}/.exec(m[1] as string);
        if (!spec.startsWith('deepprob') || named === null) continue;
        const mod = spec === 'deepprob' ? index : ns;
        for (const raw of (named[1] as string).split(',')) {
          const name = raw
            .trim()
            .replace(/^type\s+/, '')
            .split(/\s+as\s+/)[0] as string;
          if (name === '') continue;
          n++;
          if (!(name in mod) && !typeNames.has(name)) bad.push(`${f}: ${name} from ${spec}`);
        }
      }
    }
    expect(n).toBeGreaterThan(5);
    expect(bad).toEqual([]);
  });

  it('every namespace member the code blocks use exists', () => {
    const bad: string[] = [];
    let n = 0;
    const re =
      /(?<![\w.])(ppl|layers|toolbox|distributions|bijectors|transforms|infer|dpn|models|train)((?:\.[A-Za-z_]\w*)+)/g;
    for (const { f, code } of blocks) {
      for (const m of code.matchAll(re)) {
        let o: unknown = ns[m[1] as string];
        let path = m[1] as string;
        for (const part of (m[2] as string).slice(1).split('.')) {
          if ((typeof o !== 'object' && typeof o !== 'function') || o === null) break;
          // a class's members are instance members; stop at a constructor
          if (typeof o === 'function' && /^[A-Z]/.test(path.split('.').pop() as string)) break;
          n++;
          const next = `${path}.${part}`;
          if (!(part in o) && !typeNames.has(next)) {
            bad.push(`${f}: ${m[0]} (no ${next})`);
            break;
          }
          o = (o as Record<string, unknown>)[part];
          path = next;
        }
      }
    }
    expect(n).toBeGreaterThan(100);
    expect(bad).toEqual([]);
  });
});

describe('ready(): bad arguments are refused before any backend is touched', () => {
  const cases: [string, () => Promise<unknown>, RegExp][] = [
    [
      'an unknown backend',
      () => ready({ backend: 'nope' }),
      /DEEPPROB_BACKEND\/backend.*'nope'.*cpu, wasm/,
    ],
    ['an empty backend', () => ready({ backend: '' }), /DEEPPROB_BACKEND\/backend/],
    [
      'a numeric backend',
      () => ready({ backend: 3 as unknown as string }),
      /DEEPPROB_BACKEND\/backend/,
    ],
    [
      'an unknown option',
      () => ready({ backnd: 'cpu' } as never),
      /^backnd: not an option of ready/,
    ],
    ["Pyro-ish 'verbose' typo", () => ready({ verbos: true } as never), /^verbos:/],
    ['a non-boolean verbose', () => ready({ verbose: 'yes' as unknown as boolean }), /^verbose:/],
    ['a non-object', () => ready('wasm' as never), /^options:/],
  ];
  for (const [what, call, msg] of cases) {
    it(what, async () => {
      await ready();
      const backend = tf.getBackend();
      const before = tf.memory().numTensors;
      const err = await call().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ArgumentError);
      expect((err as Error).message).toMatch(msg);
      expect(tf.getBackend()).toBe(backend);
      expect(tf.memory().numTensors).toBe(before);
    });
  }

  it('the backend in use is accepted again', async () => {
    const info = await ready();
    await expect(ready({ backend: info.backend })).resolves.toMatchObject({
      backend: info.backend,
    });
  });
});

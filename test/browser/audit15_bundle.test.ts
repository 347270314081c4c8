/**
 * Audit of issue #8 (the library in a real browser) off the demo's path: the browser entry
 * `src/index.ts` bundled by esbuild for `platform: 'browser'` (a bundler would fail on, or stub, a
 * Node built-in) reaches no Node built-in module through any file of the built graph (its own or a
 * dependency's), and the bundle, loaded alone in headless Chromium (Debian `chromium` with
 * playwright-core; skipped where it is not installed), trains a tiny classifier and runs
 * `toolbox.UncertaintyEvaluation` with the MC-dropout and heteroscedastic models kept in memory.
 */
import { existsSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Metafile } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

/** The page's script: a tiny dropout classifier, trained, then UncertaintyEvaluation. */
const ENTRY = `
import * as tf from '@tensorflow/tfjs';
import { ready, toolbox, setSeed, describeBackend, ArgumentError } from './src/index.ts';
globalThis.deepprobAudit = async () => {
  const info = await ready({ backend: 'cpu' });
  let refused = '';
  try { describeBackend(undefined); } catch (e) { refused = e instanceof ArgumentError ? e.argument : String(e); }
  setSeed(1);
  const n = 48;
  const xs = [], ys = [];
  for (let i = 0; i < n; i++) {
    const c = i % 3;
    xs.push([c === 0 ? 2 : -1, c === 1 ? 2 : -1, (i % 7) / 7]);
    ys.push(c);
  }
  const x = tf.tensor2d(xs);
  const y = tf.tensor1d(ys, 'int32');
  const model = tf.sequential({ layers: [
    tf.layers.dense({ inputShape: [3], units: 16, activation: 'relu' }),
    tf.layers.dropout({ rate: 0.3 }),
    tf.layers.dense({ units: 3 }),
  ] });
  const before = tf.memory().numTensors;
  const ue = new toolbox.UncertaintyEvaluation({
    model, trainDataset: { x, y }, taskType: 'classification', numClasses: 3, epochs: 2,
    saveModel: false, mcSamples: 8, seed: 3,
  });
  const epi = await ue.evalEpistemicUncertainty(x);
  const ale = await ue.evalAleatoricUncertainty(x);
  const e = Array.from(epi.dataSync());
  const a = Array.from(ale.dataSync());
  const shapes = [epi.shape, ale.shape];
  tf.dispose([epi, ale]);
  ue.dispose();
  const leaked = tf.memory().numTensors - before;
  tf.dispose([x, y]);
  model.dispose();
  return { backend: describeBackend(info), refused, shapes, e, a, leaked,
    hasProcess: typeof process !== 'undefined' && typeof process.versions?.node === 'string' };
};
`;

let meta: Metafile;
let bundle = '';

beforeAll(async () => {
  const r = await build({
    stdin: { contents: ENTRY, resolveDir: ROOT, loader: 'ts', sourcefile: 'audit15-entry.ts' },
    bundle: true,
    platform: 'browser',
    format: 'esm',
    write: false,
    metafile: true,
    logLevel: 'silent',
    outfile: path.join(ROOT, 'out', 'audit15-bundle.js'),
  });
  meta = r.metafile;
  bundle = r.outputFiles?.[0]?.text ?? '';
}, 120_000);

describe('the browser bundle', () => {
  it('bundles for platform browser with no Node built-in in the built graph', () => {
    const builtins = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);
    // who imports each module: a Node built-in may be reached only as a dependency's own stub
    // (`"browser": {"fs": false}` in its package.json: tfjs-backend-wasm, tfjs-core's node-fetch)
    const reached: string[] = [];
    for (const [file, input] of Object.entries(meta.inputs)) {
      for (const imp of input.imports) {
        const bare = imp.path.replace(/^\(disabled\):/, '');
        const builtin = builtins.has(bare) || bare.startsWith('node:');
        if (!builtin && !imp.path.startsWith('(disabled):')) continue;
        if (file.startsWith('node_modules/') && imp.path.startsWith('(disabled):')) continue;
        reached.push(`${file} -> ${imp.path}`);
      }
    }
    expect(reached).toEqual([]);
    // the stubbed ones are few and known (the wasm backend's Node glue, tfjs's node-fetch)
    const stubs = Object.keys(meta.inputs).filter((f) => f.startsWith('(disabled):'));
    expect(stubs.length).toBeLessThan(15);
    // deepprob's own Node-only files are not in the graph
    const ours = Object.keys(meta.inputs).filter((f) => f.startsWith('src/'));
    expect(ours.length).toBeGreaterThan(100);
    const nodeOnly = ours.filter((f) =>
      /^src\/(app|cli|queue)\/|^src\/node\.ts$|file_io\.ts$|file_scheme\.ts$|node_hooks\.ts$|native\/load\.ts$/.test(
        f,
      ),
    );
    expect(nodeOnly).toEqual([]);
    expect(bundle.length).toBeGreaterThan(1e5);
  });

  it.skipIf(!existsSync(CHROMIUM))(
    'runs a tiny model and UncertaintyEvaluation in headless Chromium, no tensor left',
    async () => {
      const { chromium } = await import('playwright-core');
      const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
      try {
        const page = await browser.newPage();
        const errors: string[] = [];
        page.on('pageerror', (e) => errors.push(String(e)));
        await page.route('http://deepprob.test/**', async (route) => {
          const url = route.request().url();
          if (url.endsWith('/bundle.js')) {
            await route.fulfill({ body: bundle, contentType: 'text/javascript' });
          } else {
            await route.fulfill({
              body: '<!doctype html><script type="module" src="/bundle.js"></script>',
              contentType: 'text/html',
            });
          }
        });
        await page.goto('http://deepprob.test/index.html');
        await page.waitForFunction(() => 'deepprobAudit' in globalThis, undefined, {
          timeout: 30_000,
        });
        const r = (await page.evaluate(() =>
          (globalThis as unknown as { deepprobAudit: () => Promise<unknown> }).deepprobAudit(),
        )) as {
          backend: string;
          shapes: number[][];
          e: number[];
          a: number[];
          leaked: number;
          hasProcess: boolean;
          refused: string;
        };
        expect(errors).toEqual([]);
        expect(r.hasProcess).toBe(false);
        expect(r.backend).toMatch(/cpu/);
        expect(r.refused).toBe('info');
        expect(r.shapes).toEqual([[48, 3], [48]]);
        // epistemic: the variance of each output (logits) over the MC-dropout passes
        expect(r.e.every((v) => Number.isFinite(v) && v >= 0)).toBe(true);
        expect(r.e.some((v) => v > 0)).toBe(true);
        // aleatoric: finite and non-negative
        expect(r.a.every((v) => Number.isFinite(v) && v >= 0)).toBe(true);
        expect(r.leaked).toBe(0);
      } finally {
        await browser.close();
      }
    },
    120_000,
  );
});

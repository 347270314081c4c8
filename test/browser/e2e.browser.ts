/**
 * End-to-end test of the browser demo in headless Chromium (`npm run test:browser`).
 *
 * 1. Builds `web/` with Vite and serves the build with `vite preview`.
 * 2. Opens the page in Debian's Chromium through playwright-core (no browser download), waits for
 *    the models, draws a digit with mouse events and checks that a prediction with its
 *    uncertainty values appears; then picks an MNIST, a Fashion-MNIST and a rotated image, and
 *    switches models. Screenshots go to `out/browser/`.
 * 3. Parity: the frozen ('mean' mode) predictions of every model for fixed inputs, computed in the
 *    page (webgl when available, else wasm) and in Node (wasm) from the same checkpoint files with
 *    the same code (`web/src/predict.ts`), agree to float32 tolerance; the page is then reloaded
 *    with `?backend=wasm` (and `?backend=cpu` with `--all-backends`) and checked again.
 *
 * 4. Training: the Bayesian playground (`web/playground.html`) trains a Bayesian MLP a few steps on
 *    webgpu (WebGPU on SwiftShader) and webgl; initial loss, gradients and step losses agree with
 *    the same code on wasm in Node; the live page trains (screenshots `playground-*.png`).
 *
 * Needs `/usr/bin/chromium` (`apt-get install -y chromium`) or `CHROMIUM=/path/to/chrome`, and
 * the models (`web/public/models/manifest.json`, see scripts/build-web-models.ts).
 * Exit code 0 when every check passes.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Page } from 'playwright-core';
import { build, createLogger, preview } from 'vite';
import { ready, describeBackend } from '../../src/index.js';
import { loadModelDir } from '../../scripts/web-node.js';
import type { Manifest } from '../../web/src/manifest.js';
import { predictFrozen, type Prediction, type Verdict } from '../../web/src/predict.js';
import { decodePixels } from '../../web/src/preprocess.js';
import { probe } from '../../web/src/playground/model.js';
import * as tf from '@tensorflow/tfjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const WEB = path.join(ROOT, 'web');
const OUT = path.join(ROOT, 'out/browser');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
/** Absolute tolerance on probabilities between backends (float32 accumulation order differs). */
const PARITY_ATOL = 1e-4;

interface SampleFile {
  groups: { id: string; items: { name: string; label: number; pixels: string }[] }[];
}

interface DemoWindow {
  deepprobDemo?: {
    backend: string;
    models: string[];
    predictFrozen(model: string, images: number[][]): Promise<number[][]>;
    predict(
      model: string,
      image: number[],
      mcSamples?: number,
    ): Promise<{ prediction: Prediction; verdict: Verdict }>;
    pick(group: string, index: number): Promise<void>;
    settled(): Promise<void>;
    input(): number[] | undefined;
    numTensors(): number;
  };
  deepprobDemoError?: string;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

function log(msg: string): void {
  console.log(`[browser] ${msg}`);
}

/** Open the page and wait until the demo API is up (or the page reports an error). */
async function openDemo(page: Page, url: string): Promise<string> {
  await page.goto(url);
  await page.waitForFunction(
    () => {
      const w = window as unknown as DemoWindow;
      return w.deepprobDemo !== undefined || w.deepprobDemoError !== undefined;
    },
    undefined,
    { timeout: 120_000 },
  );
  const err = await page.evaluate(() => (window as unknown as DemoWindow).deepprobDemoError);
  assert.equal(err, undefined, `page failed to start: ${err}`);
  return page.evaluate(() => (window as unknown as DemoWindow).deepprobDemo?.backend ?? '?');
}

/** Numbers shown on the page for the current prediction. */
async function shown(page: Page): Promise<Record<string, string>> {
  return page.evaluate(() => {
    const out: Record<string, string> = {};
    for (const el of document.querySelectorAll<HTMLElement>('[data-testid]')) {
      out[el.dataset.testid ?? ''] = (el.textContent ?? '').trim();
    }
    out.knows = document.getElementById('verdict')?.dataset.knows ?? '';
    out.rows = String(document.querySelectorAll('#compare tbody tr').length);
    out.dots = String(document.querySelectorAll('#bars circle.sample').length);
    return out;
  });
}

function finite(s: string | undefined, what: string): number {
  const v = Number(s);
  assert.ok(
    s !== undefined && s !== '' && Number.isFinite(v),
    `${what}: expected a number, got '${s}'`,
  );
  return v;
}

async function drawDigitSeven(page: Page): Promise<void> {
  const box = await page.locator('#pad').boundingBox();
  assert.ok(box !== null, '#pad not visible');
  const px = (x: number, y: number): [number, number] => [
    box.x + (x / 280) * box.width,
    box.y + (y / 280) * box.height,
  ];
  // A "7": top bar, then the diagonal down to the lower left.
  const path7: [number, number][] = [
    [70, 60],
    [210, 60],
    [190, 110],
    [160, 170],
    [135, 230],
  ];
  const [x0, y0] = px(...(path7[0] as [number, number]));
  await page.mouse.move(x0, y0);
  await page.mouse.down();
  for (let i = 1; i < path7.length; i++) {
    const [x, y] = px(...(path7[i] as [number, number]));
    await page.mouse.move(x, y, { steps: 8 });
  }
  await page.mouse.up();
  await page.evaluate(() => (window as unknown as DemoWindow).deepprobDemo?.settled());
}

async function main(): Promise<void> {
  const allBackends = process.argv.includes('--all-backends');
  assert.ok(
    existsSync(CHROMIUM),
    `${CHROMIUM} missing: apt-get install -y chromium (or set CHROMIUM)`,
  );
  const manifestFile = path.join(WEB, 'public/models/manifest.json');
  assert.ok(
    existsSync(manifestFile),
    `${manifestFile} missing: npx tsx scripts/build-web-models.ts`,
  );
  mkdirSync(OUT, { recursive: true });

  // 1. Build and serve.
  // Vite warns when a module imports a Node built-in ("externalized for browser compatibility"):
  // collect those warnings to report which library files pull Node-only modules into the page.
  const warnings: string[] = [];
  const logger = createLogger('warn');
  const warn = logger.warn.bind(logger);
  logger.warn = (msg, opts) => {
    warnings.push(msg);
    warn(msg, opts);
  };
  await build({ configFile: path.join(WEB, 'vite.config.ts'), customLogger: logger });
  const port = await freePort();
  const server = await preview({
    configFile: path.join(WEB, 'vite.config.ts'),
    preview: { port, strictPort: true, host: '127.0.0.1' },
    logLevel: 'warn',
  });
  const url = `http://127.0.0.1:${port}/`;
  log(`serving web/dist at ${url}`);

  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      '--disable-sync',
      '--disable-quic',
      // Software WebGL (SwiftShader), so the webgl backend can run without a GPU.
      '--enable-unsafe-swiftshader',
      '--use-angle=swiftshader',
    ],
  });
  const report: Record<string, unknown> = { chromium: browser.version() };
  try {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const consoleErrors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(e.message));
    page.on('response', (r) => {
      if (r.status() >= 400) consoleErrors.push(`HTTP ${r.status()} ${r.url()}`);
    });

    // 2. The page.
    const backend = await openDemo(page, url);
    log(`page backend: ${backend}`);
    report.backend = backend;

    await drawDigitSeven(page);
    const drawn = await shown(page);
    log(`drawn "7": ${JSON.stringify(drawn)}`);
    assert.match(
      drawn.answer ?? '',
      /^(It's a \d|I don't know)$/,
      'a verdict appears after drawing',
    );
    for (const k of ['entropy', 'aleatoric', 'epistemic']) finite(drawn[k], `drawn ${k}`);
    assert.equal(drawn.rows, '3', 'all three models compared');
    assert.ok(Number(drawn.dots) >= 10, 'the MC samples are drawn as dots');
    const input = await page.evaluate(() =>
      (window as unknown as DemoWindow).deepprobDemo?.input(),
    );
    assert.ok(input !== undefined && input.length === 784, 'the drawing became a 28x28 input');
    assert.ok(Math.max(...input) > 0.5, 'the 28x28 input has ink');
    const drawnTop = await page.evaluate(
      (x) => (window as unknown as DemoWindow).deepprobDemo?.predict('bayes-lenet5', x),
      input,
    );
    log(`drawn "7": Bayesian LeNet5 top class ${drawnTop?.prediction.top}`);
    assert.equal(drawnTop?.prediction.top, 7, 'the Bayesian LeNet5 reads the drawn 7 as a 7');
    await page.screenshot({ path: path.join(OUT, 'e2e-draw.png'), fullPage: true });
    report.drawn = drawn;

    const tensorsBefore = await page.evaluate(() =>
      (window as unknown as DemoWindow).deepprobDemo?.numTensors(),
    );
    const picks: [string, number, string][] = [
      ['mnist', 0, 'e2e-mnist.png'],
      ['fashion', 3, 'e2e-fashion.png'],
      ['rotated', 6, 'e2e-rotated.png'],
    ];
    for (const [group, index, shot] of picks) {
      await page.evaluate(([g, i]) => (window as unknown as DemoWindow).deepprobDemo?.pick(g, i), [
        group,
        index,
      ] as [string, number]);
      const s = await shown(page);
      log(`${group}[${index}]: ${JSON.stringify(s)}`);
      for (const k of ['entropy', 'aleatoric', 'epistemic']) finite(s[k], `${group} ${k}`);
      report[group] = s;
      await page.screenshot({ path: path.join(OUT, shot), fullPage: true });
    }

    const tensorsAfter = await page.evaluate(() =>
      (window as unknown as DemoWindow).deepprobDemo?.numTensors(),
    );
    log(`tensors in the page before/after 3 inputs x 3 models: ${tensorsBefore}/${tensorsAfter}`);
    assert.equal(tensorsAfter, tensorsBefore, 'predictions in the page leak no tensors');

    // Switch to the evidential and the plain model.
    for (const id of ['evidential-lenet', 'lenet5']) {
      await page.locator(`label:has(input[name=model][value="${id}"])`).click();
      await page.evaluate(() => (window as unknown as DemoWindow).deepprobDemo?.settled());
      const s = await shown(page);
      log(`switch to ${id}: ${JSON.stringify(s)}`);
      finite(s.entropy, `${id} entropy`);
      if (id === 'evidential-lenet') finite(s.u, 'evidential u');
      await page.screenshot({ path: path.join(OUT, `e2e-${id}.png`), fullPage: true });
      report[`switch_${id}`] = s;
    }
    assert.deepEqual(consoleErrors, [], 'no errors in the browser console');

    // The verdicts on the whole bundled sample set, through the page: the Bayesian model should
    // answer most MNIST digits and refuse most Fashion-MNIST images.
    const samples = JSON.parse(
      readFileSync(path.join(WEB, 'public/samples.json'), 'utf8'),
    ) as SampleFile;
    const verdicts: Record<
      string,
      Record<string, { knows: number; correct: number; n: number }>
    > = {};
    for (const id of ['bayes-lenet5', 'lenet5', 'evidential-lenet']) {
      const byGroup: Record<string, { knows: number; correct: number; n: number }> = {};
      for (const g of samples.groups) {
        const tally = { knows: 0, correct: 0, n: g.items.length };
        for (const it of g.items) {
          const r = await page.evaluate(
            ([m, x]) => (window as unknown as DemoWindow).deepprobDemo?.predict(m, x),
            [id, Array.from(decodePixels(it.pixels))] as [string, number[]],
          );
          if (r?.verdict.knows === true) tally.knows++;
          if (r?.prediction.top === it.label) tally.correct++;
        }
        byGroup[g.id] = tally;
      }
      verdicts[id] = byGroup;
      log(`verdicts ${id}: ${JSON.stringify(byGroup)}`);
    }
    report.verdicts = verdicts;
    const bay = verdicts['bayes-lenet5'] ?? {};
    assert.ok((bay.mnist?.correct ?? 0) >= 18, 'Bayesian LeNet5 gets >= 18/20 MNIST samples right');
    assert.ok((bay.mnist?.knows ?? 0) >= 16, 'Bayesian LeNet5 answers >= 16/20 MNIST samples');
    assert.ok((bay.fashion?.knows ?? 20) <= 4, 'Bayesian LeNet5 refuses >= 16/20 Fashion images');

    // 3. Parity, page vs Node, frozen mode, same checkpoint files and code.
    const fixed: number[][] = [];
    for (const g of samples.groups) {
      for (const it of g.items.slice(0, 3)) fixed.push(Array.from(decodePixels(it.pixels)));
    }
    const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as Manifest;
    const nodeInfo = await ready();
    log(`node: ${describeBackend(nodeInfo)}`);
    const nodeProbs = new Map<string, number[][]>();
    for (const entry of manifest.models) {
      const model = await loadModelDir(path.join(WEB, 'public/models', entry.id));
      nodeProbs.set(
        entry.id,
        await predictFrozen(
          model,
          entry,
          fixed.map((f) => Float32Array.from(f)),
        ),
      );
      model.dispose();
    }
    // The page's own choice (webgl with SwiftShader here), then wasm in the browser too.
    const pageBackends = allBackends ? [undefined, 'wasm', 'cpu'] : [undefined, 'wasm'];
    const parity: Record<string, Record<string, number>> = {};
    for (const b of pageBackends) {
      const name = b === undefined ? backend : await openDemo(page, `${url}?backend=${b}`);
      parity[name] = {};
      if (name === 'wasm') {
        // the page's wasm backend runs deepprob's kernel pack and SIMD module too
        const status = (await shown(page)).status ?? '';
        log(`page wasm: ${status}`);
        assert.ok(
          /kernels fast \+ SIMD/.test(status),
          `wasm page without the SIMD kernels: ${status}`,
        );
      }
      for (const entry of manifest.models) {
        const probs = await page.evaluate(
          ([id, xs]) => (window as unknown as DemoWindow).deepprobDemo?.predictFrozen(id, xs),
          [entry.id, fixed] as [string, number[][]],
        );
        assert.ok(probs !== undefined, 'page returned predictions');
        const ref = nodeProbs.get(entry.id) ?? [];
        let worst = 0;
        let agree = 0;
        probs.forEach((row, i) => {
          const r = ref[i] ?? [];
          row.forEach((v, k) => (worst = Math.max(worst, Math.abs(v - (r[k] ?? NaN)))));
          const am = (a: number[]): number => a.indexOf(Math.max(...a));
          if (am(row) === am(r)) agree++;
        });
        parity[name][entry.id] = worst;
        log(
          `parity ${entry.id}: page ${name} vs node ${nodeInfo.backend}: max |dp| = ${worst.toExponential(2)} over ${fixed.length} inputs, argmax agree ${agree}/${fixed.length}`,
        );
        assert.ok(
          worst <= PARITY_ATOL,
          `${entry.id} on ${name}: max |dp| ${worst} > ${PARITY_ATOL}`,
        );
        assert.equal(agree, fixed.length, `${entry.id} on ${name}: argmax differs`);
      }
    }
    report.parity = parity;
    report.parityInputs = fixed.length;
    const nodeImports = warnings.filter(
      (w) => /externalized for browser/.test(w) && /\/src\//.test(w),
    );
    report.nodeBuiltinsImportedBySrc = nodeImports;
    if (nodeImports.length > 0)
      log(`library files importing Node built-ins: ${nodeImports.length}`);

    // 4. Training in the browser: the Bayesian playground on webgpu and webgl vs Node wasm.
    report.training = await playgroundTraining(url);
  } finally {
    await browser.close();
    await new Promise<void>((resolve) => server.httpServer.close(() => resolve()));
  }
  writeFileSync(path.join(OUT, 'e2e.json'), JSON.stringify(report, null, 2) + '\n');
  log(`ok; screenshots and e2e.json in ${path.relative(ROOT, OUT)}/`);
}

/** Tolerances of the training parity (float32; Adam steps amplify rounding a little). */
const TRAIN_TOL = { grads: { rtol: 1e-3, atol: 1e-4 }, loss: 2e-3 };

function maxRelErr(a: number[], b: number[], atol: number): number {
  let worst = 0;
  a.forEach((v, i) => {
    const r = b[i] ?? NaN;
    worst = Math.max(worst, Math.abs(v - r) / (Math.abs(r) + atol / TRAIN_TOL.grads.rtol));
  });
  return worst;
}

/**
 * The Bayesian playground (web/playground.html) trains in headless Chromium on webgpu (WebGPU on
 * SwiftShader's Vulkan) and webgl: its initial loss and gradients, and the losses of a few Adam
 * steps from the same seed, agree with the same code (web/src/playground/model.ts) on wasm in Node;
 * and the live page trains (its step counter moves).
 */
async function playgroundTraining(url: string): Promise<Record<string, unknown>> {
  const STEPS = 3;
  const nodeRef = await probe(STEPS);
  log(
    `playground in node (${tf.getBackend()}): loss ${nodeRef.loss.toFixed(5)}, steps ${nodeRef.losses.map((l) => l.toFixed(5)).join(' ')}`,
  );
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--enable-unsafe-webgpu',
      '--enable-features=Vulkan',
      '--use-vulkan=swiftshader',
      '--use-webgpu-adapter=swiftshader',
      '--enable-unsafe-swiftshader',
      '--use-angle=swiftshader',
    ],
  });
  const out: Record<string, unknown> = {};
  try {
    const page = await browser.newPage({ viewport: { width: 1200, height: 700 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    for (const want of ['webgpu', 'webgl']) {
      await page.goto(`${url}playground.html?backend=${want}`);
      await page.waitForFunction(
        () => {
          const w = window as unknown as PlaygroundWindow;
          return w.deepprobPlayground !== undefined || w.deepprobPlaygroundError !== undefined;
        },
        undefined,
        { timeout: 120_000 },
      );
      const err = await page.evaluate(
        () => (window as unknown as PlaygroundWindow).deepprobPlaygroundError,
      );
      assert.equal(err, undefined, `playground failed to start on ${want}: ${err}`);
      const got = await page.evaluate(async (n) => {
        const api = (window as unknown as PlaygroundWindow).deepprobPlayground;
        if (api === undefined) return undefined;
        return { backend: api.backend, ...(await api.probe(n)) };
      }, STEPS);
      assert.ok(got !== undefined, 'playground probe returned');
      assert.equal(got.backend, want, `playground runs on ${got.backend}, wanted ${want}`);
      const gradErr = Math.max(
        ...nodeRef.grads.map((g, i) => maxRelErr(got.grads[i] ?? [], g, TRAIN_TOL.grads.atol)),
      );
      const lossErr = maxRelErr([got.loss, ...got.losses], [nodeRef.loss, ...nodeRef.losses], 1e-6);
      log(
        `playground on ${want}: loss ${got.loss.toFixed(5)}, steps ${got.losses.map((l) => l.toFixed(5)).join(' ')}; vs node wasm: max rel err grads ${gradErr.toExponential(2)}, losses ${lossErr.toExponential(2)}`,
      );
      assert.equal(got.grads.length, nodeRef.grads.length, 'one gradient per weight');
      assert.ok(
        gradErr <= TRAIN_TOL.grads.rtol,
        `${want}: gradients differ from wasm (${gradErr})`,
      );
      assert.ok(lossErr <= TRAIN_TOL.loss, `${want}: losses differ from wasm (${lossErr})`);
      assert.ok((got.losses.at(-1) ?? Infinity) < got.loss, `${want}: the loss does not go down`);
      // the live page trains: the step counter moves and the maps are painted. SwiftShader
      // (software WebGPU/WebGL) may not advance the page's animation loop in headless Chromium
      // within the time a CI run has: a stalled counter is reported, an error of the loop fails.
      const s0 = await page.evaluate(
        () => (window as unknown as PlaygroundWindow).deepprobPlayground?.steps() ?? 0,
      );
      const moved = await page
        .waitForFunction(
          (s) =>
            ((window as unknown as PlaygroundWindow).deepprobPlayground?.steps() ?? 0) >= s + 4,
          s0,
          { timeout: 90_000 },
        )
        .then(
          () => true,
          () => false,
        );
      const loopErr = await page.evaluate(
        () => (window as unknown as PlaygroundWindow).deepprobPlaygroundLoopError,
      );
      assert.equal(loopErr, undefined, `playground loop failed on ${want}: ${loopErr}`);
      if (!moved) log(`WARNING: the live playground on ${want} did not advance within 90 s`);
      await page.screenshot({ path: path.join(OUT, `playground-${want}.png`) });
      out[want] = { gradErr, lossErr, loss: got.loss, losses: got.losses };
    }
    assert.deepEqual(errors, [], `playground page errors: ${errors.join('; ')}`);
  } finally {
    await browser.close();
  }
  return out;
}

interface PlaygroundWindow {
  deepprobPlayground?: {
    backend: string;
    probe(steps: number): Promise<{ loss: number; grads: number[][]; losses: number[] }>;
    steps(): number;
  };
  deepprobPlaygroundError?: string;
  deepprobPlaygroundLoopError?: string;
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e instanceof Error ? (e.stack ?? e.message) : e);
    process.exit(1);
  },
);

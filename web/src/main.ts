/**
 * The demo page: a drawing pad and a sample picker feed the Bayesian LeNet5, its plain twin and
 * the evidential LeNet (checkpoints written by `deepprob train`), and the page shows live what the
 * selected model predicts and how uncertain it is.
 *
 * `window.deepprobDemo` exposes a small API for the end-to-end test (test/browser/e2e.browser.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { ready, describeBackend } from '../../src/index.js';
import { loadManifest, type Manifest, type ModelEntry } from './manifest.js';
import { predict, predictFrozen, verdict, type Prediction, type Verdict } from './predict.js';
import { decodePixels, toMnist, MNIST_SIZE } from './preprocess.js';
import { renderBars, renderMeters, renderVerdict } from './view.js';

/** The sample set of `samples.json` (see scripts/build-web-samples.ts). */
interface SampleFile {
  size: number;
  groups: {
    id: string;
    title: string;
    inDistribution: boolean;
    items: { name: string; label: number; pixels: string }[];
  }[];
}

/** The test hook. */
export interface DemoApi {
  backend: string;
  models: string[];
  /** Frozen ('mean' mode) probabilities of a model for 784-value images in [0, 1]. */
  predictFrozen(model: string, images: number[][]): Promise<number[][]>;
  /** Full prediction (with uncertainty) of a model for one image, and the page's verdict. */
  predict(
    model: string,
    image: number[],
    mcSamples?: number,
  ): Promise<{ prediction: Prediction; verdict: Verdict }>;
  /** Show sample `index` of group `group` as the current input; resolves when rendered. */
  pick(group: string, index: number): Promise<void>;
  /** Resolves when the predictions of the current input are on the page. */
  settled(): Promise<void>;
  /** The current input (784 values) or undefined. */
  input(): number[] | undefined;
  /** `tf.memory().numTensors`, to check that predictions leak no tensors. */
  numTensors(): number;
}

declare global {
  interface Window {
    deepprobDemo?: DemoApi;
    deepprobDemoError?: string;
  }
}

const DIGITS = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];
const base = new URL('./', document.baseURI);

function $<T extends HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (el === null) throw new Error(`#${id} missing from index.html`);
  return el as T;
}

const status = $<HTMLParagraphElement>('status');
const pad = $<HTMLCanvasElement>('pad');
const preview = $<HTMLCanvasElement>('preview');
const padCtx = pad.getContext('2d', { willReadFrequently: true }) as CanvasRenderingContext2D;
const previewCtx = preview.getContext('2d') as CanvasRenderingContext2D;

/** Paint 784 values in [0, 1] on a 28x28 canvas context. */
function paint(ctx: CanvasRenderingContext2D, img: Float32Array): void {
  const data = ctx.createImageData(MNIST_SIZE, MNIST_SIZE);
  for (let i = 0; i < img.length; i++) {
    const v = Math.round(Math.min(1, Math.max(0, img[i] ?? 0)) * 255);
    data.data[4 * i] = v;
    data.data[4 * i + 1] = v;
    data.data[4 * i + 2] = v;
    data.data[4 * i + 3] = 255;
  }
  ctx.putImageData(data, 0, 0);
}

function clearPad(): void {
  padCtx.fillStyle = '#000';
  padCtx.fillRect(0, 0, pad.width, pad.height);
}

/** The pad's pixels as a grey image in [0, 1]. */
function padImage(): { width: number; height: number; data: Float32Array } {
  const { data, width, height } = padCtx.getImageData(0, 0, pad.width, pad.height);
  const g = new Float32Array(width * height);
  for (let i = 0; i < g.length; i++) g[i] = (data[4 * i] ?? 0) / 255;
  return { width, height, data: g };
}

async function main(): Promise<void> {
  // The wasm binaries are served next to the page (see vite.config.ts).
  setWasmPaths(new URL('tfjs-wasm/', base).href);
  const requested = new URLSearchParams(location.search).get('backend') ?? undefined;
  const info = await ready(requested === undefined ? {} : { backend: requested });
  status.textContent = `${describeBackend(info)} · loading models…`;

  const manifest: Manifest = await loadManifest(new URL('models/manifest.json', base).href);
  const models = new Map<string, { entry: ModelEntry; model: tf.LayersModel }>();
  for (const entry of manifest.models) {
    const model = await tf.loadLayersModel(new URL(`models/${entry.path}`, base).href);
    models.set(entry.id, { entry, model });
  }
  const samples = (await (await fetch(new URL('samples.json', base).href)).json()) as SampleFile;

  let current: Float32Array | undefined;
  let selected = manifest.models[0]?.id ?? '';
  let mcSamples = manifest.mcSamples;
  let busy = false;
  let dirty = false;
  let waiters: (() => void)[] = [];

  const get = (id: string): { entry: ModelEntry; model: tf.LayersModel } => {
    const m = models.get(id);
    if (m === undefined)
      throw new Error(`unknown model '${id}' (have ${[...models.keys()].join(', ')})`);
    return m;
  };

  async function refresh(): Promise<void> {
    if (busy) {
      dirty = true;
      return;
    }
    busy = true;
    try {
      do {
        dirty = false;
        const img = current;
        if (img === undefined) {
          $('verdict').className = 'verdict';
          $('verdict').textContent = 'Draw a digit or pick an image.';
          $('bars').replaceChildren();
          $('meters').replaceChildren();
          $('compare').querySelector('tbody')?.replaceChildren();
          continue;
        }
        paint(previewCtx, img);
        const t0 = performance.now();
        const preds: Prediction[] = [];
        for (const { entry, model } of models.values()) {
          preds.push(await predict(model, entry, img, mcSamples));
        }
        const ms = performance.now() - t0;
        const shown = preds.find((p) => p.model === selected) ?? preds[0];
        if (shown === undefined) continue;
        const entry = get(shown.model).entry;
        renderVerdict($('verdict'), shown, verdict(shown, entry.thresholds), DIGITS);
        renderBars($('bars'), shown, DIGITS);
        renderMeters($('meters'), shown, entry);
        const rows = preds.map((p) => {
          const e = get(p.model).entry;
          const v = verdict(p, e.thresholds);
          const tr = document.createElement('tr');
          if (p.model === selected) tr.className = 'current';
          const score =
            p.epistemic !== undefined
              ? `MI ${p.epistemic.toFixed(3)}`
              : p.u !== undefined
                ? `u ${p.u.toFixed(3)}`
                : '—';
          tr.innerHTML = `<td>${e.title}</td><td class="${v.knows ? '' : 'no'}">${v.knows ? DIGITS[p.top] : "I don't know"}</td><td>${((p.probs[p.top] ?? 0) * 100).toFixed(1)}%</td><td>${p.entropy.toFixed(3)}</td><td>${score}</td>`;
          return tr;
        });
        $('compare')
          .querySelector('tbody')
          ?.replaceChildren(...rows);
        status.textContent = `${describeBackend(info)} · 3 models, ${mcSamples} MC samples: ${ms.toFixed(0)} ms`;
      } while (dirty);
    } finally {
      busy = false;
      const w = waiters;
      waiters = [];
      for (const f of w) f();
    }
  }

  // Model switch.
  const switchHost = $('models');
  for (const entry of manifest.models) {
    const label = document.createElement('label');
    label.innerHTML = `<input type="radio" name="model" value="${entry.id}"${entry.id === selected ? ' checked' : ''}/> ${entry.title}`;
    switchHost.append(label);
  }
  switchHost.addEventListener('change', (ev) => {
    selected = (ev.target as HTMLInputElement).value;
    void refresh();
  });
  $<HTMLSelectElement>('mc').value = String(mcSamples);
  $<HTMLSelectElement>('mc').addEventListener('change', (ev) => {
    mcSamples = Number((ev.target as HTMLSelectElement).value);
    void refresh();
  });

  // Drawing pad: white strokes on black, predictions while drawing.
  clearPad();
  let drawing = false;
  let last: { x: number; y: number } | undefined;
  const at = (ev: PointerEvent): { x: number; y: number } => {
    const r = pad.getBoundingClientRect();
    return {
      x: ((ev.clientX - r.left) * pad.width) / r.width,
      y: ((ev.clientY - r.top) * pad.height) / r.height,
    };
  };
  const stroke = (p: { x: number; y: number }): void => {
    padCtx.strokeStyle = '#fff';
    padCtx.lineWidth = 20;
    padCtx.lineCap = 'round';
    padCtx.lineJoin = 'round';
    padCtx.beginPath();
    const from = last ?? p;
    padCtx.moveTo(from.x, from.y);
    padCtx.lineTo(p.x + (last === undefined ? 0.01 : 0), p.y);
    padCtx.stroke();
    last = p;
    current = toMnist(padImage());
    for (const c of document.querySelectorAll('.samples canvas.selected'))
      c.classList.remove('selected');
    void refresh();
  };
  pad.addEventListener('pointerdown', (ev) => {
    drawing = true;
    last = undefined;
    pad.setPointerCapture(ev.pointerId);
    stroke(at(ev));
  });
  pad.addEventListener('pointermove', (ev) => {
    if (drawing) stroke(at(ev));
  });
  const end = (): void => {
    drawing = false;
    last = undefined;
  };
  pad.addEventListener('pointerup', end);
  pad.addEventListener('pointercancel', end);
  $('clear').addEventListener('click', () => {
    clearPad();
    current = undefined;
    void refresh();
  });

  // Sample picker.
  const decoded = new Map<string, Float32Array[]>();
  const pick = (groupId: string, index: number, thumb?: HTMLCanvasElement): void => {
    const img = decoded.get(groupId)?.[index];
    if (img === undefined) throw new Error(`no sample ${groupId}[${index}]`);
    current = img;
    // Show it on the pad, scaled up, so that drawing on top of it starts from it.
    const tmp = document.createElement('canvas');
    tmp.width = MNIST_SIZE;
    tmp.height = MNIST_SIZE;
    paint(tmp.getContext('2d') as CanvasRenderingContext2D, img);
    padCtx.imageSmoothingEnabled = true;
    padCtx.drawImage(tmp, 0, 0, pad.width, pad.height);
    for (const c of document.querySelectorAll('.samples canvas.selected'))
      c.classList.remove('selected');
    thumb?.classList.add('selected');
    void refresh();
  };
  const samplesHost = $('samples');
  for (const g of samples.groups) {
    const imgs = g.items.map((it) => decodePixels(it.pixels));
    decoded.set(g.id, imgs);
    const box = document.createElement('div');
    box.className = 'group';
    box.innerHTML = `<h4>${g.title}</h4>`;
    const thumbs = document.createElement('div');
    thumbs.className = 'thumbs';
    imgs.forEach((img, i) => {
      const c = document.createElement('canvas');
      c.width = MNIST_SIZE;
      c.height = MNIST_SIZE;
      c.title = g.items[i]?.name ?? '';
      c.dataset.group = g.id;
      c.dataset.index = String(i);
      paint(c.getContext('2d') as CanvasRenderingContext2D, img);
      c.addEventListener('click', () => pick(g.id, i, c));
      thumbs.append(c);
    });
    box.append(thumbs);
    samplesHost.append(box);
  }

  const about = manifest.models
    .map(
      (m) =>
        `${m.title}: trained with <code>${m.trainedWith}</code>; threshold ${m.thresholds.note}.`,
    )
    .join('<br/>');
  $('about').innerHTML = about;
  status.textContent = `${describeBackend(info)} · ready`;
  status.dataset.backend = info.backend;

  const settled = (): Promise<void> =>
    busy ? new Promise<void>((resolve) => waiters.push(resolve)) : Promise.resolve();
  window.deepprobDemo = {
    backend: info.backend,
    models: [...models.keys()],
    async predictFrozen(id, images) {
      const { entry, model } = get(id);
      return predictFrozen(
        model,
        entry,
        images.map((im) => Float32Array.from(im)),
      );
    },
    async predict(id, image, n) {
      const { entry, model } = get(id);
      const prediction = await predict(model, entry, Float32Array.from(image), n ?? mcSamples);
      return { prediction, verdict: verdict(prediction, entry.thresholds) };
    },
    async pick(groupId, index) {
      const thumb = document.querySelector<HTMLCanvasElement>(
        `.samples canvas[data-group="${groupId}"][data-index="${index}"]`,
      );
      pick(groupId, index, thumb ?? undefined);
      await settled();
    },
    settled,
    input: () => (current === undefined ? undefined : Array.from(current)),
    numTensors: () => tf.memory().numTensors,
  };
}

main().catch((e: unknown) => {
  const msg = e instanceof Error ? e.message : String(e);
  status.textContent = `Error: ${msg}`;
  status.classList.add('error');
  window.deepprobDemoError = msg;
  console.error(e);
});

/**
 * The Bayesian playground page (TensorFlow Playground, Bayesian): the user places 2-D points, the
 * Bayesian MLP of `model.ts` trains live (a few Adam steps per animation frame) on the GPU when
 * the browser has WebGPU (else webgl, wasm), and three heat maps show the predictive with its
 * decision boundary, the aleatoric and the epistemic uncertainty.
 *
 * `window.deepprobPlayground` exposes the backend and the cross-backend probe for the end-to-end
 * test (test/browser/e2e.browser.ts).
 */
import '@tensorflow/tfjs-backend-webgpu';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { ready, describeBackend } from '../../../src/index.js';
import { moons, Playground, probe, type GridMaps, type Point } from './model.js';

/** The test hook. */
export interface PlaygroundApi {
  backend: string;
  probe(steps: number): ReturnType<typeof probe>;
  /** Training steps done so far. */
  steps(): number;
  numTensors(): number;
}

declare global {
  interface Window {
    deepprobPlayground?: PlaygroundApi;
    deepprobPlaygroundError?: string;
    deepprobPlaygroundLoopError?: string;
  }
}

const GRID = 40;
const SAMPLES = 8;
const STEPS_PER_FRAME = 4;

function $<T extends HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (el === null) throw new Error(`#${id} missing`);
  return el as T;
}

/** Paint an `n x n` map on a canvas: `color(v)` gives [r, g, b] for each value. */
function paint(
  canvas: HTMLCanvasElement,
  n: number,
  values: Float32Array,
  color: (v: number) => [number, number, number],
): void {
  const ctx = canvas.getContext('2d');
  if (ctx === null) return;
  const img = ctx.createImageData(n, n);
  for (let i = 0; i < n * n; i++) {
    const [r, g, b] = color(values[i] as number);
    img.data.set([r, g, b, 255], 4 * i);
  }
  const tmp = new OffscreenCanvas(n, n);
  tmp.getContext('2d')?.putImageData(img, 0, 0);
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(tmp, 0, 0, canvas.width, canvas.height);
}

const BLUE: [number, number, number] = [44, 110, 200];
const ORANGE: [number, number, number] = [235, 140, 40];

function mix(
  a: [number, number, number],
  b: [number, number, number],
  t: number,
): [number, number, number] {
  return [0, 1, 2].map((i) => Math.round((a[i] as number) * (1 - t) + (b[i] as number) * t)) as [
    number,
    number,
    number,
  ];
}

/** Light-to-dark purple for an uncertainty in [0, log 2]. */
function heat(v: number): [number, number, number] {
  return mix([250, 250, 252], [70, 20, 110], Math.min(1, Math.max(0, v / Math.LN2)));
}

function drawPoints(canvas: HTMLCanvasElement, points: Point[], boundary?: GridMaps): void {
  const ctx = canvas.getContext('2d');
  if (ctx === null) return;
  const s = canvas.width;
  if (boundary !== undefined) {
    // the decision boundary: cells where p̄ crosses 1/2 against a neighbour
    const n = boundary.n;
    ctx.fillStyle = '#222';
    for (let r = 0; r < n; r++) {
      for (let c = 0; c + 1 < n; c++) {
        const a = (boundary.p1[r * n + c] as number) - 0.5;
        const b = (boundary.p1[r * n + c + 1] as number) - 0.5;
        const d = r + 1 < n ? (boundary.p1[(r + 1) * n + c] as number) - 0.5 : a;
        if (a * b < 0 || a * d < 0)
          ctx.fillRect(((c + 1) * s) / n - 1, ((r + 0.5) * s) / n - 1, 2, 2);
      }
    }
  }
  for (const p of points) {
    ctx.beginPath();
    ctx.arc(((p.x + 1) / 2) * s, ((1 - p.y) / 2) * s, 5, 0, 2 * Math.PI);
    ctx.fillStyle = p.label === 1 ? `rgb(${ORANGE.join(',')})` : `rgb(${BLUE.join(',')})`;
    ctx.fill();
    ctx.strokeStyle = '#fff';
    ctx.stroke();
  }
}

async function start(): Promise<void> {
  const params = new URLSearchParams(location.search);
  setWasmPaths(new URL('./tfjs-wasm/', document.baseURI).href);
  const backendParam = params.get('backend');
  const info = await ready(backendParam !== null ? { backend: backendParam } : {});
  $('status').textContent = describeBackend(info);

  let points: Point[] = moons(24);
  let pg = new Playground();
  let steps = 0;
  const decision = $<HTMLCanvasElement>('pg-decision');
  const aleatoric = $<HTMLCanvasElement>('pg-aleatoric');
  const epistemic = $<HTMLCanvasElement>('pg-epistemic');
  let paused = params.has('paused');

  decision.addEventListener('click', (e) => {
    const box = decision.getBoundingClientRect();
    const x = ((e.clientX - box.left) / box.width) * 2 - 1;
    const y = 1 - ((e.clientY - box.top) / box.height) * 2;
    const chosen =
      (document.querySelector('input[name=cls]:checked') as HTMLInputElement | null)?.value === '1'
        ? 1
        : 0;
    points.push({ x, y, label: (e.shiftKey ? 1 - chosen : chosen) as 0 | 1 });
  });
  $('pg-clear').addEventListener('click', () => (points = []));
  $('pg-moons').addEventListener('click', () => (points = moons(24)));
  $('pg-reset').addEventListener('click', () => {
    pg.dispose();
    pg = new Playground({ seed: Date.now() % 100000 });
    steps = 0;
  });

  window.deepprobPlayground = {
    backend: info.backend,
    probe: async (n) => {
      paused = true;
      try {
        return await probe(n);
      } finally {
        paused = params.has('paused');
      }
    },
    steps: () => steps,
    numTensors: () => tf.memory().numTensors,
  };

  const frame = async (): Promise<void> => {
    try {
      if (!paused && points.length > 0) {
        let last = { loss: NaN };
        for (let i = 0; i < STEPS_PER_FRAME; i++) last = await pg.step(points);
        steps += STEPS_PER_FRAME;
        $('pg-step').textContent = `step ${steps}`;
        $('pg-loss').textContent = `loss ${last.loss.toFixed(3)}`;
        const maps = await pg.grid(GRID, SAMPLES);
        paint(decision, GRID, maps.p1, (v) => mix(BLUE, ORANGE, v));
        paint(aleatoric, GRID, maps.aleatoric, heat);
        paint(epistemic, GRID, maps.epistemic, heat);
        drawPoints(decision, points, maps);
        drawPoints(aleatoric, points);
        drawPoints(epistemic, points);
      }
    } catch (e: unknown) {
      // A failed frame is shown and kept for the end-to-end test; the loop goes on.
      window.deepprobPlaygroundLoopError = e instanceof Error ? e.message : String(e);
      const s = document.getElementById('status');
      if (s !== null) s.textContent = `Error: ${window.deepprobPlaygroundLoopError}`;
    }
    requestAnimationFrame(() => void frame());
  };
  void frame();
}

start().catch((e: unknown) => {
  window.deepprobPlaygroundError = e instanceof Error ? e.message : String(e);
  const s = document.getElementById('status');
  if (s !== null) s.textContent = `Error: ${window.deepprobPlaygroundError}`;
});

/**
 * `npm run bench`: training and MC-prediction throughput of the LeNet workloads on the default
 * Node backend, compared with the PyTorch reference figures of ../shared/anchors.md.
 *
 * Usage: `npx tsx bench/run.ts [--quick] [--impl zoo|self] [--no-stock] [--no-torch] [--out bench/RESULTS.md]`
 *
 * - When Debian's PyTorch is installed (`/usr/bin/python3` with `torch`), the same LeNet-5
 *   workloads run in PyTorch right after ours (`bench/reference/lenet5_torch.py`), so that the
 *   ratio is measured in the same minutes (this machine's throughput moves +-30% over hours).
 *
 * - `--impl zoo` (default) builds the networks with `models.lenet5` / `models.evidentialLenet`
 *   (the library's Bayesian layers); `--impl self` uses the stand-alone tfjs versions in
 *   `bench/workloads.ts` (also used when the zoo fails to build).
 * - The stock comparison (`DEEPPROB_KERNELS=stock`, tfjs kernels only) runs in a child process.
 * - Each figure is the median over several timed steps after warm-up steps.
 */
import * as tf from '@tensorflow/tfjs';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ready } from '../src/index.js';
import { buildWorkload, type Estimator, type Workload } from './workloads.js';
import { buildZooWorkload } from './zoo.js';
import { profileWorkload } from './profile.js';

/** `bench/RESULTS.md` keeps everything from this line on when `npm run bench` rewrites it. */
const HISTORY_MARK = '<!-- history: kept by npm run bench -->';

interface Args {
  quick: boolean;
  torch: boolean;
  impl: 'zoo' | 'self';
  stock: boolean;
  out: string;
  child: boolean;
}

function parseArgs(argv: string[]): Args {
  const a: Args = {
    quick: false,
    torch: true,
    impl: 'zoo',
    stock: true,
    out: 'bench/RESULTS.md',
    child: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i];
    if (v === '--quick') a.quick = true;
    else if (v === '--no-stock') a.stock = false;
    else if (v === '--no-torch') a.torch = false;
    else if (v === '--child') a.child = true;
    else if (v === '--impl') a.impl = argv[++i] === 'self' ? 'self' : 'zoo';
    else if (v === '--out') a.out = argv[++i] ?? a.out;
    else throw new Error(`bench: unknown argument '${v}'`);
  }
  return a;
}

/** One row of the results table. */
interface Row {
  workload: string;
  batch: number;
  msPerStep: number;
  imagesPerSec: number;
  steps: number;
  reference?: [number, number];
  kind: 'train' | 'predict';
}

const REFERENCE: Record<string, [number, number]> = {
  'plain-lenet5@256': [15800, 15800],
  'reparam-lenet5@256': [12400, 16300],
  'local-lenet5@256': [6800, 8300],
  'plain-lenet@64': [3600, 3600],
  'plain-lenet@256': [4500, 4500],
  'evidential-lenet@64': [4100, 4100],
  'mc10-reparam-lenet5@256': [2500, 3200],
  'mc10-local-lenet5@256': [1400, 1400],
};

let peakBytes = 0;
let peakHeap = 0;
let peakRss = 0;
function sampleMemory(): void {
  peakBytes = Math.max(peakBytes, tf.memory().numBytes);
  const be = tf.backend() as unknown as { wasm?: { HEAPU8: Uint8Array } };
  if (be.wasm !== undefined) peakHeap = Math.max(peakHeap, be.wasm.HEAPU8.length);
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 === 1
    ? (s[(n - 1) / 2] as number)
    : ((s[n / 2 - 1] as number) + (s[n / 2] as number)) / 2;
}

function makeBatches(
  batch: number,
  hw: number,
  count: number,
): { x: tf.Tensor4D; y: tf.Tensor2D }[] {
  return Array.from({ length: count }, (_, i) => ({
    x: tf.randomUniform([batch, hw, hw, 1], 0, 1, 'float32', 100 + i) as tf.Tensor4D,
    y: tf
      .oneHot(tf.randomUniform([batch], 0, 10, 'int32', 200 + i) as tf.Tensor1D, 10)
      .toFloat() as tf.Tensor2D,
  }));
}

function build(
  impl: 'zoo' | 'self',
  est: Estimator,
  arch: 'lenet5' | 'evidential' | 'lenet',
): Workload {
  if (impl === 'zoo') {
    try {
      return buildZooWorkload(est, arch);
    } catch (e) {
      console.error(
        `bench: zoo model ${est}-${arch} failed (${String(e)}); using bench/workloads.ts`,
      );
    }
  }
  return buildWorkload(est, arch === 'lenet' ? 'evidential' : arch);
}

function timeTrain(w: Workload, batch: number, warm: number, steps: number): Row {
  const data = makeBatches(batch, 28, 3);
  for (let i = 0; i < warm; i++) {
    const d = data[i % data.length] as { x: tf.Tensor4D; y: tf.Tensor2D };
    w.step(d.x, d.y);
  }
  const ts: number[] = [];
  for (let i = 0; i < steps; i++) {
    const d = data[i % data.length] as { x: tf.Tensor4D; y: tf.Tensor2D };
    const t0 = performance.now();
    w.step(d.x, d.y);
    ts.push(performance.now() - t0);
    sampleMemory();
  }
  for (const d of data) tf.dispose([d.x, d.y]);
  const ms = median(ts);
  return {
    workload: w.name,
    batch,
    msPerStep: ms,
    imagesPerSec: (batch * 1000) / ms,
    steps,
    kind: 'train',
  };
}

function timePredict(w: Workload, batch: number, samples: number, reps: number): Row {
  const [d] = makeBatches(batch, 28, 1);
  const x = (d as { x: tf.Tensor4D }).x;
  w.predict(x, samples).dispose();
  const ts: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    const p = w.predict(x, samples);
    p.dataSync();
    ts.push(performance.now() - t0);
    sampleMemory();
    p.dispose();
  }
  tf.dispose([x, (d as { y: tf.Tensor }).y]);
  const ms = median(ts);
  return {
    workload: `mc${samples}-${w.name}`,
    batch,
    msPerStep: ms,
    imagesPerSec: (batch * 1000) / ms,
    steps: reps,
    kind: 'predict',
  };
}

const NOTES = `
## What the kernel pack does and what limits the next step

- Kernel pack on wasm (src/backend/kernels): Conv2DBackpropFilter and Conv2DBackpropInput as one
  XNNPACK forward convolution each (transposes / flipped filter / zero insertion for strides), and
  the single-input-channel filter gradient (LeNet's conv1 on grayscale) as one SIMD pass over dy;
  BatchMatMul with transposed operands; MaxPool/MaxPoolGrad (2x2), ReLU and its gradient as single
  SIMD passes; softplus/sigmoid and the ReLU/softplus gradients as SIMD passes; a no-copy
  Identity (autodiff clones every saved tensor); depthwise conv gradients; a fused Adam update
  (1 kernel per variable instead of ~14). The stock matmul caches XNNPACK's packed weights by
  buffer id only: the pack copies a right operand seen before under another shape.
- Fused variational kernels (src/backend/fused.ts): the weight sample mu + softplus(rho) * eps, the
  analytic Normal KL and its two gradients, the posterior variance softplus(rho)^2, and the local
  reparameterization output mean + sqrt(var) * eps with in-kernel noise: one kernel each way
  instead of 4-20 small ones (a BBB LeNet-5 step went from ~790 to ~265 kernel calls).
- deepprob's own SIMD wasm module (src/backend/simd/deepprob_simd.c, clang 14, rebuilt by
  \`node scripts/build-simd.mjs\`, embedded as base64) runs these loops in place on the tfjs heap;
  its ziggurat normal generator (4 SIMD streams, bit-identical to the JavaScript fallback) runs
  at ~2.6 ns per draw vs ~11 ns in JavaScript.
- Limits: (1) XNNPACK in wasm is 128-bit SIMD without FMA (~4x fewer flops per cycle than
  PyTorch's AVX2+FMA kernels), and the convolution gradients now take ~70% of a BBB step;
  (2) the filter gradient of multi-channel convolutions still repacks dy as an XNNPACK filter
  every step; (3) our SIMD kernels run on one thread (XNNPACK's pool is not reachable from them);
  (4) per-kernel dispatch in tfjs (~5-20 us) times ~265 kernel calls, ~100 of them autodiff clones;
  (5) on a loaded machine every threaded XNNPACK op waits for its slowest thread: set
  DEEPPROB_WASM_THREADS=1 on shared machines.
`;

/** One row of the PyTorch twin (`bench/reference/lenet5_torch.py`). */
interface TorchRow {
  workload: string;
  batch: number;
  ms: number;
  images_per_s: number;
}

/** Run the PyTorch twin if Debian's PyTorch is there; undefined otherwise. */
function torchTwin(): { rows: TorchRow[]; version: string } | undefined {
  const py = '/usr/bin/python3';
  try {
    const version = execFileSync(py, ['-c', 'import torch; print(torch.__version__)'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    const out = execFileSync(py, ['bench/reference/lenet5_torch.py', '--threads', '2'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      timeout: 300_000,
    });
    const rows = out
      .trim()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as TorchRow);
    for (const r of rows) {
      console.error(`pytorch ${r.workload} batch ${r.batch}: ${fmt(r.images_per_s)} images/s`);
    }
    return { rows, version };
  } catch {
    return undefined;
  }
}

/** The same-run comparison with the PyTorch twin, as a markdown section ('' without PyTorch). */
function torchSection(
  rows: Row[],
  torch: { rows: TorchRow[]; version: string } | undefined,
): string {
  if (torch === undefined || torch.rows.length === 0) return '';
  const lines = [
    `## Same run, same machine: PyTorch ${torch.version} (Debian, 2 threads) vs deepprob`,
    '',
    'Measured right after the table above by `bench/reference/lenet5_torch.py` (the same',
    'LeNet-5 workloads written in PyTorch: synthetic 28x28 inputs, Adam, analytic KL / 60,000).',
    '',
    '| workload | batch | PyTorch images/s | deepprob images/s | ratio |',
    '|---|---|---|---|---|',
  ];
  for (const t of torch.rows) {
    const ours = rows.find((r) => r.workload === t.workload && r.batch === t.batch);
    const ratio = ours === undefined ? '–' : (ours.imagesPerSec / t.images_per_s).toFixed(2);
    const name = t.workload.startsWith('mc10') ? `${t.workload} (MC prediction)` : t.workload;
    lines.push(
      `| ${name} | ${t.batch} | ${fmt(t.images_per_s)} | ${ours === undefined ? '–' : fmt(ours.imagesPerSec)} | ${ratio} |`,
    );
  }
  return lines.join('\n') + '\n\n';
}

function cpuModel(): string {
  try {
    const info = fs.readFileSync('/proc/cpuinfo', 'utf8');
    const m = /model name\s*:\s*(.*)/.exec(info);
    return m?.[1]?.trim() ?? os.cpus()[0]?.model ?? 'unknown';
  } catch {
    return os.cpus()[0]?.model ?? 'unknown';
  }
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const info = await ready();
  const t0 = performance.now();
  const warm = 2;
  const steps = args.quick ? 5 : 9;
  const rows: Row[] = [];
  const plan: { est: Estimator; arch: 'lenet5' | 'evidential' | 'lenet'; batches: number[] }[] =
    args.child
      ? [{ est: 'reparam', arch: 'lenet5', batches: [256] }]
      : [
          { est: 'plain', arch: 'lenet5', batches: args.quick ? [256] : [64, 256] },
          { est: 'reparam', arch: 'lenet5', batches: args.quick ? [256] : [64, 256] },
          { est: 'local', arch: 'lenet5', batches: args.quick ? [256] : [64, 256] },
          { est: 'flipout', arch: 'lenet5', batches: args.quick ? [256] : [64, 256] },
          { est: 'plain', arch: 'lenet', batches: args.quick ? [64] : [64, 256] },
          { est: 'plain', arch: 'evidential', batches: args.quick ? [64] : [64, 256] },
        ];
  for (const p of plan) {
    for (const b of p.batches) {
      const w = build(args.impl, p.est, p.arch);
      const row = timeTrain(w, b, args.child ? 1 : warm, args.child ? 2 : steps);
      row.reference = REFERENCE[`${row.workload}@${b}`];
      rows.push(row);
      console.error(
        `${row.workload} batch ${b}: ${row.msPerStep.toFixed(1)} ms/step, ${fmt(row.imagesPerSec)} images/s`,
      );
      if (
        !args.child &&
        b === 256 &&
        p.arch === 'lenet5' &&
        (p.est === 'reparam' || p.est === 'local')
      ) {
        const pr = timePredict(w, 256, 10, args.quick ? 3 : 5);
        pr.reference = REFERENCE[`${pr.workload}@256`];
        rows.push(pr);
        console.error(
          `${pr.workload} batch 256: ${pr.msPerStep.toFixed(1)} ms, ${fmt(pr.imagesPerSec)} images/s`,
        );
      }
      w.dispose();
    }
  }
  if (args.child) {
    process.stdout.write(JSON.stringify(rows) + '\n');
    return;
  }
  const profile =
    (await profileWorkload('reparam', 256, args.quick ? 2 : 3)) +
    (await profileWorkload('local', 256, args.quick ? 2 : 3));
  let stockRows: Row[] = [];
  if (args.stock) {
    try {
      const tsx = path.join('node_modules', '.bin', 'tsx');
      const out = execFileSync(tsx, ['bench/run.ts', '--child', '--impl', args.impl], {
        env: { ...process.env, DEEPPROB_KERNELS: 'stock' },
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
        timeout: 420_000,
      });
      stockRows = JSON.parse(out.trim().split('\n').pop() ?? '[]') as Row[];
    } catch (e) {
      console.error(`bench: stock run failed: ${String(e)}`);
    }
  }
  const totalS = (performance.now() - t0) / 1000;
  const torch = args.torch ? torchTwin() : undefined;
  const md =
    report(args, info, rows, stockRows, totalS) + torchSection(rows, torch) + profile + NOTES;
  // Everything from the history marker on (earlier runs, notes) survives the rewrite.
  const previous = fs.existsSync(args.out) ? fs.readFileSync(args.out, 'utf8') : '';
  const at = previous.indexOf(HISTORY_MARK);
  const history = at >= 0 ? `\n${previous.slice(at)}` : '';
  const tmp = `${args.out}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, md + history);
  fs.renameSync(tmp, args.out);
  console.log(md);
}

function report(
  args: Args,
  info: Awaited<ReturnType<typeof ready>>,
  rows: Row[],
  stock: Row[],
  totalS: number,
): string {
  const lines: string[] = [];
  const cmd = `npm run bench${args.quick ? ' -- --quick' : ''}${args.impl === 'self' ? ' -- --impl self' : ''}`;
  lines.push('# deepprob benchmark results', '');
  lines.push(`- date: ${new Date().toISOString()}`);
  lines.push(`- command: \`${cmd}\` (${totalS.toFixed(0)} s)`);
  lines.push(
    `- machine: ${os.cpus().length} logical cores (nproc), ${cpuModel()}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, load average at end ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' / ')}`,
  );
  lines.push(
    `- node ${process.version}, tfjs ${tf.version.tfjs}, backend ${info.backend}, kernels ${info.kernels}, ${info.threads} wasm thread(s)`,
  );
  lines.push(
    `- models: ${args.impl === 'zoo' ? 'library model zoo (`models.lenet5`, `models.lenet`, `models.evidentialLenet`)' : 'stand-alone tfjs versions in bench/workloads.ts'}; synthetic 28x28 inputs, Adam, 1 MC sample per step`,
  );
  lines.push(`- figures are medians of ${args.quick ? 5 : 9} timed steps after 2 warm-up steps`);
  lines.push(
    `- peak memory: tfjs ${(peakBytes / 2 ** 20).toFixed(0)} MiB in tensors, wasm heap ${(peakHeap / 2 ** 20).toFixed(0)} MiB, process RSS ${(peakRss / 2 ** 20).toFixed(0)} MiB`,
  );
  lines.push('');
  if ((os.loadavg()[0] ?? 0) > 1.5) {
    lines.push(
      '**Noise warning:** the load average shows other jobs on this machine; absolute throughput',
      'varies a lot run to run under load. Compare ratios within one run.',
      '',
    );
  }
  lines.push('| workload | batch | ms/step | images/s | PyTorch images/s (anchors.md) | ratio |');
  lines.push('|---|---|---|---|---|---|');
  for (const r of rows) {
    const ref = r.reference;
    const refStr =
      ref === undefined ? '–' : ref[0] === ref[1] ? fmt(ref[0]) : `${fmt(ref[0])}–${fmt(ref[1])}`;
    const rf = (v: number): string => (v >= 0.1 ? v.toFixed(2) : v.toPrecision(2));
    const ratio =
      ref === undefined
        ? '–'
        : ref[0] === ref[1]
          ? rf(r.imagesPerSec / ref[0])
          : `${rf(r.imagesPerSec / ref[1])}–${rf(r.imagesPerSec / ref[0])}`;
    const name = r.kind === 'predict' ? `${r.workload} (MC prediction)` : r.workload;
    lines.push(
      `| ${name} | ${r.batch} | ${r.msPerStep.toFixed(1)} | ${fmt(r.imagesPerSec)} | ${refStr} | ${ratio} |`,
    );
  }
  lines.push('');
  if (stock.length > 0) {
    lines.push(
      '## Kernel pack vs stock tfjs kernels (`DEEPPROB_KERNELS=stock`, single-threaded)',
      '',
    );
    lines.push('| workload | batch | stock ms/step | fast ms/step | speed-up |');
    lines.push('|---|---|---|---|---|');
    for (const s of stock) {
      const f = rows.find(
        (r) => r.workload === s.workload && r.batch === s.batch && r.kind === s.kind,
      );
      lines.push(
        `| ${s.workload} | ${s.batch} | ${s.msPerStep.toFixed(0)} | ${f?.msPerStep.toFixed(1) ?? '–'} | ${f === undefined ? '–' : (s.msPerStep / f.msPerStep).toFixed(1) + 'x'} |`,
      );
    }
    lines.push('');
  }
  return lines.join('\n') + '\n';
}

await main();
process.exit(0);

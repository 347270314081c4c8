/**
 * `npm run bench`: throughput, GFLOP/s and peak RSS of every workload of `bench/suite.ts` on each
 * engine path, next to the PyTorch twin (`bench/reference/torch_twin.py`) measured in the same
 * minutes on the same machine, and the ratio to it.
 *
 * Usage: `npx tsx bench/run.ts [--quick] [--paths native,wasm,stock] [--only a,b] [--no-torch]
 *   [--profile] [--backend <name>] [--out bench/RESULTS.md]` (`--only` skips the NUTS section
 *   unless it names `nuts`)
 *
 * - `--backend webgpu` (or any tfjs backend name; also `DEEPPROB_BACKEND`) times the same workloads
 *   on that backend in every child (a software WebGPU adapter is accepted when named; the native
 *   and stock switches only matter on wasm). `bench/gpu/run_on_gpu.sh` runs it on a GPU machine.
 *
 * - Every workload x path runs in its own child process (`--child <name>`), so that each peak RSS
 *   is the workload's own and the path is chosen by environment: `native` = the default Node path
 *   (the native addon for matmul/conv when built), `wasm` = `DEEPPROB_NATIVE=0` (the path of
 *   browsers and machines without a compiler), `stock` = `DEEPPROB_KERNELS=stock` (tfjs kernels).
 * - The PyTorch twin runs each workload right after ours, also in its own process. First it
 *   reports the BLAS library torch really loaded (from /proc/self/maps) and its SGEMM rate: on
 *   the netlib reference BLAS (or no known optimised BLAS) no ratio is printed, because Debian's
 *   python3-torch is 2-27x slower there than on OpenBLAS (`apt-get install libopenblas0-pthread`).
 * - GFLOP/s are FLOPs per image (counted from the layer list, see suite.ts) x images/s, next to
 *   the machine's peak for each instruction set (cores x GHz x FLOPs per cycle).
 * - Each figure is the median over timed steps after warm-up steps; the load average at each row
 *   is printed, because this machine is shared and its throughput moves by 2x under load.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { describeBackend, ready } from '../src/index.js';
import { SUITE, buildStepper, type SuiteEntry } from './suite.js';
import { profileWorkload } from './profile.js';
import { nutsSection } from './nuts.js';

type PathName = 'native' | 'wasm' | 'stock';

/** `bench/RESULTS.md` keeps everything from this line on when `npm run bench` rewrites it. */
const HISTORY_MARK = '<!-- history: kept by npm run bench -->';

interface Args {
  quick: boolean;
  torch: boolean;
  paths: PathName[];
  only: string[] | undefined;
  profile: boolean;
  out: string;
  child: string | undefined;
  backend?: string;
}

function parseArgs(argv: string[]): Args {
  const a: Args = {
    quick: false,
    torch: true,
    paths: ['native', 'wasm'],
    only: undefined,
    profile: false,
    out: 'bench/RESULTS.md',
    child: undefined,
  };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i];
    if (v === '--quick') a.quick = true;
    else if (v === '--no-torch') a.torch = false;
    else if (v === '--profile') a.profile = true;
    else if (v === '--child') a.child = argv[++i];
    else if (v === '--out') a.out = argv[++i] ?? a.out;
    else if (v === '--only') a.only = (argv[++i] ?? '').split(',');
    else if (v === '--backend') {
      const b = argv[++i];
      if (b === undefined || b === '') throw new Error("bench: '--backend' needs a backend name");
      a.backend = b;
    } else if (v === '--paths') {
      const ps = (argv[++i] ?? '').split(',');
      for (const p of ps) {
        if (p !== 'native' && p !== 'wasm' && p !== 'stock') {
          throw new Error(`bench: --paths takes native, wasm, stock; got '${p}'`);
        }
      }
      a.paths = ps as PathName[];
    } else throw new Error(`bench: unknown argument '${v}'`);
  }
  if (a.only !== undefined) {
    for (const n of a.only) {
      if (!SUITE.some((e) => e.name === n)) {
        throw new Error(
          `bench: --only: unknown workload '${n}' (${SUITE.map((e) => e.name).join(', ')})`,
        );
      }
    }
  }
  return a;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 === 1
    ? (s[(n - 1) / 2] as number)
    : ((s[n / 2 - 1] as number) + (s[n / 2] as number)) / 2;
}

/** What a child reports. */
interface ChildResult {
  ms: number;
  imagesPerSec: number;
  maxRssMiB: number;
  engine: string;
}

async function runChild(name: string, quick: boolean): Promise<void> {
  const info = await ready();
  const e = SUITE.find((s) => s.name === name);
  if (e === undefined) throw new Error(`bench: unknown workload ${name}`);
  const s = buildStepper(e);
  const { warm, steps } = stepCounts(e, quick);
  for (let i = 0; i < warm; i++) s.step();
  const ts: number[] = [];
  for (let i = 0; i < steps; i++) {
    const t0 = performance.now();
    s.step();
    ts.push(performance.now() - t0);
  }
  s.dispose();
  const ms = median(ts);
  const r: ChildResult = {
    ms,
    imagesPerSec: (e.batch * 1000) / ms,
    maxRssMiB: process.resourceUsage().maxRSS / 1024,
    engine: describeBackend(info).replace(/^deepprob: /, ''),
  };
  process.stdout.write(JSON.stringify(r) + '\n');
}

const PATH_ENV: Record<PathName, Record<string, string>> = {
  native: {},
  wasm: { DEEPPROB_NATIVE: '0' },
  stock: { DEEPPROB_NATIVE: '0', DEEPPROB_KERNELS: 'stock' },
};

function spawnChild(name: string, p: PathName, quick: boolean): ChildResult | undefined {
  try {
    const tsx = path.join('node_modules', '.bin', 'tsx');
    const out = execFileSync(
      tsx,
      ['bench/run.ts', '--child', name, ...(quick ? ['--quick'] : [])],
      {
        env: { ...process.env, ...PATH_ENV[p] },
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
        timeout: 600_000,
      },
    );
    return JSON.parse(out.trim().split('\n').pop() ?? '') as ChildResult;
  } catch (e) {
    console.error(`bench: ${name} on ${p} failed: ${String(e)}`);
    return undefined;
  }
}

/** The PyTorch twin's BLAS report. */
interface TorchInfo {
  torch: string;
  blas: string[];
  blas_kind: string;
  sgemm_gflops: number;
  mkldnn: boolean;
  threads: number;
}

interface TorchRow {
  ms: number;
  images_per_s: number;
  max_rss_mib: number;
}

const PY = '/usr/bin/python3';
const TWIN = 'bench/reference/torch_twin.py';

function torchInfo(): TorchInfo | undefined {
  try {
    const out = execFileSync(PY, [TWIN, '--info', '--threads', '2'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 120_000,
    });
    return JSON.parse(out.trim()) as TorchInfo;
  } catch {
    return undefined;
  }
}

/**
 * Warm-up and timed steps of a workload, the same for deepprob's children and the PyTorch twin:
 * 5 warm-up and 30 timed steps for the light (MNIST) training workloads, 2 and 10 for the CIFAR
 * networks and MC prediction (fewer with `--quick`). The medians of the 9 / 3 steps used before
 * moved PyTorch's figures by up to 60 % between idle runs.
 */
function stepCounts(e: SuiteEntry, quick: boolean): { warm: number; steps: number } {
  const heavy = e.family === 'cifar' || e.kind === 'predict';
  if (quick) return { warm: heavy ? 1 : 2, steps: heavy ? 3 : 5 };
  return { warm: heavy ? 2 : 5, steps: heavy ? 10 : 30 };
}

function torchRow(e: SuiteEntry, quick: boolean): TorchRow | undefined {
  const { warm, steps } = stepCounts(e, quick);
  try {
    const out = execFileSync(
      PY,
      [
        TWIN,
        '--workload',
        e.name,
        '--batch',
        String(e.batch),
        '--threads',
        '2',
        '--steps',
        String(steps),
        '--warm',
        String(warm),
      ],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 600_000 },
    );
    return JSON.parse(out.trim().split('\n').pop() ?? '') as TorchRow;
  } catch (err) {
    console.error(`bench: PyTorch twin ${e.name} failed: ${String(err)}`);
    return undefined;
  }
}

/**
 * Why ratios against this PyTorch must not be printed, or undefined when they may: the library
 * torch loaded is the netlib reference BLAS, or no known optimised BLAS (OpenBLAS, MKL, BLIS).
 * The SGEMM rate is printed beside, but not used to refuse: on a loaded machine OpenBLAS itself
 * measures low.
 */
function ratioRefusal(t: TorchInfo | undefined): string | undefined {
  if (t === undefined) return 'PyTorch (Debian python3-torch, /usr/bin/python3) is not installed';
  if (t.blas_kind === 'reference' || t.blas_kind === 'unknown') {
    return (
      `PyTorch runs on ${t.blas_kind === 'reference' ? 'the netlib reference BLAS' : 'no known optimised BLAS'} ` +
      `(${t.blas.join(', ') || 'none found'}; SGEMM ${t.sgemm_gflops} GFLOP/s): ratios against it would ` +
      'flatter deepprob 2-27x. Install OpenBLAS (`apt-get install libopenblas0-pthread`) and rerun'
    );
  }
  return undefined;
}

function cpuModel(): string {
  try {
    const m = /model name\s*:\s*(.*)/.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'));
    return m?.[1]?.trim() ?? os.cpus()[0]?.model ?? 'unknown';
  } catch {
    return os.cpus()[0]?.model ?? 'unknown';
  }
}

/** Peak GFLOP/s of this machine per instruction set: cores x GHz x FLOPs per cycle per core. */
function peaks(): { ghz: number; cores: number; rows: [string, number][] } {
  const model = cpuModel();
  const nominal = /@\s*([\d.]+)\s*GHz/i.exec(model);
  let mhz = 0;
  try {
    mhz = Number(/cpu MHz\s*:\s*([\d.]+)/.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 0);
  } catch {
    // not Linux
  }
  if (!(mhz > 0)) mhz = os.cpus()[0]?.speed ?? 0;
  const ghz = nominal !== null ? Number(nominal[1]) : mhz > 0 ? mhz / 1000 : 2.6;
  const cores = os.availableParallelism();
  let flags = '';
  try {
    flags = /flags\s*:\s*(.*)/.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? '';
  } catch {
    // not Linux: flags unknown
  }
  const has = (f: string): boolean => new RegExp(`\\b${f}\\b`).test(flags);
  const rows: [string, number][] = [];
  // two FMA ports: 2 x lanes x 2 FLOPs per cycle; wasm SIMD without FMA: 2 ports x 4 lanes
  if (has('avx512f')) rows.push(['AVX-512 FMA (native path)', cores * ghz * 2 * 16 * 2]);
  if (has('avx2') && has('fma')) rows.push(['AVX2 FMA', cores * ghz * 2 * 8 * 2]);
  rows.push(['wasm SIMD128, no FMA (wasm path)', cores * ghz * 2 * 4]);
  rows.push(['wasm SIMD128 with relaxed-SIMD FMA', cores * ghz * 2 * 4 * 2]);
  return { ghz, cores, rows };
}

function fmt(n: number | undefined): string {
  return n === undefined ? '–' : Math.round(n).toLocaleString('en-US');
}

function gflops(e: SuiteEntry, ips: number | undefined): string {
  return ips === undefined ? '–' : ((e.flopsPerImage * ips) / 1e9).toFixed(1);
}

interface Row {
  e: SuiteEntry;
  paths: Partial<Record<PathName, ChildResult>>;
  torch: TorchRow | undefined;
  load: number;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (args.backend !== undefined) process.env['DEEPPROB_BACKEND'] = args.backend;
  if (args.child !== undefined) {
    await runChild(args.child, args.quick);
    return;
  }
  const t0 = performance.now();
  const startLoad = os.loadavg();
  const tinfo = args.torch ? torchInfo() : undefined;
  const refusal = args.torch ? ratioRefusal(tinfo) : 'PyTorch twin not run (--no-torch)';
  if (tinfo !== undefined) {
    console.error(
      `pytorch ${tinfo.torch}: BLAS ${tinfo.blas_kind} (${tinfo.blas.join(', ')}), SGEMM ${tinfo.sgemm_gflops} GFLOP/s, ${tinfo.threads} threads`,
    );
  }
  if (refusal !== undefined) console.error(`bench: no ratios: ${refusal}`);
  const rows: Row[] = [];
  const entries = SUITE.filter((e) => args.only === undefined || args.only.includes(e.name));
  for (const e of entries) {
    const row: Row = { e, paths: {}, torch: undefined, load: os.loadavg()[0] ?? 0 };
    for (const p of args.paths) {
      const r = spawnChild(e.name, p, args.quick);
      if (r !== undefined) {
        row.paths[p] = r;
        console.error(
          `${e.name} b${e.batch} ${p}: ${r.ms.toFixed(1)} ms, ${fmt(r.imagesPerSec)} images/s, ${r.maxRssMiB.toFixed(0)} MiB (${r.engine})`,
        );
      }
    }
    if (tinfo !== undefined) {
      row.torch = torchRow(e, args.quick);
      if (row.torch !== undefined) {
        console.error(
          `${e.name} b${e.batch} pytorch: ${row.torch.ms.toFixed(1)} ms, ${fmt(row.torch.images_per_s)} images/s, ${row.torch.max_rss_mib} MiB`,
        );
      }
    }
    rows.push(row);
  }
  const engines = [
    ...new Set(rows.flatMap((r) => Object.entries(r.paths).map(([p, c]) => `${p}: ${c.engine}`))),
  ];
  let profile = '';
  if (args.profile) {
    await ready();
    profile =
      (await profileWorkload('reparam', 256, args.quick ? 2 : 3)) +
      (await profileWorkload('local', 256, args.quick ? 2 : 3));
  }
  // the NUTS section runs in a full bench, or with `--only` when `nuts` is named
  const nuts = args.only === undefined || args.only.includes('nuts') ? nutsSection(args.quick) : '';
  const md =
    report(args, rows, tinfo, refusal, engines, startLoad, (performance.now() - t0) / 1000) +
    nuts +
    profile;
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
  rows: Row[],
  tinfo: TorchInfo | undefined,
  refusal: string | undefined,
  engines: string[],
  startLoad: number[],
  totalS: number,
): string {
  const pk = peaks();
  const L: string[] = [];
  const flags = [
    args.quick ? '--quick' : '',
    args.paths.join(',') !== 'native,wasm' ? `--paths ${args.paths.join(',')}` : '',
    args.only !== undefined ? `--only ${args.only.join(',')}` : '',
  ].filter((s) => s !== '');
  L.push('# deepprob benchmark results', '');
  L.push(`- date: ${new Date().toISOString()}`);
  L.push(
    `- command: \`npm run bench${flags.length > 0 ? ' -- ' + flags.join(' ') : ''}\` (${totalS.toFixed(0)} s)`,
  );
  L.push(
    `- machine: ${os.availableParallelism()} logical cores, ${cpuModel()}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM; load average (1/5/15 min) at start ${startLoad.map((l) => l.toFixed(1)).join(' / ')}, at end ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' / ')}`,
  );
  L.push(
    `- node ${process.version}, tfjs ${tf.version.tfjs}; engine per path: ${engines.join('; ') || '–'}`,
  );
  if (tinfo !== undefined) {
    L.push(
      `- PyTorch twin: torch ${tinfo.torch} (Debian), ${tinfo.threads} threads, BLAS **${tinfo.blas_kind}** (${tinfo.blas.join(', ')}), SGEMM 128x784 @ 784x1024 **${tinfo.sgemm_gflops} GFLOP/s**, oneDNN ${tinfo.mkldnn ? 'on' : 'off'}`,
    );
  }
  L.push(
    `- peak GFLOP/s of this machine (${pk.cores} cores x ${pk.ghz.toFixed(2)} GHz): ${pk.rows.map(([k, v]) => `${k} ${v.toFixed(0)}`).join('; ')}`,
  );
  L.push(
    '- each figure is the median of timed steps after warm-up steps, each workload x path in its own process',
  );
  L.push('');
  if (refusal !== undefined) L.push(`**No ratios:** ${refusal}.`, '');
  if ((os.loadavg()[0] ?? 0) > 1.5 || (startLoad[0] ?? 0) > 1.5) {
    L.push(
      '**Noise warning:** the load average shows other jobs on this machine (2 cores); absolute',
      'figures move by 2x or more under load. Compare ratios within one row (measured minutes apart).',
      '',
    );
  }
  const ps = args.paths;
  const head = [
    'workload',
    'batch',
    ...ps.map((p) => `${p} images/s`),
    'PyTorch images/s',
    ...ps.map((p) => `ratio ${p}`),
    ...ps.map((p) => `GFLOP/s ${p}`),
    'GFLOP/s PyTorch',
    `peak RSS MiB ${ps[0] ?? ''}`,
    'peak RSS MiB PyTorch',
    'load',
  ];
  L.push(`| ${head.join(' | ')} |`);
  L.push(`|${head.map(() => '---').join('|')}|`);
  for (const r of rows) {
    const t = r.torch?.images_per_s;
    const name = r.e.kind === 'predict' ? `${r.e.name} (MC prediction)` : r.e.name;
    const ratio = (v: number | undefined): string =>
      refusal !== undefined || v === undefined || t === undefined ? '–' : (v / t).toFixed(2);
    const first = ps[0] !== undefined ? r.paths[ps[0]] : undefined;
    L.push(
      `| ${[
        name,
        String(r.e.batch),
        ...ps.map((p) => fmt(r.paths[p]?.imagesPerSec)),
        fmt(t),
        ...ps.map((p) => ratio(r.paths[p]?.imagesPerSec)),
        ...ps.map((p) => gflops(r.e, r.paths[p]?.imagesPerSec)),
        gflops(r.e, t),
        first === undefined ? '–' : first.maxRssMiB.toFixed(0),
        r.torch === undefined ? '–' : String(r.torch.max_rss_mib),
        r.load.toFixed(1),
      ].join(' | ')} |`,
    );
  }
  L.push('');
  L.push(
    'FLOPs per image are counted from the layer lists (bench/suite.ts): a training step as 3x the',
    'forward pass (2x that for local reparameterization and Flipout), MC prediction as 10 forward',
    'passes; GFLOP/s = FLOPs per image x images/s. Workloads: LeNet-5 28x28x1 (conv 6/16, fc',
    '120/84/10); LeNet conv 20/50 + fc 500 (the evidential LeNet adds dropout 0.5 and the Sensoy',
    'loss); BayesianCNN AlexNet and 3Conv3FC on 32x32x3 with softplus; the MindSpore VAE',
    '1024-800-400-20; the Pyro-seed BNN 784-1024-10 as Bayes-by-Backprop dense layers.',
    '',
  );
  return L.join('\n') + '\n';
}

await main();
process.exit(0);

/**
 * NUTS throughput on eight schools (non-centred, HalfCauchy(5) on tau; 1 chain, 1,000 warmup +
 * 1,000 draws, warmup included), against Pyro 1.8.6's NUTS on the same model: 133 draws/s on this
 * kind of 2-core machine (1 thread, ../shared/anchors.md).
 *
 * Usage:
 * - `npx tsx bench/nuts.ts` runs on the `cpu` and the default Node backend (one child process each,
 *   so each starts with its backend) and prints a markdown section;
 * - `npx tsx bench/nuts.ts --child` runs once on `DEEPPROB_BACKEND` (or the default) and prints
 *   one JSON line. `--quick`: 500 + 500 iterations.
 *
 * Reported per backend: draws/s, gradient evaluations, ms per gradient evaluation, the share of time
 * in the potential (tfjs forward + backward) vs host-side tree building, the kernel calls of one
 * gradient evaluation (`tf.profile`), the posterior of mu/tau and the divergences.
 */
import * as tf from '@tensorflow/tfjs';
import { execFileSync } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';
import { ready, distributions as D, ppl } from '../src/index.js';
import {
  MCMC,
  Metric,
  NUTS,
  ModelPotential,
  compilePotential,
  drive,
  leapfrog,
  type PhasePoint,
} from '../src/ppl/mcmc/index.js';

/** Pyro 1.8.6 NUTS on this model (anchors.md). */
export const PYRO_DRAWS_PER_S = 133;

/** One backend's figures. */
export interface NutsBenchResult {
  backend: string;
  iterations: number;
  seconds: number;
  drawsPerSec: number;
  /** CPU time of the process during the run (all threads), seconds. */
  cpuSeconds: number;
  /** Draws per CPU-second: the throughput of an idle core when the machine is shared. */
  drawsPerCpuSec: number;
  gradientEvaluations: number;
  msPerGradient: number;
  potentialShare: number;
  kernelsPerGradient: number;
  kernelCounts: Record<string, number>;
  /** Whether the chain ran on the recorded, replayed potential (`compile`). */
  compiled: boolean;
  /** Replay steps (forward kernels) of the recorded potential. */
  replaySteps: number;
  /** Microseconds (CPU) of one replayed `U`, `dU/dz` at a typical point. */
  replayMicros: number;
  /** Microseconds (CPU) of one leapfrog step on the replayed potential (gradient included). */
  leapfrogMicros: number;
  /** Microseconds (CPU) per gradient evaluation of the whole run (tree building included). */
  runMicrosPerGradient: number;
  mu: [number, number];
  tau: [number, number];
  divergences: number;
  stepSize: number;
  meanTreeDepth: number;
}

const Y = [28, 8, -3, 7, -1, 1, 18, 12];
const SIGMA = [15, 10, 16, 11, 9, 11, 10, 18];

/** Eight schools, non-centred, as in Pyro's and NumPyro's examples. */
export function eightSchoolsModel(): { model: () => void; dispose: () => void } {
  const y = tf.tensor1d(Y);
  const sigma = tf.tensor1d(SIGMA);
  const model = (): void => {
    const mu = ppl.sample('mu', new D.Normal(0, 5));
    const tau = ppl.sample('tau', new D.HalfCauchy(5));
    ppl.plate('J', 8, () => {
      const thetaTilde = ppl.sample('theta_tilde', new D.Normal(0, 1));
      const theta = ppl.deterministic('theta', tf.add(mu, tf.mul(tau, thetaTilde)));
      ppl.sample('obs', new D.Normal(theta, sigma), { obs: y });
    });
  };
  return { model, dispose: () => tf.dispose([y, sigma]) };
}

function meanSd(t: tf.Tensor): [number, number] {
  const v = t.dataSync();
  let m = 0;
  for (const x of v) m += x;
  m /= v.length;
  let s = 0;
  for (const x of v) s += (x - m) ** 2;
  return [m, Math.sqrt(s / (v.length - 1))];
}

/** Run the benchmark once on the current backend. */
export async function benchNuts(quick = false): Promise<NutsBenchResult> {
  const info = await ready();
  const n = quick ? 500 : 1000;
  const { model, dispose } = eightSchoolsModel();
  const mcmc = new MCMC(new NUTS(model), {
    numSamples: n,
    warmupSteps: n,
    seed: 0,
    progressBar: false,
  });
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  await mcmc.run();
  const seconds = (performance.now() - t0) / 1000;
  const cu = process.cpuUsage(c0);
  const cpuSeconds = (cu.user + cu.system) / 1e6;
  const st = mcmc.getExtraFields()[0];
  if (st === undefined) throw new Error('bench/nuts: no chain statistics');
  const samples = mcmc.getSamples();
  const mu = meanSd(samples.mu as tf.Tensor);
  const tau = meanSd(samples.tau as tf.Tensor);
  tf.dispose(Object.values(samples));
  // kernel calls of one gradient evaluation at a typical point
  const pot = new ModelPotential(model, [], mcmc.latentSites);
  const z = new Float64Array(pot.dim).fill(0.1);
  pot.valueAndGrad(z);
  const prof = await tf.profile(() => {
    pot.valueAndGrad(z);
  });
  const kernelCounts: Record<string, number> = {};
  for (const k of prof.kernels) kernelCounts[k.name] = (kernelCounts[k.name] ?? 0) + 1;
  // the leapfrog step on the replayed potential, timed in CPU microseconds
  const cpuMicros = (reps: number, f: () => void): number => {
    const c = process.cpuUsage();
    for (let i = 0; i < reps; i++) f();
    const u = process.cpuUsage(c);
    return (u.user + u.system) / reps;
  };
  const compiled = compilePotential(pot as ModelPotential<unknown[]>, z);
  let replaySteps = 0;
  let replayMicros = NaN;
  let leapfrogMicros = NaN;
  if ('potential' in compiled) {
    const cp = compiled.potential;
    replaySteps = cp.steps;
    replayMicros = cpuMicros(20000, () => cp.valueAndGrad(z));
    const metric = new Metric(pot.dim, 'diag');
    const start = cp.valueAndGrad(z);
    let point: PhasePoint = {
      q: z.slice(),
      p: new Float64Array(pot.dim).fill(0.3),
      potential: start.value,
      grad: start.grad,
    };
    leapfrogMicros = cpuMicros(20000, () => {
      point = drive(leapfrog(point, 0.01, metric), cp);
    });
  }
  dispose();
  return {
    backend: info.backend,
    iterations: 2 * n,
    seconds,
    drawsPerSec: (2 * n) / seconds,
    cpuSeconds,
    drawsPerCpuSec: (2 * n) / cpuSeconds,
    gradientEvaluations: st.gradientEvaluations,
    msPerGradient: st.potentialMilliseconds / st.gradientEvaluations,
    potentialShare: st.potentialMilliseconds / st.milliseconds,
    kernelsPerGradient: prof.kernels.length,
    kernelCounts,
    compiled: st.compiled,
    replaySteps,
    replayMicros,
    leapfrogMicros,
    runMicrosPerGradient: (1e6 * cpuSeconds) / st.gradientEvaluations,
    mu,
    tau,
    divergences: mcmc.numDivergences,
    stepSize: st.stepSize[0] ?? NaN,
    meanTreeDepth: st.treeDepth.reduce((a, b) => a + b, 0) / st.treeDepth.length,
  };
}

/** Run on each backend in a child process and format a markdown section. */
export function nutsSection(quick = false, backends = ['cpu', 'wasm']): string {
  const results: NutsBenchResult[] = [];
  for (const b of backends) {
    try {
      const out = execFileSync(
        path.join('node_modules', '.bin', 'tsx'),
        ['bench/nuts.ts', '--child', ...(quick ? ['--quick'] : [])],
        {
          env: { ...process.env, DEEPPROB_BACKEND: b },
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'inherit'],
          timeout: 600_000,
        },
      );
      results.push(JSON.parse(out.trim().split('\n').pop() ?? '{}') as NutsBenchResult);
    } catch (e) {
      console.error(`bench/nuts: ${b} run failed: ${String(e)}`);
    }
  }
  const f = (v: number, d = 0): string => v.toFixed(d);
  const lines = [
    '## NUTS: eight schools (non-centred), 1 chain, warmup included',
    '',
    `\`bench/nuts.ts\`, ${results[0]?.iterations ?? 0} iterations (half warmup), seed 0, default NUTS options (diag mass, target accept 0.8, max tree depth 10). Pyro 1.8.6 on torch 1.13, 1 thread: **${PYRO_DRAWS_PER_S} draws/s** (anchors.md; not re-run here, no PyTorch/Pyro on this machine). Load average at end: ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' / ')} (other jobs share this machine: compare rows of one run).`,
    '',
    'Wall-clock draws/s depend on how many other jobs share the 2 cores; draws per CPU-second (user + system time of the process, all threads) is what one idle core would give and is the fairer comparison with the anchor, measured on an idle machine.',
    '',
    '| backend | potential | draws/s (wall) | draws per CPU-s | vs Pyro (per CPU-s) | gradient evals | ms / gradient (wall) | time in potential | step size | mean tree depth | divergences | mu mean ± sd | tau mean ± sd |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of results) {
    lines.push(
      `| ${r.backend} | ${r.compiled ? `replayed (${r.replaySteps} steps)` : `tfjs (${r.kernelsPerGradient} kernels)`} | ${f(r.drawsPerSec, 1)} | ${f(r.drawsPerCpuSec, 1)} | ${(r.drawsPerCpuSec / PYRO_DRAWS_PER_S).toFixed(2)}x | ${r.gradientEvaluations} | ${r.msPerGradient.toFixed(3)} | ${f(100 * r.potentialShare)} % | ${r.stepSize.toPrecision(3)} | ${r.meanTreeDepth.toFixed(2)} | ${r.divergences} | ${f(r.mu[0], 2)} ± ${f(r.mu[1], 2)} | ${f(r.tau[0], 2)} ± ${f(r.tau[1], 2)} |`,
    );
  }
  const r0 = results[0];
  if (r0 !== undefined && r0.compiled) {
    lines.push(
      '',
      `Leapfrog step profile (${r0.backend}, CPU microseconds, measured after the run at a typical point): one replayed \`U, dU/dz\` ${r0.replayMicros.toFixed(1)} µs (${r0.replaySteps} forward steps + their backward), one leapfrog step including it ${r0.leapfrogMicros.toFixed(1)} µs, the whole run ${r0.runMicrosPerGradient.toFixed(1)} µs per gradient evaluation (tree building, adaptation, storing draws, setup and recording included).`,
    );
  }
  const k = results[0]?.kernelCounts;
  if (k !== undefined) {
    lines.push(
      '',
      `Kernel calls of one gradient evaluation on the tfjs path (\`compile: false\`; forward + backward, ${results[0]?.backend}): ` +
        Object.entries(k)
          .sort((a, b) => b[1] - a[1])
          .map(([name, c]) => `${name} ${c}`)
          .join(', ') +
        '.',
    );
  }
  return lines.join('\n') + '\n\n';
}

const isMain =
  process.argv[1] !== undefined &&
  path.resolve(process.argv[1]).endsWith(path.join('bench', 'nuts.ts'));
if (isMain) {
  const argv = process.argv.slice(2);
  const quick = argv.includes('--quick');
  if (argv.includes('--child')) {
    const r = await benchNuts(quick);
    console.error(
      `nuts eight schools [${r.backend}${r.compiled ? ', replayed' : ''}]: ${r.drawsPerSec.toFixed(1)} draws/s (${r.drawsPerCpuSec.toFixed(1)} per CPU-s), ${r.msPerGradient.toFixed(3)} ms/gradient, replay ${r.replayMicros.toFixed(1)} µs, leapfrog ${r.leapfrogMicros.toFixed(1)} µs, run ${r.runMicrosPerGradient.toFixed(1)} µs per gradient`,
    );
    process.stdout.write(JSON.stringify(r) + '\n');
  } else {
    console.log(nutsSection(quick));
  }
}

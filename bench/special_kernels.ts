/**
 * Kernels and milliseconds per call of the special functions and of the families built on them:
 * `npx tsx bench/special_kernels.ts [reps]`. Rows: `lgamma`/`digamma` on 1,000 points (forward
 * and value + gradient), `Beta`/`Gamma`/`Dirichlet` `logProb` of a batch of 1,000 (forward and
 * value + gradient in the parameters), and 200 SVI steps of the Beta-Bernoulli coin model (Pyro's
 * SVI tutorial: a `Beta(10, 10)` prior, a `Beta` guide) beside the same model with a `Uniform`
 * prior. Kernels are counted by `tf.profile`; times are the minimum and the median of the calls,
 * and the faster of two runs of the 200 steps.
 */
import * as tf from '@tensorflow/tfjs';
import { distributions as D, ppl, ready } from '../src/index.js';
import { digamma, lgamma } from '../src/distributions/special.js';
import { setSeed } from '../src/utils/seed.js';

const reps = Number(process.argv[2] ?? 20);

async function kernels(f: () => void): Promise<number> {
  const p = await tf.profile(() => {
    f();
  });
  return p.kernels.length;
}

/** Minimum and median milliseconds of `n` calls (the minimum is the robust one on a loaded machine). */
function msPer(f: () => void, n: number): [number, number] {
  f();
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    f();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return [times[0] as number, times[Math.floor(times.length / 2)] as number];
}

async function row(name: string, f: () => tf.Tensor | tf.Tensor[]): Promise<string> {
  const run = (): void => {
    const out = f();
    const first = Array.isArray(out) ? (out[0] as tf.Tensor) : out;
    first.dataSync();
    tf.dispose(out);
  };
  const k = await kernels(run);
  const [min, median] = msPer(run, reps);
  return `| ${name} | ${k} | ${min.toFixed(2)} | ${median.toFixed(2)} |`;
}

function valueAndGrads(f: (...xs: tf.Tensor[]) => tf.Tensor, ...xs: tf.Tensor[]): tf.Tensor[] {
  const { value, grads } = tf.valueAndGrads((...ys: tf.Tensor[]) => tf.sum(f(...ys)))(xs);
  return [value, ...grads];
}

async function main(): Promise<void> {
  const info = await ready();
  const x = tf.randomUniform([1000], 0.01, 30, 'float32', 1);
  const a = tf.randomUniform([1000], 0.5, 20, 'float32', 2);
  const b = tf.randomUniform([1000], 0.5, 20, 'float32', 3);
  const u = tf.randomUniform([1000], 0.01, 0.99, 'float32', 4);
  const al = tf.randomUniform([1000, 3], 0.5, 20, 'float32', 5);
  const simplex = tf.div(al, tf.sum(al, -1, true));
  const lines = [
    `backend ${info.backend}; ${reps} calls; kernels from tf.profile`,
    '',
    '| call | kernels | ms (min) | ms (median) |',
    '| --- | --- | --- | --- |',
  ];
  lines.push(await row('lgamma [1000]', () => lgamma(x)));
  lines.push(await row('digamma [1000]', () => digamma(x)));
  lines.push(await row('lgamma [1000] value + grad', () => valueAndGrads(lgamma, x)));
  lines.push(await row('digamma [1000] value + grad', () => valueAndGrads(digamma, x)));
  const beta = (p: tf.Tensor, q: tf.Tensor): tf.Tensor => new D.Beta(p, q).logProb(u);
  const gamma = (p: tf.Tensor, q: tf.Tensor): tf.Tensor => new D.Gamma(p, q).logProb(x);
  const dir = (p: tf.Tensor): tf.Tensor => new D.Dirichlet(p).logProb(simplex);
  lines.push(await row('Beta.logProb [1000]', () => beta(a, b)));
  lines.push(await row('Beta.logProb [1000] value + grad', () => valueAndGrads(beta, a, b)));
  lines.push(await row('Gamma.logProb [1000]', () => gamma(a, b)));
  lines.push(await row('Gamma.logProb [1000] value + grad', () => valueAndGrads(gamma, a, b)));
  lines.push(await row('Dirichlet.logProb [1000, 3]', () => dir(al)));
  lines.push(await row('Dirichlet.logProb [1000, 3] value + grad', () => valueAndGrads(dir, al)));
  lines.push(await row('Beta.entropy [1000]', () => new D.Beta(a, b).entropy()));
  lines.push('');
  for (const prior of ['Beta', 'Uniform'] as const) lines.push(await svi(prior));
  console.log(lines.join('\n'));
  tf.dispose([x, a, b, u, al, simplex]);
}

/** 200 SVI steps of the coin model with a Beta (or Uniform) prior and a Beta guide. */
async function svi(prior: 'Beta' | 'Uniform'): Promise<string> {
  setSeed(0);
  ppl.clearParamStore();
  const data = tf.tensor1d([1, 1, 1, 1, 1, 1, 0, 0, 0, 0]);
  const model = (): void => {
    const f = ppl.sample(
      'f',
      prior === 'Beta' ? new D.Beta(10, 10) : new D.Uniform(1e-3, 1 - 1e-3),
    );
    ppl.plate('data', 10, () => ppl.sample('obs', new D.Bernoulli({ probs: f }), { obs: data }));
  };
  const guide = (): void => {
    const p = ppl.param('alpha_q', 15, { constraint: ppl.constraints.positive });
    const q = ppl.param('beta_q', 15, { constraint: ppl.constraints.positive });
    ppl.sample('f', new D.Beta(p, q));
  };
  const opt = tf.train.adam(5e-4);
  const s = new ppl.SVI(model, guide, opt, new ppl.TraceELBO());
  s.step();
  const k = await kernels(() => {
    s.step();
  });
  let ms = Infinity;
  for (let r = 0; r < 2; r++) {
    const t0 = performance.now();
    for (let i = 0; i < 200; i++) s.step();
    ms = Math.min(ms, performance.now() - t0);
  }
  opt.dispose();
  data.dispose();
  ppl.clearParamStore();
  return `SVI coin model, ${prior} prior, Beta guide: ${k} kernels per step, 200 steps ${ms.toFixed(0)} ms`;
}

await main();

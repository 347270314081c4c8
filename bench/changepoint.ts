/**
 * NUTS on the coal-mining change point (Jarrett 1979; the switchpoint summed out by enumeration,
 * as `examples/pyro_ports.ts changepoint`): 111 Poisson counts, two Exponential(1) rates. Prints
 * one markdown row: milliseconds per gradient evaluation (the potential's tfjs forward and
 * backward, from the chain's statistics), the kernels and milliseconds of one `Poisson.logProb`
 * of the 111 counts (`tf.profile`), draws/s and the posterior means of the rates (the same draws before and after a change that
 * keeps the numbers).
 *
 * Usage: `npx tsx bench/changepoint.ts [draws]` (default 300 warmup + 300 draws, 1 chain, seed 4)
 * on the default Node backend (`DEEPPROB_BACKEND` to choose).
 */
import * as tf from '@tensorflow/tfjs';
import { ready, distributions as D, ppl } from '../src/index.js';

/** Coal-mining disasters per year, 1851-1961 (Jarrett 1979, as in PyMC's DisasterModel). */
const DISASTERS = [
  4, 5, 4, 0, 1, 4, 3, 4, 0, 6, 3, 3, 4, 0, 2, 6, 3, 3, 5, 4, 5, 3, 1, 4, 4, 1, 5, 5, 3, 4, 2, 5, 2,
  2, 3, 4, 2, 1, 3, 2, 2, 1, 1, 1, 1, 3, 0, 0, 1, 0, 1, 1, 0, 0, 3, 1, 0, 3, 2, 2, 0, 1, 1, 1, 0, 1,
  0, 1, 0, 0, 0, 2, 1, 0, 0, 0, 1, 1, 0, 2, 3, 3, 1, 1, 2, 1, 1, 1, 1, 2, 4, 2, 0, 0, 1, 4, 0, 0, 0,
  1, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0, 1,
];

/** The change-point model: a uniform switchpoint, an early and a late Poisson rate. */
function model(disasters: tf.Tensor): void {
  const T = disasters.shape[0] as number;
  const switchpoint = ppl.sample('switchpoint', new D.Categorical({ logits: tf.zeros([T]) }));
  const early = ppl.sample('early_rate', new D.Exponential(1));
  const late = ppl.sample('late_rate', new D.Exponential(1));
  const years = tf.range(0, T, 1, 'int32');
  const rate = tf.where(tf.greaterEqual(tf.cast(switchpoint, 'int32'), years), early, late);
  ppl.plate('years', T, () => ppl.sample('disasters', new D.Poisson(rate), { obs: disasters }));
}

async function main(): Promise<void> {
  const info = await ready();
  const n = Number(process.argv[2] ?? 300);
  const y = tf.tensor1d(DISASTERS);
  const mcmc = new ppl.MCMC(new ppl.NUTS(model), {
    numSamples: n,
    warmupSteps: n,
    seed: 4,
    progressBar: false,
  });
  const t0 = performance.now();
  await mcmc.run(y);
  const seconds = (performance.now() - t0) / 1000;
  const st = mcmc.getExtraFields()[0];
  if (st === undefined) throw new Error('bench/changepoint: no chain statistics');
  const s = mcmc.getSamples();
  const mean = (t: tf.Tensor): number => tf.tidy(() => tf.mean(t).dataSync()[0] as number);
  const early = mean(s.early_rate as tf.Tensor);
  const late = mean(s.late_rate as tf.Tensor);
  // one Poisson log-mass of the 111 counts at a batch of rates: its kernels and time
  const rate = tf.fill([DISASTERS.length], 2.5);
  const pois = new D.Poisson(rate);
  tf.dispose(pois.logProb(y));
  const prof = await tf.profile(() => {
    tf.dispose(pois.logProb(y));
  });
  const reps = 200;
  const c0 = performance.now();
  for (let i = 0; i < reps; i++) tf.tidy(() => pois.logProb(y).dataSync());
  const logProbMs = (performance.now() - c0) / reps;
  pois.dispose();
  rate.dispose();
  const ms = st.potentialMilliseconds / st.gradientEvaluations;
  console.log(
    `| ${info.backend} | ${st.compiled ? 'replayed' : 'tfjs'} | ${ms.toFixed(2)} | ${prof.kernels.length} | ` +
      `${logProbMs.toFixed(3)} | ` +
      `${((2 * n) / seconds).toFixed(1)} | ${early.toFixed(4)} | ${late.toFixed(4)} |`,
  );
  tf.dispose([y, ...Object.values(s)]);
}

await main();

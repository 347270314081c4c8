/**
 * A two-component Gaussian mixture fitted by SVI with `TraceEnumELBO` (after Pyro's
 * "Gaussian Mixture Model" tutorial): the assignment of each point is a discrete latent summed
 * out exactly by parallel enumeration, the global parameters get a MAP guide (`AutoDelta`,
 * which leaves enumerated sites to the ELBO):
 *
 *   weights ~ Dirichlet(2, 2),  scale ~ LogNormal(0, 2),  locs_k ~ N(0, 10²),
 *   z_i ~ Categorical(weights)  {infer: {enumerate: 'parallel'}},  x_i ~ N(locs[z_i], scale²)
 *
 * (Concentration 2 rather than the tutorial's 0.5: with a MAP guide the Dirichlet(0.5) density is
 * unbounded at the simplex's corners, so the MAP point collapses onto one component.)
 * The data are 200 seeded draws of 0.35·N(-2, 0.8²) + 0.65·N(3, 0.8²). After fitting, the
 * per-point responsibilities p(z_i = k | x_i) are computed from the fitted parameters.
 *
 *   npx tsx examples/gmm_enumeration.ts
 */
import * as tf from '@tensorflow/tfjs';
import { distributions as D, ppl, ready, setSeed } from '../src/index.js';

const K = 2;
const N = 200;

/** The mixture model over data `x` of shape [N]. */
export function model(x: tf.Tensor): void {
  const weights = ppl.sample('weights', new D.Dirichlet(tf.fill([K], 2)));
  const scale = ppl.sample('scale', new D.LogNormal(0, 2));
  const locs = ppl.sample('locs', new D.Normal(tf.zeros([K]), 10).toEvent(1));
  ppl.plate('data', x.shape[0] as number, () => {
    const z = ppl.sample('z', new D.Categorical({ probs: weights }), {
      infer: { enumerate: 'parallel' },
    });
    ppl.sample('x', new D.Normal(tf.gather(locs, tf.cast(z, 'int32')), scale), { obs: x });
  });
}

/** Seeded data from the true mixture. */
function makeData(): tf.Tensor {
  return tf.tidy(() => {
    const z = new D.Bernoulli({ probs: 0.65 }).sample([N], 11);
    const eps = new D.Normal(0, 0.8).sample([N], 12);
    return tf.add(tf.add(-2, tf.mul(z, 5)), eps);
  });
}

export async function main(): Promise<void> {
  await ready();
  setSeed(0);
  const x = makeData();
  const t0 = Date.now();
  // start the locations apart (as Pyro's tutorial does, to break the label symmetry)
  const guide = new ppl.AutoDelta(model, {
    initLoc: (site, draw) =>
      site === 'locs' ? tf.tensor1d([-1, 1]) : site === 'weights' ? tf.fill([K], 1 / K) : draw,
  });
  const elbo = new ppl.TraceEnumELBO();
  let loss = 0;
  for (const [lr, steps] of [
    [0.1, 200],
    [0.01, 100],
  ] as const) {
    const svi = new ppl.SVI(model, guide, tf.train.adam(lr), elbo);
    for (let i = 0; i < steps; i++) {
      loss = svi.step(x);
      if (lr === 0.1 && i % 50 === 0) console.log(`step ${i}: -ELBO ${loss.toFixed(2)}`);
    }
  }
  const m = guide.median();
  const w = Array.from((m.weights as tf.Tensor).dataSync());
  const locs = Array.from((m.locs as tf.Tensor).dataSync());
  const scale = (m.scale as tf.Tensor).dataSync()[0] as number;
  console.log(
    `\n${((Date.now() - t0) / 1000).toFixed(1)} s, final -ELBO ${loss.toFixed(2)} (= -log p(x, MAP) up to the prior terms)`,
  );
  console.log(`weights: ${w.map((v) => v.toFixed(3)).join(', ')}   (true 0.35, 0.65)`);
  console.log(`locs:    ${locs.map((v) => v.toFixed(3)).join(', ')}   (true -2, 3)`);
  console.log(`scale:   ${scale.toFixed(3)}   (true 0.8)`);
  // responsibilities p(z_i = k | x_i) at the fitted parameters
  const resp = tf.tidy(() => {
    const lp = tf.add(
      tf.log(m.weights as tf.Tensor),
      new D.Normal(m.locs as tf.Tensor, scale).logProb(tf.reshape(x, [-1, 1])),
    );
    return tf.exp(tf.sub(lp, tf.logSumExp(lp, 1, true)));
  });
  const r = resp.arraySync() as number[][];
  const xs = Array.from(x.dataSync());
  for (const i of [0, 1, 2, 3, 4]) {
    console.log(
      `x[${i}] = ${(xs[i] as number).toFixed(2)}: p(z = 1 | x) = ${(r[i]?.[1] as number).toFixed(3)}`,
    );
  }
  tf.dispose([resp, x, ...Object.values(m)]);
  guide.dispose();
}

await main();

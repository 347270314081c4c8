/**
 * DiscreteHMM as an observed site of the language: a plate of sequences (the HMM expanded),
 * SVI with AutoNormal over the emission means, NUTS over the means and Dirichlet-distributed
 * transition rows, Predictive drawing sequences; references are the simulation's truth (with
 * tolerances from the posterior spread) and the distribution's own logProb.
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../src/index.js';
import { clearSeed, setSeed } from '../../src/utils/seed.js';

afterEach(() => {
  ppl.clearParamStore();
  clearSeed();
});

const TRUE_LOCS = [-2, 2];
const TRUE_TRANS = [
  [0.9, 0.1],
  [0.15, 0.85],
];
const INIT_LOGITS = [1, -1];

/** `B` sequences of length `T` from the true 2-state Gaussian HMM (scale 1): [B, T]. */
function simulate(B: number, T: number, seed: number): tf.Tensor {
  const obs = new D.Normal(TRUE_LOCS, 1);
  const hmm = new D.DiscreteHMM(INIT_LOGITS, tf.log(tf.tensor2d(TRUE_TRANS)), obs, {
    duration: T,
  });
  const y = hmm.sample([B], seed);
  hmm.dispose();
  obs.dispose();
  return y;
}

describe('DiscreteHMM in models', { timeout: 600_000 }, () => {
  it('in a plate of sequences: the site log-probability is the sum of the sequences logProb; SVI with AutoNormal recovers the emission means', () => {
    setSeed(1);
    const ys = simulate(3, 80, 5);
    const transLogits = tf.log(tf.tensor2d(TRUE_TRANS));
    const model = (y: tf.Tensor): void => {
      const locs = ppl.sample('locs', new D.Normal(tf.zeros([2]), 5).toEvent(1));
      ppl.plate('seqs', y.shape[0]!, () => {
        ppl.sample('y', new D.DiscreteHMM(INIT_LOGITS, transLogits, new D.Normal(locs, 1)), {
          obs: y,
        });
      });
    };
    // the trace: batch [3] by the plate, every sequence scored by the forward algorithm
    const tr = ppl.trace(ppl.condition(model, { locs: tf.tensor1d(TRUE_LOCS) })).getTrace(ys);
    const site = tr.get('y')!;
    expect(site.fn!.batchShape).toEqual([3]);
    const lp = tf.tidy(() => tf.sum(site.fn!.logProb(ys)).dataSync()[0]!);
    const obs = new D.Normal(TRUE_LOCS, 1);
    const ref = new D.DiscreteHMM(INIT_LOGITS, transLogits, obs);
    const want = tf.tidy(() => tf.sum(ref.logProb(ys)).dataSync()[0]!);
    expect(lp).toBeCloseTo(want, 3);
    ref.dispose();
    obs.dispose();
    tr.dispose();

    const guide = new ppl.AutoNormal(model);
    const svi = new ppl.SVI(model, guide, tf.train.adam(0.08), new ppl.TraceELBO());
    svi.step(ys); // creates the guide's parameters and the optimizer's slots
    const before = tf.memory().numTensors;
    for (let i = 0; i < 300; i++) svi.step(ys);
    const med = guide.median(ys);
    const locs = Array.from(med.locs!.dataSync()).sort((a, b) => a - b);
    tf.dispose(Object.values(med));
    // posterior sd of each mean ~ 1 / sqrt(120): 0.3 is several of them
    expect(Math.abs(locs[0]! - TRUE_LOCS[0]!)).toBeLessThan(0.3);
    expect(Math.abs(locs[1]! - TRUE_LOCS[1]!)).toBeLessThan(0.3);
    expect(tf.memory().numTensors).toBe(before);
    ys.dispose();
    transLogits.dispose();
  });

  it('NUTS: emission means and Dirichlet-distributed transition rows recovered within a few posterior sd', async () => {
    const ys = simulate(1, 200, 9);
    const y = tf.squeeze(ys, [0]);
    ys.dispose();
    const model = (): void => {
      const locs = ppl.sample('locs', new D.Normal(tf.tensor1d([-1, 1]), 3).toEvent(1));
      const trans = ppl.sample('trans', new D.Dirichlet(tf.ones([2, 2])).toEvent(1));
      ppl.sample('y', new D.DiscreteHMM(INIT_LOGITS, tf.log(trans), new D.Normal(locs, 1)), {
        obs: y,
      });
    };
    const before = tf.memory().numTensors;
    const mcmc = new ppl.MCMC(new ppl.NUTS(model), {
      numSamples: 200,
      warmupSteps: 200,
      seed: 2,
      progressBar: false,
    });
    await mcmc.run();
    const s = mcmc.summary();
    // the states may come out swapped (the likelihood is nearly symmetric): order by the means
    const swap = s.locs!.elements[0]!.mean > s.locs!.elements[1]!.mean;
    const locs = swap ? [...s.locs!.elements].reverse() : s.locs!.elements;
    const trans = swap ? [...s.trans!.elements].reverse() : s.trans!.elements;
    for (let k = 0; k < 2; k++) {
      const e = locs[k]!;
      expect(Math.abs(e.mean - TRUE_LOCS[k]!)).toBeLessThan(Math.max(4 * e.sd, 0.15));
    }
    // the diagonal of the transition matrix
    const t00 = trans[0]!;
    const t11 = trans[3]!;
    expect(Math.abs(t00.mean - TRUE_TRANS[0]![0]!)).toBeLessThan(Math.max(4 * t00.sd, 0.05));
    expect(Math.abs(t11.mean - TRUE_TRANS[1]![1]!)).toBeLessThan(Math.max(4 * t11.sd, 0.05));
    expect(locs[0]!.rHat).toBeLessThan(1.1);
    tf.dispose(Object.values(mcmc.getSamples()));
    expect(tf.memory().numTensors).toBe(before);
    y.dispose();
  });

  it('Predictive draws whole sequences (duration given) at the posterior draws of the means', () => {
    const model = (T: number): void => {
      const locs = ppl.sample('locs', new D.Normal(tf.zeros([2]), 5).toEvent(1));
      ppl.sample(
        'y',
        new D.DiscreteHMM([0, 0], tf.log(tf.tensor2d(TRUE_TRANS)), new D.Normal(locs, 0.01), {
          duration: T,
        }),
      );
    };
    const before = tf.memory().numTensors;
    const post = {
      locs: tf.tensor2d([
        [-50, 50],
        [100, 100],
      ]),
    };
    const out = new ppl.Predictive(model, { posteriorSamples: post, returnSites: ['y'] }).call(6);
    expect(out.y!.shape).toEqual([2, 6]);
    const v = Array.from(out.y!.dataSync());
    // draw 0: each value near -50 or 50; draw 1: all near 100
    v.slice(0, 6).forEach((x) => expect(Math.abs(Math.abs(x) - 50)).toBeLessThan(0.1));
    v.slice(6).forEach((x) => expect(Math.abs(x - 100)).toBeLessThan(0.1));
    tf.dispose(Object.values(out));
    post.locs.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
  it('a mixture of two HMMs with the class enumerated (TraceEnumELBO): the loss is minus the log of the mixture of the two sequence likelihoods', () => {
    const ys = tf.tensor1d([0.3, -1, 2, 0.5, 1.1]);
    const table = [
      [
        [0.9, 0.1],
        [0.2, 0.8],
      ],
      [
        [0.5, 0.5],
        [0.5, 0.5],
      ],
    ];
    const transTable = tf.log(tf.tensor3d(table));
    const locs = tf.tensor1d([-1, 1]);
    const model = (): void => {
      const c = ppl.sample('c', new D.Categorical({ probs: [0.3, 0.7] }), {
        infer: { enumerate: 'parallel' },
      });
      // the enumerated dim is a batch dim: keep a time dim of 1 to its right (as in Pyro)
      const trans = tf.expandDims(tf.gather(transTable, tf.cast(c, 'int32')), -3);
      ppl.sample('y', new D.DiscreteHMM([0, 0], trans, new D.Normal(locs, 1)), { obs: ys });
    };
    const loss = new ppl.TraceEnumELBO({ maxPlateNesting: 0 }).loss(model, () => undefined);
    const lp = [0, 1].map((k) =>
      tf.tidy(() => {
        const obs = new D.Normal(locs, 1);
        return new D.DiscreteHMM([0, 0], tf.gather(transTable, k), obs).logProb(ys).dataSync()[0]!;
      }),
    );
    const want = Math.log(0.3 * Math.exp(lp[0]!) + 0.7 * Math.exp(lp[1]!));
    expect(-loss).toBeCloseTo(want, 4);
    tf.dispose([ys, transTable, locs]);
  });
});

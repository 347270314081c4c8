import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../src/index.js';
import { clearSeed, setSeed } from '../../src/utils/seed.js';
import { expectBadInput } from '../helpers.js';

afterEach(() => {
  ppl.clearParamStore();
  clearSeed();
});

// mu ~ N(0, 2^2), y_i ~ N(mu, 1), i = 1..5: posterior N(sum(y) / prec, 1 / prec), prec = 1/4 + 5
const n = 5;
const prec = 1 / 4 + n;
const model = (y: tf.Tensor): void => {
  const mu = ppl.sample('mu', new D.Normal(0, 2));
  ppl.plate('data', n, () => ppl.sample('y', new D.Normal(mu, 1), { obs: y }));
};
// amortized: q(mu | y) = N(a sum(y) + b, s), exact at a = 1 / prec, b = 0, s = prec^-1/2
const guide = (y: tf.Tensor): void => {
  const a = ppl.param('a', 0);
  const b = ppl.param('b', 0);
  const s = ppl.param('s', 1, { constraint: ppl.constraints.positive });
  ppl.sample('mu', new D.Normal(tf.add(tf.mul(a, tf.sum(y)), b), s));
};

describe('CSIS', { timeout: 600_000 }, () => {
  it('trains the amortized guide on the joint (validation loss falls) and importance samples', () => {
    setSeed(31);
    const csis = new ppl.CSIS(model, guide, tf.train.adam(0.05), {
      numInferenceSamples: 400,
      trainingBatchSize: 8,
      validationBatchSize: 50,
    });
    const ys = [1.2, 0.4, 2.1, 1.7, 0.9];
    const y = tf.tensor1d(ys);
    const before = tf.memory().numTensors;
    const v0 = csis.validationLoss(y);
    // the validation batch is kept: 50 draws x (mu, y)
    expect(tf.memory().numTensors - before).toBe(100 + 3);
    for (let i = 0; i < 250; i++) csis.step(y);
    const v1 = csis.validationLoss(y);
    expect(v1).toBeLessThan(v0 - 0.5);
    // the optimum of the validation loss: -E log q at the exact posterior, about
    // 0.5 log(2 pi e / prec) = 0.59; well inside 0.4 of it after training
    expect(v1).toBeLessThan(0.5 * Math.log((2 * Math.PI * Math.E) / prec) + 0.4);
    const st = ppl.getParamStore();
    expect(st.value('a').dataSync()[0]).toBeCloseTo(1 / prec, 1);
    expect(st.value('s').dataSync()[0]).toBeCloseTo(Math.sqrt(1 / prec), 1);

    const t0 = tf.memory().numTensors;
    const res = csis.run(y);
    expect(res).toBeInstanceOf(ppl.ImportanceResult);
    expect(res.numSamples).toBe(400);
    const pm = ys.reduce((a, b) => a + b, 0) / prec;
    const meanT = res.marginal('mu').mean();
    const est = meanT.dataSync()[0] as number;
    meanT.dispose();
    // the self-normalized estimate's standard error: posterior sd / sqrt(ESS)
    const se = Math.sqrt(1 / prec) / Math.sqrt(res.ess);
    expect(Math.abs(est - pm)).toBeLessThan(4 * se);
    // a trained proposal: most of the draws count
    expect(res.ess).toBeGreaterThan(200);
    res.dispose();
    expect(tf.memory().numTensors).toBe(t0);
    // a step and the losses leave nothing behind
    const t1 = tf.memory().numTensors;
    csis.step(y);
    csis.loss(y);
    csis.validationLoss(y);
    expect(tf.memory().numTensors).toBe(t1);
    csis.dispose();
    expect(tf.memory().numTensors).toBe(t1 - 100);
    y.dispose();
  });

  it('takes the guide arguments from guideArgs when given', () => {
    setSeed(32);
    // the guide reads the data from an object argument under another name
    const m = (data: { y: tf.Tensor }): void => model(data.y);
    const g = (data: { obsY: tf.Tensor }): void => guide(data.obsY);
    const seen: number[][] = [];
    const csis = new ppl.CSIS<[{ y: tf.Tensor; obsY: tf.Tensor }]>(m, g, tf.train.adam(0.05), {
      trainingBatchSize: 2,
      guideArgs: (obs, data) => {
        seen.push(Array.from((obs.y as tf.Tensor).dataSync()));
        return [{ ...data, obsY: obs.y as tf.Tensor }];
      },
    });
    const y = tf.tensor1d([1, 2, 3, 4, 5]);
    const loss = csis.step({ y, obsY: y });
    expect(Number.isFinite(loss)).toBe(true);
    // fresh draws, not the data
    expect(seen.length).toBeGreaterThanOrEqual(2);
    for (const s of seen) expect(s).not.toEqual([1, 2, 3, 4, 5]);
    csis.dispose();
    y.dispose();
  });

  it('refuses bad arguments and options, naming them', async () => {
    const opt = tf.train.adam(0.01);
    const cases = [
      {
        call: 'unknown key',
        run: () => new ppl.CSIS(model, guide, opt, { training_batch_size: 3 } as never),
        arg: 'training_batch_size',
      },
      {
        call: 'trainingBatchSize 0',
        run: () => new ppl.CSIS(model, guide, opt, { trainingBatchSize: 0 }),
        arg: 'trainingBatchSize',
      },
      {
        call: 'validationBatchSize 1.5',
        run: () => new ppl.CSIS(model, guide, opt, { validationBatchSize: 1.5 }),
        arg: 'validationBatchSize',
      },
      {
        call: 'numInferenceSamples -1',
        run: () => new ppl.CSIS(model, guide, opt, { numInferenceSamples: -1 }),
        arg: 'numInferenceSamples',
      },
      {
        call: 'no optimizer',
        run: () => new ppl.CSIS(model, guide, {} as never),
        arg: 'optimizer',
      },
      {
        call: 'no guide',
        run: () => new ppl.CSIS(model, 3 as never, opt),
        arg: 'guide',
      },
      {
        call: 'guide missing a latent',
        run: () => {
          const y = tf.tensor1d([1, 2, 3, 4, 5]);
          try {
            return new ppl.CSIS(model, () => undefined, opt).loss(y);
          } finally {
            y.dispose();
          }
        },
        arg: 'mu',
      },
    ];
    for (const c of cases) await expectBadInput(c);
  });
});

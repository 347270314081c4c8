/**
 * Audit (NumPyro parity): the everyday workflow — deterministic sites in getSamples (grouped),
 * re-running is reproducible, Predictive recomputes deterministic sites from the draws, and the
 * gradient-free kernels continue via postWarmupState as one long run.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../../src/index.js';

const { sample } = ppl;
const xs = [-1, 0, 1, 2];
const ys = [-1.8, 0.3, 1.9, 4.2];
function model(x: tf.Tensor, y?: tf.Tensor): void {
  const w = sample('w', new D.Normal(0, 5));
  const s = sample('s', new D.HalfCauchy(1));
  const m = ppl.deterministic('m', tf.mul(w, x));
  ppl.plate('data', xs.length, () => sample('y', new D.Normal(m, s), { obs: y }));
}

describe('NumPyro workflow', () => {
  it('getSamples holds deterministic sites (grouped [C, S, N]) equal to their formula; run twice is reproducible', async () => {
    const x = tf.tensor1d(xs);
    const y = tf.tensor1d(ys);
    const m = new ppl.MCMC(new ppl.NUTS(model), {
      numSamples: 15,
      warmupSteps: 30,
      numChains: 2,
      seed: 3,
      progressBar: false,
    });
    await m.run(x, y);
    const g = m.getSamples({ groupByChain: true });
    expect(g.m!.shape).toEqual([2, 15, 4]);
    const w = g.w!.arraySync() as number[][];
    const mm = g.m!.arraySync() as number[][][];
    for (let c = 0; c < 2; c++)
      for (let i = 0; i < 15; i++)
        for (let j = 0; j < 4; j++) expect(mm[c]![i]![j]).toBeCloseTo(w[c]![i]! * xs[j]!, 5);
    await m.run(x, y);
    const g2 = m.getSamples({ groupByChain: true });
    expect(Array.from(g2.w!.dataSync())).toEqual(w.flat());
    // Predictive on the draws (deterministic sites included): m recomputed at new x
    const s = m.getSamples();
    const xn = tf.tensor1d([3, -2, 0.5, 1]);
    const pred = new ppl.Predictive(model, { posteriorSamples: s, returnSites: ['m', 'y'] }).call(
      xn,
    );
    const pm = pred.m!.arraySync() as number[][];
    const wf = w.flat();
    pm.forEach((r, i) =>
      r.forEach((v, j) => expect(v).toBeCloseTo(wf[i]! * [3, -2, 0.5, 1][j]!, 4)),
    );
    tf.dispose([
      x,
      y,
      xn,
      ...Object.values(g),
      ...Object.values(g2),
      ...Object.values(s),
      ...Object.values(pred),
    ]);
  }, 30000);

  for (const [name, make] of [
    ['BarkerMH', () => new ppl.BarkerMH(model)],
    ['SA', () => new ppl.SA(model)],
    ['RandomWalkMH', () => new ppl.RandomWalkMH(model)],
  ] as const) {
    it(`${name}: two continued runs of N equal one run of 2N (postWarmupState = lastState)`, async () => {
      const x = tf.tensor1d(xs);
      const y = tf.tensor1d(ys);
      const before = tf.memory().numTensors;
      const o = { warmupSteps: 40, numChains: 2, seed: 6, progressBar: false };
      const long = new ppl.MCMC(make(), { ...o, numSamples: 30 });
      await long.run(x, y);
      const lw = long.getSamples({ groupByChain: true });
      const a = new ppl.MCMC(make(), { ...o, numSamples: 15 });
      await a.run(x, y);
      const first = a.getSamples({ groupByChain: true });
      a.postWarmupState = a.lastState;
      await a.run(x, y);
      const second = a.getSamples({ groupByChain: true });
      const l = lw.w!.arraySync() as number[][];
      const f = first.w!.arraySync() as number[][];
      const sd = second.w!.arraySync() as number[][];
      for (let c = 0; c < 2; c++) expect([...f[c]!, ...sd[c]!]).toEqual(l[c]);
      tf.dispose([...Object.values(lw), ...Object.values(first), ...Object.values(second)]);
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([x, y]);
    }, 30000);
  }
});

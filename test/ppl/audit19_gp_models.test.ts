/**
 * Audit 19, Pyro's `pyro.contrib.gp` models as a user: misuse caught early with clear errors —
 * new data of another size for a `VariationalGP` (its posterior is per datum), a multi-class
 * likelihood with a latent shape of another class count, observations outside a likelihood's
 * support (the error names the offending element and its value, not the first of its event).
 */
import * as tf from '@tensorflow/tfjs';
import { beforeEach, describe, expect, it } from 'vitest';
import { distributions as D, ppl, setSeed } from '../../src/index.js';
import { expectArgumentError } from '../helpers.js';

const gp = ppl.gp;
const K = gp.kernels;

describe('gp models: misuse (audit 19)', () => {
  beforeEach(() => {
    ppl.clearParamStore();
    setSeed(5);
  });

  it('VariationalGP.setData with another N is refused naming X; the same N is taken', () => {
    const X = tf.tensor2d([[0], [1], [2], [3]]);
    const y = tf.tensor1d([0, 1, 0, 1]);
    const vgp = new gp.models.VariationalGP(
      X,
      y,
      new K.RBF({ inputDim: 1 }),
      new gp.likelihoods.Bernoulli(),
    );
    const X3 = tf.tensor2d([[0], [1], [2]]);
    const y3 = tf.tensor1d([0, 1, 0]);
    // before: accepted, then the model failed with tfjs's "Operands could not be broadcast"
    expectArgumentError(() => vgp.setData(X3, y3), 'X', /over the 4 rows.*got 3/);
    expect(vgp.X.shape).toEqual([4, 1]); // the old data kept
    const X4 = tf.tensor2d([[0.5], [1.5], [2.5], [3.5]]);
    const before = tf.memory().numTensors;
    vgp.setData(X4, y);
    expect(tf.memory().numTensors).toBe(before); // the old copies freed, new ones kept
    const tr = ppl.trace(vgp.model).getTrace();
    expect(Number.isFinite(tr.logProbSum().dataSync()[0])).toBe(true);
    tr.dispose();
    // a sparse variational GP takes mini-batches of any size
    const vs = new gp.models.VariationalSparseGP(
      X,
      y,
      new K.RBF({ inputDim: 1 }),
      X.slice([0, 0], [2, 1]),
      new gp.likelihoods.Bernoulli(),
      { numData: 4 },
    );
    vs.setData(X3, y3);
    const t2 = ppl.trace(vs.model).getTrace();
    expect(t2.get(`${vs.likelihood.name}.y`)!.value!.shape).toEqual([3]);
    t2.dispose();
    vgp.dispose();
    vs.dispose();
    tf.dispose([X, y, X3, y3, X4]);
  });

  it('a MultiClass likelihood with latentShape not ending in numClasses: refused at construction', () => {
    const X = tf.tensor2d([[0], [1], [2], [3]]);
    const y = tf.tensor1d([0, 2, 0, 1]);
    const make = (latentShape: number[]): unknown =>
      new gp.models.VariationalGP(
        X,
        y,
        new K.RBF({ inputDim: 1 }),
        new gp.likelihoods.MultiClass({ numClasses: 3 }),
        { latentShape },
      );
    // before: accepted, then every model run failed naming fLoc (not an argument of the user's)
    expectArgumentError(() => make([2]), 'latentShape', /expected \[\.\.\., 3\], got \[2\]/);
    const ok = make([3]) as ppl.gp.models.VariationalGP;
    expect(ok.latentShape).toEqual([3]);
    ok.dispose();
    tf.dispose([X, y]);
  });

  it('observations outside the support: the error names the offending element and value', () => {
    const X = tf.tensor2d([[0], [1], [2], [3]]);
    const cases: [ppl.gp.likelihoods.Likelihood, number[], RegExp][] = [
      [new gp.likelihoods.Bernoulli({ name: 'lb' }), [0, 2, 0, 1], /value 2 \(element 1\)/],
      [new gp.likelihoods.Poisson({ name: 'lp' }), [0, 1, 0, -1], /value -1 \(element 3\)/],
      [
        new gp.likelihoods.MultiClass({ numClasses: 3, name: 'lm' }),
        [0, 1, 3, 1],
        /value 3 \(element 2\)/,
      ],
    ];
    for (const [lik, ys, msg] of cases) {
      const y = tf.tensor1d(ys);
      const v = new gp.models.VariationalGP(X, y, new K.RBF({ inputDim: 1 }), lik);
      // before: "value 0 (element 0)", the first value of the whole (one-event) observation
      expectArgumentError(() => ppl.trace(v.model).getTrace(), `${lik.name}.y`, msg);
      v.dispose();
      y.dispose();
    }
    X.dispose();
  });

  it('any site: the element of an independent event outside the support is named', () => {
    const obs = tf.tensor2d([
      [0, 1, 2],
      [3, -4, 5],
    ]);
    const m = (): void => {
      ppl.sample('n', new D.Poisson(tf.ones([2, 3])).toEvent(2), { obs });
    };
    expectArgumentError(() => ppl.trace(m).getTrace(), 'n', /value -4 \(element 4\)/);
    // an event constraint that does not split (simplex): the event's values are shown
    const p = tf.tensor2d([
      [0.2, 0.8],
      [0.5, 0.75],
    ]);
    const m2 = (): void => {
      ppl.sample('p', new D.Dirichlet(tf.ones([2, 2])), { obs: p });
    };
    expectArgumentError(() => ppl.trace(m2).getTrace(), 'p', /value \[0\.5, 0\.75\] \(element 1\)/);
    tf.dispose([obs, p]);
  });
});

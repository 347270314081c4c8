/**
 * A model that throws in the middle of a gradient computation (a distribution rejecting a
 * parameter far out on a trajectory, or a user error) leaves no tensor behind: tfjs keeps the
 * tensors saved for the backward pass until that pass completes, and the callers free them.
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { Normal } from '../../src/distributions/index.js';
import { AutoNormal } from '../../src/ppl/autoguide/auto_normal.js';
import { TraceELBO } from '../../src/ppl/infer/elbo.js';
import { SVI } from '../../src/ppl/infer/svi.js';
import { ModelPotential } from '../../src/ppl/mcmc/potential.js';
import { clearParamStore } from '../../src/ppl/param_store.js';
import { sample } from '../../src/ppl/runtime.js';
import { disposeAbortedTape, withTapeCleanup } from '../../src/utils/tape.js';
import { minimizeStep } from '../../src/layers/train_step.js';

afterEach(() => {
  clearParamStore();
});

describe('aborted gradient tapes', () => {
  it('withTapeCleanup frees the saved tensors of a throwing tf.variableGrads', () => {
    const x = tf.variable(tf.scalar(1));
    const before = tf.memory().numTensors;
    const f = (): tf.Scalar => {
      const y = tf.sin(tf.mul(tf.exp(x), 2));
      if (y.rank === 0) throw new Error('boom');
      return y as tf.Scalar;
    };
    expect(() => withTapeCleanup(() => tf.variableGrads(f, [x]))).toThrow('boom');
    expect(tf.memory().numTensors).toBe(before);
    // and a completed gradient afterwards is unaffected
    const { value, grads } = tf.variableGrads(() => tf.square(x) as tf.Scalar, [x]);
    expect(grads[x.name]).toBeAllclose(2);
    tf.dispose([value, ...Object.values(grads)]);
    disposeAbortedTape(); // nothing left: a no-op
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });

  it('a potential whose model rejects a far-out point is +Infinity with no leak', () => {
    // sigma = exp(100 x) overflows to Infinity at x = 1: Normal rejects the scale mid-run
    const model = (): void => {
      const x = sample('x', new Normal(0, 1));
      sample('y', new Normal(0, tf.exp(tf.mul(x, 100))), { obs: tf.scalar(0.5) });
    };
    const pot = new ModelPotential(
      model,
      [],
      [{ name: 'x', shape: [], unconstrainedShape: [], offset: 0, size: 1 }],
    );
    const ok = pot.valueAndGrad(Float64Array.from([-0.01]));
    expect(Number.isFinite(ok.value)).toBe(true);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) {
      const p = pot.valueAndGrad(Float64Array.from([1]));
      expect(p.value).toBe(Infinity);
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('SVI.step of a model that throws after its first sites leaks nothing', () => {
    let fail = false;
    const model = (): void => {
      const a = sample('a', new Normal(0, 1));
      const b = tf.exp(a);
      if (fail) throw new Error('model failed');
      sample('y', new Normal(b, 1), { obs: tf.scalar(1) });
    };
    const opt = tf.train.adam(0.01);
    const svi = new SVI(model, new AutoNormal(model), opt, new TraceELBO());
    svi.step();
    fail = true;
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) expect(() => svi.step()).toThrow('model failed');
    expect(tf.memory().numTensors).toBe(before);
    opt.dispose();
  });

  it('minimizeStep (the loss cells, train/, toolbox) frees them when the loss throws', () => {
    const w = tf.variable(tf.tensor1d([0.5, -0.2]));
    const opt = tf.train.sgd(0.1);
    const before = tf.memory().numTensors;
    const terms = (): { loss: tf.Scalar } => {
      const h = tf.tanh(tf.mul(w, 3));
      if (h.rank === 1) throw new Error('loss failed');
      return { loss: tf.sum(h) };
    };
    for (let i = 0; i < 2; i++) expect(() => minimizeStep(opt, [w], terms)).toThrow('loss failed');
    expect(tf.memory().numTensors).toBe(before);
    opt.dispose();
    w.dispose();
  });
});

import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { layers, ArgumentError } from '../../src/index.js';

/** Models holding a nested model (cases where tfjs 4.22's `model.dispose()` keeps its weights). */
const cases: Record<string, () => tf.LayersModel> = {
  'Sequential, nested Sequential last': () =>
    tf.sequential({
      layers: [
        tf.layers.dense({ inputShape: [3], units: 4 }),
        tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 2 })] }),
      ],
    }),
  'Sequential, nested functional model last': () => {
    const i = tf.input({ shape: [4] });
    const inner = tf.model({
      inputs: i,
      outputs: tf.layers.dense({ units: 2 }).apply(i) as tf.SymbolicTensor,
    });
    return tf.sequential({ layers: [tf.layers.dense({ inputShape: [3], units: 4 }), inner] });
  },
  'functional, nested model applied twice': () => {
    const inner = tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 4 })] });
    const i = tf.input({ shape: [4] });
    const twice = inner.apply(inner.apply(i) as tf.SymbolicTensor) as tf.SymbolicTensor;
    return tf.model({ inputs: i, outputs: twice });
  },
  'functional, nested model once (tfjs already frees it)': () => {
    const inner = tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 2 })] });
    const i = tf.input({ shape: [3] });
    const h = tf.layers.dense({ units: 4 }).apply(i) as tf.SymbolicTensor;
    return tf.model({ inputs: i, outputs: inner.apply(h) as tf.SymbolicTensor });
  },
};

describe('disposeModel', () => {
  it('frees every weight of a model with nested models, where model.dispose() leaves some', () => {
    let leakyCases = 0;
    for (const [name, make] of Object.entries(cases)) {
      // what tfjs alone does (measured: the nested model's weights stay in the first three cases)
      const b0 = tf.memory().numTensors;
      const m0 = make();
      const held = tf.memory().numTensors - b0;
      const vars = m0.weights.map((w) => w.read());
      m0.dispose();
      if (tf.memory().numTensors !== b0) leakyCases++;
      // free by hand what tfjs left, so that the next measurement starts level
      for (const v of vars) if (!v.isDisposed) v.dispose();
      const before = tf.memory().numTensors;
      const m = make();
      expect(tf.memory().numTensors - before, name).toBe(held);
      expect(layers.disposeModel(m), name).toBe(held);
      expect(tf.memory().numTensors, name).toBe(before);
    }
    expect(leakyCases).toBe(3);
  });

  it('refuses a non-model naming model', () => {
    expect(() => layers.disposeModel({} as tf.LayersModel)).toThrow(ArgumentError);
    expect(() => layers.disposeModel({} as tf.LayersModel)).toThrow(
      /^model: expected a tf.LayersModel/,
    );
  });
});

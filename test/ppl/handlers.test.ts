import * as tf from '@tensorflow/tfjs';
import normalRef from '@stdlib/stats-base-dists-normal';
import { afterEach, describe, expect, it } from 'vitest';
import { Normal } from '../../src/distributions/normal.js';
import {
  block,
  condition,
  HANDLER_STACK,
  mask,
  param,
  plate,
  replay,
  sample,
  scale,
  seed,
  substitute,
  trace,
  clearParamStore,
  getParamStore,
  constraints,
  deterministic,
} from '../../src/ppl/index.js';

const logpdf = normalRef.logpdf as (x: number, m: number, s: number) => number;
const num = (t: tf.Tensor): number => t.dataSync()[0] as number;

function model(): tf.Tensor {
  const a = sample('a', new Normal(0, 1));
  const b = sample('b', new Normal(a, 2));
  return tf.add(a, b);
}

afterEach(() => {
  clearParamStore();
  expect(HANDLER_STACK.length).toBe(0);
});

describe('trace and replay', () => {
  it('records sites in order with their values and log-probabilities', () => {
    const tr = trace(seed(model, 1)).getTrace();
    expect([...tr.nodes.keys()]).toEqual(['a', 'b']);
    const a = num(tr.value('a'));
    const b = num(tr.value('b'));
    expect(tr.logProbSum()).toBeAllclose(logpdf(a, 0, 1) + logpdf(b, a, 2), { rtol: 1e-5 });
    tr.dispose();
  });

  it('trace of replay reproduces the values of the replayed trace', () => {
    const t1 = trace(model).getTrace();
    const t2 = trace(replay(model, { trace: t1 })).getTrace();
    expect(t2.value('a')).toBeAllclose(t1.value('a'));
    expect(t2.value('b')).toBeAllclose(t1.value('b'));
    // a replayed site with a different distribution gets the new log-probability
    const t3 = trace(replay(() => sample('a', new Normal(5, 1)), { trace: t1 })).getTrace();
    expect(t3.logProbSum()).toBeAllclose(logpdf(num(t1.value('a')), 5, 1), { rtol: 1e-5 });
    for (const t of [t1, t2, t3]) t.dispose();
  });

  it('getTrace keeps only its own tensors and frees them on dispose', () => {
    const obs = tf.tensor1d([0.5, 1.5]);
    const before = tf.memory().numTensors;
    const tr = trace(() => {
      const m = sample('m', new Normal(0, 1));
      sample('y', new Normal(m, 1), { obs });
    }).getTrace();
    expect(tr.get('y')?.value).toBe(obs);
    tr.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(obs.isDisposed).toBe(false);
    obs.dispose();
  });

  it('rejects two sites with the same name', () => {
    const bad = (): void => {
      sample('z', new Normal(0, 1));
      sample('z', new Normal(0, 1));
    };
    expect(() => trace(bad).getTrace()).toThrow(/appears twice/);
  });
});

describe('condition, block, substitute', () => {
  it('condition fixes observed sites and scores them', () => {
    const tr = trace(condition(model, { b: 3 })).getTrace();
    const b = tr.get('b');
    expect(b?.isObserved).toBe(true);
    expect(b?.value).toBeAllclose(3);
    expect(tr.latentSites().map((s) => s.name)).toEqual(['a']);
    const a = num(tr.value('a'));
    expect(tr.logProbSum()).toBeAllclose(logpdf(a, 0, 1) + logpdf(3, a, 2), { rtol: 1e-5 });
    tr.dispose();
  });

  it('block hides sites from outer handlers but still runs them', () => {
    const t1 = trace(block(model, { hide: ['a'] })).getTrace();
    expect([...t1.nodes.keys()]).toEqual(['b']);
    const t2 = trace(block(model)).getTrace();
    expect(t2.nodes.size).toBe(0);
    const t3 = trace(block(model, { expose: ['a'] })).getTrace();
    expect([...t3.nodes.keys()]).toEqual(['a']);
    for (const t of [t1, t2, t3]) t.dispose();
  });

  it('substitute gives params and latents fixed values without touching the store', () => {
    const f = (): tf.Tensor => {
      const p = param('p', 1);
      return sample('z', new Normal(p, 1));
    };
    const tr = trace(substitute(f, { p: 4, z: 2 })).getTrace();
    expect(tr.value('p')).toBeAllclose(4);
    expect(tr.value('z')).toBeAllclose(2);
    expect(getParamStore().has('p')).toBe(false);
    expect(tr.logProbSum()).toBeAllclose(logpdf(2, 4, 1), { rtol: 1e-5 });
    tr.dispose();
  });
});

describe('seed, scale, mask', () => {
  it('seed makes runs repeatable and different seeds differ', () => {
    const r1 = trace(seed(model, 3)).getTrace();
    const r2 = trace(seed(model, 3)).getTrace();
    const r3 = trace(seed(model, 4)).getTrace();
    expect(r2.value('a')).toBeAllclose(r1.value('a'), { rtol: 0, atol: 0 });
    expect(r2.value('b')).toBeAllclose(r1.value('b'), { rtol: 0, atol: 0 });
    expect(num(r3.value('a'))).not.toBe(num(r1.value('a')));
    for (const t of [r1, r2, r3]) t.dispose();
  });

  it('scale multiplies log-probabilities, nested scales compose', () => {
    const tr = trace(scale(scale(condition(model, { a: 0.3, b: -1 }), 2), 3)).getTrace();
    expect(tr.get('a')?.scale).toBe(6);
    expect(tr.logProbSum()).toBeAllclose(6 * (logpdf(0.3, 0, 1) + logpdf(-1, 0.3, 2)), {
      rtol: 1e-5,
    });
    expect(() => scale(model, -1)).toThrow(/scale/);
    tr.dispose();
  });

  it('mask zeroes masked-out elements of the log-probability', () => {
    const y = tf.tensor1d([0.1, 0.2, 0.3]);
    const m = tf.tensor1d([true, false, true], 'bool');
    const f = (): tf.Tensor => sample('y', new Normal(0, 1), { obs: y });
    const tr = trace(mask(f, m)).getTrace();
    expect(tr.logProbSum()).toBeAllclose(logpdf(0.1, 0, 1) + logpdf(0.3, 0, 1), { rtol: 1e-5 });
    tr.dispose();
    tf.dispose([y, m]);
  });
});

describe('plate', () => {
  it('subsampling scales log-probabilities by size / subsample size', () => {
    const data = tf.tensor1d([0.5, -0.2, 1.1, 0.3, 0.9, -1.4, 2.0, 0.0]);
    const f = (): void => {
      const mu = sample('mu', new Normal(0, 1));
      plate('data', 8, { subsampleSize: 2 }, (idx) => {
        sample('obs', new Normal(mu, 1), { obs: tf.gather(data, idx) });
      });
    };
    const tr = trace(seed(f, 11)).getTrace();
    const idx = Array.from(tr.value('data').dataSync());
    expect(idx.length).toBe(2);
    expect(new Set(idx).size).toBe(2);
    const obs = tr.get('obs');
    expect(obs?.scale).toBe(4);
    expect(obs?.cond.map((c) => c.name)).toEqual(['data']);
    expect(tr.get('mu')?.scale).toBe(1);
    const mu = num(tr.value('mu'));
    const vals = Array.from(data.dataSync());
    const ll = idx.reduce((acc, i) => acc + logpdf(vals[i] as number, mu, 1), 0);
    expect(tr.logProbSum()).toBeAllclose(logpdf(mu, 0, 1) + 4 * ll, { rtol: 1e-5 });
    // replaying the trace reuses the same subsample indices
    const tr2 = trace(replay(f, { trace: tr })).getTrace();
    expect(tr2.value('data')).toBeAllclose(idx);
    expect(tr2.logProbSum()).toBeAllclose(tr.logProbSum(), { rtol: 1e-5 });
    for (const t of [tr, tr2]) t.dispose();
    data.dispose();
  });

  it('explicit subsample indices and nested plates multiply scales', () => {
    const f = (): void => {
      plate('outer', 10, { subsample: [1, 2] }, () =>
        plate('inner', 6, { subsample: [0, 3, 4] }, () =>
          sample('z', new Normal(tf.zeros([3, 1]), 1)),
        ),
      );
    };
    const tr = trace(f).getTrace();
    expect(tr.get('z')?.scale).toBeCloseTo((10 / 2) * (6 / 3));
    // outer plate at dim -1 (2 visited), inner at dim -2 (3 visited)
    expect(tr.value('z').shape).toEqual([3, 2]);
    expect(tr.get('z')?.cond.map((c) => c.dim)).toEqual([-1, -2]);
    expect(tr.get('z')?.cond.map((c) => c.name)).toEqual(['outer', 'inner']);
    tr.dispose();
    expect(() => plate('p', 3, { subsampleSize: 5 }, () => 0)).toThrow(/subsampleSize/);
  });
});

describe('runtime', () => {
  it('an exception inside a model pops every handler it pushed', () => {
    const bad = (): void => {
      sample('a', new Normal(0, 1));
      throw new Error('boom');
    };
    expect(() => trace(seed(block(bad, { hide: ['x'] }), 1)).getTrace()).toThrow('boom');
    expect(HANDLER_STACK.length).toBe(0);
  });

  it('param keeps an unconstrained variable and returns the constrained value', () => {
    const s = tf.tidy(() => param('s', 0.5, { constraint: constraints.positive }).clone());
    expect(s).toBeAllclose(0.5, { rtol: 1e-5 });
    const u = getParamStore().unconstrained('s');
    expect(u).toBeAllclose(Math.log(Math.expm1(0.5)), { rtol: 1e-5 });
    expect(() => param('bad', -1, { constraint: constraints.positive })).toThrow(/init/);
    expect(() => param('missing')).toThrow(/no initial value/);
    s.dispose();
  });

  it('deterministic records a value with zero log-probability', () => {
    const v = tf.tensor1d([1, 2]);
    const tr = trace(() => deterministic('d', v)).getTrace();
    expect(tr.get('d')?.isObserved).toBe(true);
    expect(tr.logProbSum()).toBeAllclose(0);
    tr.dispose();
    v.dispose();
  });

  it('sample rejects a non-distribution', () => {
    expect(() => sample('x', {} as Normal)).toThrow(/Distribution/);
  });
});

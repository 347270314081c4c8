/**
 * Fresh-eyes audit (round 16) of Pyro's primitives as a Pyro user reads our docs: `param` with
 * constraints and `eventDim` (subsampled inside plates, as `pyro.param(..., event_dim=)`),
 * `sample` with `obs`/`obsMask`/`infer`, `plate` broadcasting, dims, subsampling and its argument
 * checks, `factor` under plates/scale/mask, `deterministic`, `LocScaleReparam` and
 * `TransformReparam` log-density accounting. References are float64 JS computations.
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { bijectors as B, distributions as D, ppl } from '../../src/index.js';
import { ArgumentError } from '../../src/utils/errors.js';
import { expectNoLeak } from '../helpers.js';
import { normalLp as nlp } from '../fixtures/float64.js';
import { arr, lps, num, sum } from '../fixtures/tensors.js';

afterEach(() => {
  ppl.clearParamStore();
  expect(ppl.HANDLER_STACK.length).toBe(0);
});

describe('param: constraints, reuse, eventDim in subsampled plates', () => {
  it('constrained params return their init exactly and stay in the support', () => {
    const C = ppl.constraints;
    tf.tidy(() => {
      const a = ppl.param('a', 0.3, { constraint: C.interval(-1, 2) });
      expect(num(a)).toBeCloseTo(0.3, 5);
      const s = ppl.param('s', [0.2, 0.3, 0.5], { constraint: C.simplex });
      expect(arr(s).map((v) => +v.toFixed(5))).toEqual([0.2, 0.3, 0.5]);
      const p = ppl.param('p', [1e-3, 4], { constraint: C.positive });
      expect(arr(p)[0]).toBeCloseTo(1e-3, 6);
      const g = ppl.param('g', 5, { constraint: C.greaterThan(3) });
      expect(num(g)).toBeCloseTo(5, 5);
      // the second call ignores its init and constraint, returning the stored value
      expect(num(ppl.param('a', 1.9))).toBeCloseTo(0.3, 5);
    });
  });
  it('an init outside the constraint is an ArgumentError naming the param', () => {
    expect(() => ppl.param('bad', -1, { constraint: ppl.constraints.positive })).toThrow(
      ArgumentError,
    );
    expect(() => ppl.param('bad', -1, { constraint: ppl.constraints.positive })).toThrow(/bad/);
    expect(ppl.getParamStore().has('bad')).toBe(false);
  });
  it('unknown param option keys are refused (a typo must not be ignored)', () => {
    expect(() =>
      ppl.param('q', 0, { constaint: ppl.constraints.positive } as unknown as ppl.ParamOptions),
    ).toThrow(ArgumentError);
    expect(() => ppl.param('q', 0, { event_dim: 1 } as unknown as ppl.ParamOptions)).toThrow(
      /event_dim/,
    );
    expect(ppl.getParamStore().has('q')).toBe(false);
  });
  it('param(name, init, {eventDim}) inside a subsampled plate is sliced by the subsample', () => {
    expectNoLeak(() => {
      const init = tf.tensor1d([0, 10, 20, 30, 40, 50]);
      const got = tf.tidy(() =>
        ppl.plate('data', 6, { subsample: [4, 1] }, () =>
          arr(ppl.param('loc', init, { eventDim: 0 })),
        ),
      );
      expect(got).toEqual([40, 10]);
      // event dims to the right of the plate dim are kept whole
      const init2 = tf.tensor2d([
        [0, 1],
        [2, 3],
        [4, 5],
      ]);
      const got2 = tf.tidy(() =>
        ppl.plate('d2', 3, { subsample: [2, 0] }, () => {
          const v = ppl.param('w', init2, { eventDim: 1 });
          return [v.shape, arr(v)] as const;
        }),
      );
      expect(got2[0]).toEqual([2, 2]);
      expect(got2[1]).toEqual([4, 5, 0, 1]);
      // the store keeps the full parameter
      expect(ppl.getParamStore().get('loc').shape).toEqual([6]);
      // without eventDim (Pyro's default None) the param is not sliced
      const whole = tf.tidy(() =>
        ppl.plate('data', 6, { subsample: [4, 1] }, () => ppl.param('loc').shape),
      );
      expect(whole).toEqual([6]);
      tf.dispose([init, init2]);
      ppl.clearParamStore();
    });
  });
  it('gradients of a sliced param reach only the subsampled entries', () => {
    const init = tf.tensor1d([1, 2, 3, 4]);
    ppl.getParamStore().set('loc4', init);
    const v = ppl.getParamStore().unconstrained('loc4');
    const { value, grads } = tf.variableGrads(
      () =>
        ppl.plate('data', 4, { subsample: [3, 0] }, () => {
          const loc = ppl.param('loc4', init, { eventDim: 0 });
          return tf.sum(tf.square(loc));
        }) as tf.Scalar,
      [v],
    );
    expect(num(value)).toBeCloseTo(16 + 1, 5);
    const g = arr(grads[v.name] as tf.Tensor);
    expect(g).toEqual([2, 0, 0, 8]);
    tf.dispose([init, value, ...Object.values(grads)]);
  });
  it('a param whose plate dim is neither 1 nor the plate size is an ArgumentError naming it', () => {
    const init = tf.tensor1d([1, 2, 3]);
    expect(() =>
      ppl.plate('data', 6, { subsampleSize: 2 }, () => ppl.param('bad3', init, { eventDim: 0 })),
    ).toThrow(/bad3/);
    init.dispose();
  });
  it('a bad eventDim is an ArgumentError naming eventDim', () => {
    for (const bad of [-1, 1.5, NaN]) {
      expect(() => ppl.param('e', 0, { eventDim: bad })).toThrow(/eventDim/);
    }
  });
});

describe('sample: obs, obsMask, infer', () => {
  it('obs of a larger batch shape than the distribution is scored elementwise (broadcast)', () => {
    expectNoLeak(() => {
      const y = tf.tensor1d([0.5, -0.5, 1.5]);
      const tr = ppl.trace(() => ppl.sample('y', new D.Normal(0.2, 0.7), { obs: y })).getTrace();
      expect(lps(tr)).toBeCloseTo(sum([0.5, -0.5, 1.5].map((v) => nlp(v, 0.2, 0.7))), 4);
      tr.dispose();
      y.dispose();
    });
  });
  it('obs as a plain array or number is accepted and scored', () => {
    expectNoLeak(() => {
      const tr = ppl
        .trace(() => {
          ppl.sample('a', new D.Normal(0, 1), { obs: 0.4 });
          ppl.sample('b', new D.Bernoulli({ probs: 0.3 }), { obs: [1, 0, 1] });
        })
        .getTrace();
      const ref = nlp(0.4, 0, 1) + 2 * Math.log(0.3) + Math.log(0.7);
      expect(lps(tr)).toBeCloseTo(ref, 4);
      tr.dispose();
    });
  });
  it('obsMask: log p = sum_obs log p(y_i) + sum_missing log p(u_i), and shapes', () => {
    expectNoLeak(() => {
      const y = tf.tensor1d([0.5, 99, -1.0, 99]);
      const m = tf.tensor1d([true, false, true, false], 'bool');
      const fn = (): tf.Tensor =>
        ppl.plate('n', 4, () => ppl.sample('y', new D.Normal(1, 2), { obs: y, obsMask: m }));
      const tr = ppl.trace(ppl.seed(fn, 9)).getTrace();
      const u = arr(tr.value('y_unobserved'));
      const v = arr(tr.value('y'));
      expect(v[0]).toBeCloseTo(0.5, 6);
      expect(v[2]).toBeCloseTo(-1, 6);
      expect(v[1]).toBeCloseTo(u[1] as number, 6);
      expect(tr.get('y_unobserved')?.isObserved).toBe(false);
      const ref =
        nlp(0.5, 1, 2) + nlp(-1, 1, 2) + nlp(u[1] as number, 1, 2) + nlp(u[3] as number, 1, 2);
      expect(lps(tr)).toBeCloseTo(ref, 4);
      tr.dispose();
      tf.dispose([y, m]);
    });
  });
  it('obsMask without obs, or of a shape that does not broadcast, names the site', () => {
    const m = tf.tensor1d([true, false], 'bool');
    const y = tf.tensor1d([1, 2, 3]);
    expect(() =>
      ppl.trace(() => ppl.sample('y', new D.Normal(0, 1), { obsMask: m })).getTrace(),
    ).toThrow(/obsMask/);
    expect(() =>
      ppl.trace(() => ppl.sample('yy', new D.Normal(0, 1), { obs: y, obsMask: m })).getTrace(),
    ).toThrow(/yy/);
    tf.dispose([m, y]);
  });
  it('Pyro spellings (obs_mask) and typos are refused naming the key', () => {
    expect(() =>
      ppl.sample('y', new D.Normal(0, 1), { obs_mask: true } as unknown as ppl.SampleOptions),
    ).toThrow(/obs_mask/);
  });
  it('an obs outside the support is an ArgumentError naming the site', () => {
    expect(() =>
      ppl.trace(() => ppl.sample('k', new D.Poisson(2), { obs: tf.scalar(-1) })).getTrace(),
    ).toThrow(/k/);
  });
});

describe('plate: broadcasting, dims, subsampling', () => {
  it('nested plates broadcast a scalar site to [rows, cols] with auto dims', () => {
    expectNoLeak(() => {
      const tr = ppl
        .trace(() =>
          ppl.plate('cols', 4, () =>
            ppl.plate('rows', 3, () => ppl.sample('z', new D.Normal(0, 1))),
          ),
        )
        .getTrace();
      expect(tr.value('z').shape).toEqual([3, 4]);
      const z = arr(tr.value('z'));
      expect(lps(tr)).toBeCloseTo(sum(z.map((v) => nlp(v, 0, 1))), 3);
      tr.dispose();
    });
  });
  it('an explicit dim -2 gives shape [n, 1]; a site already of plate size is not re-expanded', () => {
    expectNoLeak(() => {
      const tr = ppl
        .trace(() => {
          ppl.plate('p', 5, { dim: -2 }, () => ppl.sample('a', new D.Normal(0, 1)));
          ppl.plate('q', 3, () => ppl.sample('b', new D.Normal(tf.zeros([3]), 1)));
        })
        .getTrace();
      expect(tr.value('a').shape).toEqual([5, 1]);
      expect(tr.value('b').shape).toEqual([3]);
      tr.dispose();
    });
  });
  it('a site with a batch dim that does not match its plate is an ArgumentError naming it', () => {
    const loc = tf.zeros([4]);
    expect(() =>
      ppl
        .trace(() => ppl.plate('q', 3, () => ppl.sample('bad_site', new D.Normal(loc, 1))))
        .getTrace(),
    ).toThrow(/bad_site/);
    loc.dispose();
    expect(ppl.HANDLER_STACK.length).toBe(0);
  });
  it('the subsample of subsampleSize are distinct indices in [0, N); seeded runs repeat', () => {
    const draw = (s: number): number[] =>
      tf.tidy(() => ppl.seed(() => arr(ppl.plate('d', 50, { subsampleSize: 20 }, (i) => i)), s)());
    const a = draw(1);
    expect(new Set(a).size).toBe(20);
    expect(a.every((i) => Number.isInteger(i) && i >= 0 && i < 50)).toBe(true);
    expect(draw(1)).toEqual(a);
  });
  it('subsample indices as a tensor that are out of range or not integers are refused', () => {
    const oob = tf.tensor1d([0, 7], 'int32');
    const fl = tf.tensor1d([0.5, 1]);
    const f = (): void => undefined;
    expect(() => ppl.plate('d', 5, { subsample: oob }, f)).toThrow(ArgumentError);
    expect(() => ppl.plate('d', 5, { subsample: oob }, f)).toThrow(/subsample/);
    expect(() => ppl.plate('d', 5, { subsample: fl }, f)).toThrow(/subsample/);
    expect(ppl.HANDLER_STACK.length).toBe(0);
    tf.dispose([oob, fl]);
  });
  it('bad plate arguments name themselves', () => {
    const f = (): void => undefined;
    expect(() => ppl.plate('d', 0, f)).toThrow(/^size/);
    expect(() => ppl.plate('d', 3, { dim: 0 }, f)).toThrow(/^dim/);
    expect(() => ppl.plate('d', 3, { subsampleSize: 4 }, f)).toThrow(/^subsampleSize/);
    expect(() =>
      ppl.plate('d', 3, { subsample_size: 2 } as unknown as ppl.PlateOptions, f),
    ).toThrow(/subsample_size/);
  });
  it('two plates at the same dim are refused; the same plate name reused sequentially is fine', () => {
    expect(() =>
      ppl.plate('a', 2, { dim: -1 }, () => ppl.plate('b', 3, { dim: -1 }, () => undefined)),
    ).toThrow(ArgumentError);
    expect(ppl.HANDLER_STACK.length).toBe(0);
    const n = tf.tidy(() => {
      const s1 = ppl.plate('a', 2, () => ppl.sample('x', new D.Normal(0, 1))).shape;
      const s2 = ppl.plate('a', 2, () => ppl.sample('y', new D.Normal(0, 1))).shape;
      return [s1, s2];
    });
    expect(n).toEqual([[2], [2]]);
  });
});

describe('factor and deterministic', () => {
  it('factor adds its log-weight; in a plate it broadcasts, and scale/mask apply to it', () => {
    expectNoLeak(() => {
      const w = tf.tensor1d([0.5, -1, 2]);
      const m = tf.tensor1d([true, true, false], 'bool');
      const fn = (): void => {
        ppl.sample('x', new D.Normal(0, 1), { obs: tf.scalar(0.3) });
        ppl.plate('p', 3, () => ppl.factor('f', w));
        ppl.factor('g', -0.25);
      };
      const tr = ppl.trace(fn).getTrace();
      expect(lps(tr)).toBeCloseTo(nlp(0.3, 0, 1) + 1.5 - 0.25, 5);
      const ts = ppl.trace(ppl.scale(fn, 2)).getTrace();
      expect(lps(ts)).toBeCloseTo(2 * (nlp(0.3, 0, 1) + 1.5 - 0.25), 4);
      const fm = (): void => {
        ppl.plate('p', 3, () => ppl.mask(() => ppl.factor('f', w), m)());
      };
      const tm = ppl.trace(fm).getTrace();
      expect(lps(tm)).toBeCloseTo(-0.5, 5);
      for (const t of [tr, ts, tm]) t.dispose();
      tf.dispose([w, m]);
    });
  });
  it('factor inside a subsampled plate is scaled by N/n', () => {
    expectNoLeak(() => {
      const tr = ppl
        .trace(() =>
          ppl.plate('p', 10, { subsample: [2, 5] }, () => ppl.factor('f', tf.tensor1d([1, 3]))),
        )
        .getTrace();
      expect(lps(tr)).toBeCloseTo(5 * 4, 4);
      tr.dispose();
    });
  });
  it('factor with a non-tensor log-weight is refused naming logWeight', () => {
    expect(() => ppl.factor('f', 'x' as unknown as number)).toThrow(/logWeight/);
  });
  it('deterministic: recorded with log-density 0; condition replaces the value downstream', () => {
    expectNoLeak(() => {
      const fn = (): tf.Tensor => {
        const x = ppl.sample('x', new D.Normal(0, 1), { obs: tf.scalar(0.2) });
        const d = ppl.deterministic('d', tf.mul(x, 3));
        return tf.add(d, 1);
      };
      tf.tidy(() => {
        const tr = ppl.trace(fn).getTraceUntidied();
        expect(num(tr.trace.value('d'))).toBeCloseTo(0.6, 6);
        expect(num(tr.value)).toBeCloseTo(1.6, 6);
        expect(num(tr.trace.logProbSum())).toBeCloseTo(nlp(0.2, 0, 1), 5);
        const tc = ppl.trace(ppl.condition(fn, { d: 10 })).getTraceUntidied();
        expect(num(tc.value)).toBeCloseTo(11, 6);
        expect(num(tc.trace.logProbSum())).toBeCloseTo(nlp(0.2, 0, 1), 5); // d is not scored
      });
    });
  });
});

describe('reparam: LocScaleReparam and TransformReparam', () => {
  const y = [1.1, 0.4, 2.2];
  /** mu ~ N(1, 2); x ~ N(mu, 0.5); y_i ~ N(x, 1). */
  const m = (yt: tf.Tensor): void => {
    const mu = ppl.sample('mu', new D.Normal(1, 2));
    const x = ppl.sample('x', new D.Normal(mu, 0.5));
    ppl.plate('n', 3, () => ppl.sample('y', new D.Normal(x, 1), { obs: yt }));
  };
  it('LocScaleReparam(0): x = mu + 0.5 x_decentered, x_decentered ~ N(0, 1) scored, x not', () => {
    expectNoLeak(() => {
      const yt = tf.tensor1d(y);
      const tr = ppl
        .trace(ppl.seed(ppl.reparam(m, { x: new ppl.LocScaleReparam(0) }), 3))
        .getTrace(yt);
      const mu = num(tr.value('mu'));
      const dec = num(tr.value('x_decentered'));
      const x = num(tr.value('x'));
      expect(x).toBeCloseTo(mu + 0.5 * dec, 5);
      const ref = nlp(mu, 1, 2) + nlp(dec, 0, 1) + sum(y.map((v) => nlp(v, x, 1)));
      expect(lps(tr)).toBeCloseTo(ref, 4);
      expect(tr.latentSites().map((s) => s.name)).toEqual(['mu', 'x_decentered']);
      tr.dispose();
      yt.dispose();
    });
  });
  it('LocScaleReparam(1) leaves the model as it is (x scored under N(mu, 0.5))', () => {
    expectNoLeak(() => {
      const yt = tf.tensor1d(y);
      const tr = ppl
        .trace(ppl.seed(ppl.reparam(m, { x: new ppl.LocScaleReparam(1) }), 3))
        .getTrace(yt);
      const mu = num(tr.value('mu'));
      const x = num(tr.value('x'));
      // as Pyro's (centered identically one: the message is returned as it is)
      expect(tr.has('x_decentered')).toBe(false);
      expect(tr.get('x')?.isObserved).toBe(false);
      const ref = nlp(mu, 1, 2) + nlp(x, mu, 0.5) + sum(y.map((v) => nlp(v, x, 1)));
      expect(lps(tr)).toBeCloseTo(ref, 4);
      tr.dispose();
      yt.dispose();
    });
  });
  it('TransformReparam on a LogNormal (exp of Normal): x = exp(x_base), x_base scored', () => {
    expectNoLeak(() => {
      const fn = (): void => {
        const x = ppl.sample(
          'x',
          new D.TransformedDistribution(new D.Normal(0.3, 0.8), [new B.Exp()]),
        );
        ppl.sample('o', new D.Normal(x, 1), { obs: tf.scalar(1.7) });
      };
      const tr = ppl
        .trace(ppl.seed(ppl.reparam(fn, { x: new ppl.TransformReparam() }), 4))
        .getTrace();
      const b = num(tr.value('x_base'));
      const x = num(tr.value('x'));
      expect(x).toBeCloseTo(Math.exp(b), 4);
      expect(tr.latentSites().map((s) => s.name)).toEqual(['x_base']);
      expect(lps(tr)).toBeCloseTo(nlp(b, 0.3, 0.8) + nlp(1.7, Math.exp(b), 1), 4);
      // without reparam: x scored under the LogNormal density (with its Jacobian)
      const t0 = ppl.trace(ppl.seed(fn, 4)).getTrace();
      const x0 = num(t0.value('x'));
      const ref0 = nlp(Math.log(x0), 0.3, 0.8) - Math.log(x0) + nlp(1.7, x0, 1);
      expect(lps(t0)).toBeCloseTo(ref0, 4);
      tr.dispose();
      t0.dispose();
    });
  });
  it('reparam of an observed site with LocScaleReparam is an error naming the site', () => {
    const bad = (): void => {
      ppl.sample('obs_site', new D.Normal(0, 1), { obs: tf.scalar(0) });
    };
    expect(() =>
      ppl.trace(ppl.reparam(bad, { obs_site: new ppl.LocScaleReparam(0) })).getTrace(),
    ).toThrow(/obs_site/);
  });
});

/**
 * Fresh-eyes audit (round 16) of Pyro's poutine handlers as a Pyro user reads our docs:
 * composition order (condition inside/outside trace, block inside/outside replay, scale x mask,
 * nested scales and subsampled plates), `do` versus `condition` log-density accounting, `seed`,
 * `substitute`, `uncondition`, `lift`, `inferConfig`, `escape`/`queue` exact enumeration. Every
 * log-density is checked against a float64 computation in plain JS.
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../src/index.js';
import { ArgumentError } from '../../src/utils/errors.js';
import { expectNoLeak } from '../helpers.js';
import { normalLp as nlp } from '../fixtures/float64.js';
import { arr, lps, num, sum } from '../fixtures/tensors.js';

afterEach(() => {
  ppl.clearParamStore();
  expect(ppl.HANDLER_STACK.length).toBe(0);
});

const Y = [0.3, -1.2, 2.5, 0.8];
/** mu ~ N(0, 2); y_i ~ N(mu, 1.5) in a plate of 4. */
const model = (y: tf.Tensor | null): tf.Tensor => {
  const mu = ppl.sample('mu', new D.Normal(0, 2));
  ppl.plate('data', 4, () => ppl.sample('y', new D.Normal(mu, 1.5), { obs: y }));
  return mu;
};
const refJoint = (mu: number, y: number[]): number =>
  nlp(mu, 0, 2) + sum(y.map((v) => nlp(v, mu, 1.5)));

describe('trace and condition, in either order', () => {
  it('trace(model).logProbSum() is log p(mu) + sum log p(y | mu) (float64)', () => {
    expectNoLeak(() => {
      const y = tf.tensor1d(Y);
      const tr = ppl.trace(model).getTrace(y);
      const mu = num(tr.value('mu'));
      expect(lps(tr)).toBeCloseTo(refJoint(mu, Y), 4);
      expect(tr.latentSites().map((s) => s.name)).toEqual(['mu']);
      expect(tr.observedSites().map((s) => s.name)).toEqual(['y']);
      expect(tr.get('y')?.fn?.batchShape).toEqual([4]);
      tr.dispose();
      y.dispose();
    });
  });
  it('condition outside trace and trace of condition give the same observed sites', () => {
    expectNoLeak(() => {
      const data = { mu: tf.scalar(0.7), y: tf.tensor1d(Y) };
      const t1 = ppl.trace(ppl.condition(model, data)).getTrace(null);
      // condition outside trace: the trace (inner) sees the conditioned message on the way out
      let inner: ppl.Trace | undefined;
      const traced = ppl.trace(model);
      ppl.condition((y: tf.Tensor | null) => {
        inner = traced.getTrace(y);
      }, data)(null);
      const t2 = inner as ppl.Trace;
      for (const t of [t1, t2]) {
        expect(t.get('mu')?.isObserved).toBe(true);
        expect(num(t.value('mu'))).toBeCloseTo(0.7, 6);
        expect(arr(t.value('y'))).toEqual(arr(data.y));
        expect(lps(t)).toBeCloseTo(refJoint(0.7, Y), 4);
      }
      t1.dispose();
      t2.dispose();
      tf.dispose(data);
    });
  });
  it('condition with a site the model lacks is ignored, as Pyro (no error, no site)', () => {
    expectNoLeak(() => {
      const y = tf.tensor1d(Y);
      const tr = ppl.trace(ppl.condition(model, { nope: 1, mu: 0.1 })).getTrace(y);
      expect(tr.has('nope')).toBe(false);
      expect(lps(tr)).toBeCloseTo(refJoint(0.1, Y), 4);
      tr.dispose();
      y.dispose();
    });
  });
  it('condition(fn, trace) observes every sample site of the trace at its value', () => {
    expectNoLeak(() => {
      const y = tf.tensor1d(Y);
      const src = ppl.trace(ppl.seed(model, 3)).getTrace(y);
      const tr = ppl.trace(ppl.condition(model, src)).getTrace(null);
      expect(num(tr.value('mu'))).toBe(num(src.value('mu')));
      expect(tr.get('mu')?.isObserved).toBe(true);
      expect(lps(tr)).toBeCloseTo(lps(src), 5);
      tr.dispose();
      src.dispose();
      y.dispose();
    });
  });
  it('condition refuses a string or disposed value naming the site before the run', () => {
    const t = tf.scalar(1);
    t.dispose();
    let ran = false;
    const m = (): void => {
      ran = true;
    };
    expect(() => ppl.condition(m, { mu: t })).toThrow(ArgumentError);
    expect(() => ppl.condition(m, { mu: t })).toThrow(/mu/);
    expect(() => ppl.condition(m, { mu: 'a' as unknown as number })).toThrow(/mu/);
    expect(() => ppl.condition(m, null as unknown as Record<string, number>)).toThrow(
      ArgumentError,
    );
    expect(ran).toBe(false);
  });
});

describe('do (intervene) versus condition', () => {
  /** x ~ N(0, 1); y ~ N(2 x, 0.5); returns y. */
  const causal = (): tf.Tensor => {
    const x = ppl.sample('x', new D.Normal(0, 1));
    return ppl.sample('y', new D.Normal(tf.mul(x, 2), 0.5));
  };
  it('do: downstream sites see the intervened value; x itself is still drawn from its prior', () => {
    expectNoLeak(() => {
      const tr = ppl.trace(ppl.seed(ppl.intervene(causal, { x: 1.5 }), 11)).getTrace();
      const y = num(tr.value('y'));
      const x = num(tr.value('x'));
      // the actual x is a fresh prior draw, not the intervention
      expect(tr.get('x')?.isObserved).toBe(false);
      expect(x).not.toBeCloseTo(1.5, 3);
      // y was drawn around 2 * 1.5
      const yFn = tr.get('y')?.fn as D.Normal;
      expect(num(yFn.loc)).toBeCloseTo(3, 6);
      // condition instead: x observed at 1.5, scored
      const tc = ppl.trace(ppl.condition(causal, { x: 1.5, y })).getTrace();
      expect(lps(tc)).toBeCloseTo(nlp(1.5, 0, 1) + nlp(y, 3, 0.5), 4);
      tr.dispose();
      tc.dispose();
    });
  });
  it('do on y only: x is unaffected; the return value is the intervention', () => {
    const out = tf.tidy(() => num(ppl.intervene(causal, { y: -4 })()));
    expect(out).toBe(-4);
  });
});

describe('block and replay', () => {
  const guide = (): void => {
    ppl.sample('mu', new D.Normal(5, 0.1));
  };
  it('block inside replay hides the site from replay (fresh draw); outside, it is replayed', () => {
    expectNoLeak(() => {
      const y = tf.tensor1d(Y);
      const gt = ppl.trace(guide).getTrace();
      const g = num(gt.value('mu'));
      const inner = ppl.trace(ppl.replay(ppl.block(model, { hide: ['mu'] }), gt)).getTrace(y);
      expect(inner.has('mu')).toBe(false); // hidden from the outer trace too
      const outer = ppl.trace(ppl.block(ppl.replay(model, gt), { hide: ['y'] })).getTrace(y);
      expect(num(outer.value('mu'))).toBe(g);
      expect(outer.has('y')).toBe(false);
      // replayed model's log density at the guide's value
      const full = ppl.trace(ppl.replay(model, gt)).getTrace(y);
      expect(lps(full)).toBeCloseTo(refJoint(g, Y), 3);
      // the inner blocked run drew mu near its prior, not at the guide's 5 +- 0.1: the
      // returned mu differs from the replayed one
      const muBlocked = tf.tidy(() =>
        num(ppl.seed(ppl.replay(ppl.block(model, { hide: ['mu'] }), gt), 1)(y)),
      );
      expect(Math.abs(muBlocked - g)).toBeGreaterThan(0);
      for (const t of [gt, inner, outer, full]) t.dispose();
      y.dispose();
    });
  });
  it('block hideTypes/exposeTypes and hideAll/exposeAll', () => {
    expectNoLeak(() => {
      const y = tf.tensor1d(Y);
      const m = (): void => {
        ppl.param('p', 1);
        model(y);
      };
      const names = (o: ppl.BlockOptions): string[] => {
        const tr = ppl.trace(ppl.block(m, o)).getTrace();
        // the plate's subsample site is recorded too, as Pyro's trace records the plate's node
        const n = tr
          .sites()
          .filter((s) => s.type !== 'subsample')
          .map((s) => s.name);
        tr.dispose();
        return n;
      };
      expect(names({ hideTypes: ['param'] })).toEqual(['mu', 'y']);
      expect(names({ exposeTypes: ['param'] })).toEqual(['p']);
      expect(names({ hideAll: true })).toEqual([]);
      expect(names({ exposeAll: true })).toEqual(['p', 'mu', 'y']);
      expect(names({ expose: ['y'] })).toEqual(['y']);
      expect(names({ hideFn: (s) => s.isObserved })).toEqual(['p', 'mu']);
      y.dispose();
      ppl.clearParamStore(); // the param 'p' lives in the store
    });
  });
  it('replay keeps observed sites at their data (only latents are replayed)', () => {
    expectNoLeak(() => {
      const y = tf.tensor1d(Y);
      const other = tf.tensor1d([9, 9, 9, 9]);
      const gt = ppl.trace(model).getTrace(other); // a trace whose y is different
      const tr = ppl.trace(ppl.replay(model, gt)).getTrace(y);
      expect(arr(tr.value('y'))).toEqual(Y.map((v) => Math.fround(v)));
      expect(num(tr.value('mu'))).toBe(num(gt.value('mu')));
      tr.dispose();
      gt.dispose();
      tf.dispose([y, other]);
    });
  });
});

describe('scale, mask and subsampled plates', () => {
  it('scale(mask(model, m), 3): log p = 3 * sum m * log p, for latent and observed sites', () => {
    expectNoLeak(() => {
      const y = tf.tensor1d(Y);
      const m = tf.tensor1d([true, false, true, true], 'bool');
      const yOnly = (): void => {
        ppl.plate('data', 4, () => ppl.sample('y', new D.Normal(0.5, 1.5), { obs: y }));
      };
      const tr = ppl.trace(ppl.scale(ppl.mask(yOnly, m), 3)).getTrace();
      const ref = 3 * sum(Y.map((v, i) => (i === 1 ? 0 : nlp(v, 0.5, 1.5))));
      expect(lps(tr)).toBeCloseTo(ref, 4);
      // the other order is the same
      const tr2 = ppl.trace(ppl.mask(ppl.scale(yOnly, 3), m)).getTrace();
      expect(lps(tr2)).toBeCloseTo(ref, 4);
      tr.dispose();
      tr2.dispose();
      tf.dispose([y, m]);
    });
  });
  it('nested masks combine by and; mask(false) zeroes a latent site but still draws it', () => {
    expectNoLeak(() => {
      const m1 = tf.tensor1d([true, true, false], 'bool');
      const m2 = tf.tensor1d([false, true, true], 'bool');
      const fn = (): void => {
        ppl.plate('p', 3, () => ppl.sample('z', new D.Normal(0, 1)));
      };
      const tr = ppl.trace(ppl.mask(ppl.mask(ppl.seed(fn, 4), m1), m2)).getTrace();
      const z = arr(tr.value('z'));
      expect(lps(tr)).toBeCloseTo(nlp(z[1] as number, 0, 1), 4);
      const off = ppl.trace(ppl.mask(fn, false)).getTrace();
      expect(lps(off)).toBe(0);
      expect(off.value('z').shape).toEqual([3]);
      tr.dispose();
      off.dispose();
      tf.dispose([m1, m2]);
    });
  });
  it('nested scales multiply and compose with the plate subsample scale N/n', () => {
    expectNoLeak(() => {
      const data = [0.1, 0.4, -0.3, 1.1, 2.0, -0.7, 0.9, 0.2, -1.4, 0.6];
      const yAll = tf.tensor1d(data);
      const fn = (): void => {
        ppl.plate('d', 10, { subsample: [1, 4, 7] }, (idx) =>
          ppl.sample('y', new D.Normal(0, 1), { obs: tf.gather(yAll, idx) }),
        );
      };
      const tr = ppl.trace(ppl.scale(ppl.scale(fn, 2), 0.25)).getTrace();
      const ref = 0.5 * (10 / 3) * sum([1, 4, 7].map((i) => nlp(data[i] as number, 0, 1)));
      expect(lps(tr)).toBeCloseTo(ref, 4);
      expect(tr.get('y')?.scale).toBeCloseTo(0.5 * (10 / 3), 6);
      tr.dispose();
      yAll.dispose();
    });
  });
  it('two nested subsampled plates scale by (N1/n1)(N2/n2)', () => {
    expectNoLeak(() => {
      const fn = (): void => {
        ppl.plate('a', 6, { subsampleSize: 2 }, () =>
          ppl.plate('b', 5, { subsampleSize: 4 }, () =>
            ppl.sample('z', new D.Normal(0, 1), { obs: tf.zeros([4, 2]) }),
          ),
        );
      };
      const tr = ppl.trace(fn).getTrace();
      expect(tr.get('z')?.scale).toBeCloseTo(3 * 1.25, 6);
      expect(lps(tr)).toBeCloseTo(3 * 1.25 * 8 * nlp(0, 0, 1), 4);
      tr.dispose();
    });
  });
  it('a tensor scale weights plate members (per-datum weights)', () => {
    expectNoLeak(() => {
      const w = tf.tensor1d([1, 0.5, 2, 4]);
      const y = tf.tensor1d(Y);
      const fn = (): void => {
        ppl.plate('data', 4, () => ppl.sample('y', new D.Normal(0, 1), { obs: y }));
      };
      const tr = ppl.trace(ppl.scale(fn, w)).getTrace();
      const ref = sum(Y.map((v, i) => [1, 0.5, 2, 4][i]! * nlp(v, 0, 1)));
      expect(lps(tr)).toBeCloseTo(ref, 4);
      tr.dispose();
      tf.dispose([w, y]);
    });
  });
  it('bad scale and mask arguments are ArgumentErrors naming them', () => {
    const f = (): void => undefined;
    for (const bad of [0, -1, NaN, Infinity]) {
      expect(() => ppl.scale(f, bad)).toThrow(ArgumentError);
      expect(() => ppl.scale(f, bad)).toThrow(/^scale/);
    }
    expect(() => ppl.mask(f, 1 as unknown as boolean)).toThrow(/^mask/);
  });
});

describe('seed', () => {
  it('the same seed gives the same draws for every site kind; different seeds differ', () => {
    const fn = (): number[] =>
      tf.tidy(() => {
        const a = ppl.sample('a', new D.Gamma(2, 3));
        const b = ppl.sample('b', new D.Bernoulli({ probs: 0.4 }), {});
        const c = ppl.plate('n', 20, { subsampleSize: 5 }, (i) => i);
        const d = ppl.sample('d', new D.Dirichlet(tf.ones([3])));
        return [...arr(a), ...arr(b), ...arr(c), ...arr(d)];
      });
    const r1 = ppl.seed(fn, 123)();
    const r2 = ppl.seed(fn, 123)();
    const r3 = ppl.seed(fn, 124)();
    expect(r1).toEqual(r2);
    expect(r1).not.toEqual(r3);
  });
  it('a seed that is not a finite integer is an ArgumentError naming it', () => {
    const f = (): void => undefined;
    for (const bad of [NaN, Infinity, -Infinity, '3' as unknown as number]) {
      expect(() => ppl.seed(f, bad)).toThrow(ArgumentError);
    }
  });
});

describe('substitute, uncondition, lift, inferConfig', () => {
  it('substitute sets params and latents; observed sites keep their data', () => {
    expectNoLeak(() => {
      const y = tf.tensor1d(Y);
      const g = (): tf.Tensor => {
        const loc = ppl.param('loc', 0);
        const s = ppl.param('s', 1, { constraint: ppl.constraints.positive });
        return ppl.sample('mu', new D.Normal(loc, s));
      };
      const tr = ppl.trace(ppl.substitute(g, { loc: 2, s: 0.5 })).getTrace();
      expect(num(tr.value('loc'))).toBe(2);
      expect(num(tr.value('s'))).toBe(0.5);
      const d = tr.get('mu')?.fn as D.Normal;
      expect(num(d.scale)).toBeCloseTo(0.5, 6);
      // the store was not touched by substitute (no entry created)
      expect(ppl.getParamStore().has('loc')).toBe(false);
      const tm = ppl.trace(ppl.substitute(model, { mu: 0.25, y: [0, 0, 0, 0] })).getTrace(y);
      expect(num(tm.value('mu'))).toBe(0.25);
      expect(tm.get('mu')?.isObserved).toBe(false);
      expect(arr(tm.value('y'))).toEqual(Y.map((v) => Math.fround(v)));
      expect(lps(tm)).toBeCloseTo(refJoint(0.25, Y), 4);
      tr.dispose();
      tm.dispose();
      y.dispose();
    });
  });
  it('uncondition draws observed sites; condition on top observes them again', () => {
    expectNoLeak(() => {
      const y = tf.tensor1d(Y);
      const tr = ppl.trace(ppl.seed(ppl.uncondition(model), 2)).getTrace(y);
      expect(tr.get('y')?.isObserved).toBe(false);
      expect(arr(tr.value('y'))).not.toEqual(arr(y));
      expect(tr.value('y').shape).toEqual([4]);
      const back = ppl.trace(ppl.condition(ppl.uncondition(model), { y, mu: 0 })).getTrace(y);
      expect(back.get('y')?.isObserved).toBe(true);
      expect(lps(back)).toBeCloseTo(refJoint(0, Y), 4);
      tr.dispose();
      back.dispose();
      y.dispose();
    });
  });
  it('lift: a param becomes a latent sample site scored under the prior', () => {
    expectNoLeak(() => {
      const g = (): tf.Tensor => {
        const w = ppl.param('w', tf.tensor1d([0.5, -0.5]));
        return ppl.sample('o', new D.Normal(tf.sum(w), 1), { obs: tf.scalar(0.3) });
      };
      // as Pyro's lift, the prior is not expanded to the param's shape: give it the shape
      const prior = new D.Normal(tf.zeros([2]), 3);
      const tr = ppl.trace(ppl.seed(ppl.lift(g, prior), 5)).getTrace();
      const w = tr.get('w');
      expect(w?.type).toBe('sample');
      expect(w?.isObserved).toBe(false);
      expect(tr.value('w').shape).toEqual([2]);
      const wv = arr(tr.value('w'));
      const ref = sum(wv.map((v) => nlp(v, 0, 3))) + nlp(0.3, sum(wv), 1);
      expect(lps(tr)).toBeCloseTo(ref, 4);
      tr.dispose();
      tf.dispose([prior.loc, prior.scale]);
    });
  });
  it('inferConfig annotates sites; sample(..., {infer}) keeps user annotations', () => {
    expectNoLeak(() => {
      const f = (): void => {
        ppl.sample('a', new D.Normal(0, 1), { infer: { foo: 1 } });
        ppl.sample('b', new D.Bernoulli({ probs: 0.5 }));
      };
      const tr = ppl
        .trace(ppl.inferConfig(f, (msg) => (msg.name === 'b' ? { enumerate: 'parallel' } : {})))
        .getTrace();
      expect(tr.get('a')?.infer).toMatchObject({ foo: 1 });
      expect(tr.get('b')?.infer).toMatchObject({ enumerate: 'parallel' });
      tr.dispose();
    });
  });
});

describe('escape and queue: exact enumeration of discrete sites', () => {
  /** z1 ~ Bernoulli(0.3), z2 ~ Categorical([0.2, 0.5, 0.3]); y ~ N(z1 + z2, 1) at 1.4. */
  const disc = (): void => {
    const z1 = ppl.sample('z1', new D.Bernoulli({ probs: 0.3 }));
    const z2 = ppl.sample('z2', new D.Categorical({ probs: tf.tensor1d([0.2, 0.5, 0.3]) }));
    ppl.sample('y', new D.Normal(tf.add(z1, tf.cast(z2, 'float32')), 1), {
      obs: tf.scalar(1.4),
    });
  };
  it('sum over the queue`s traces of exp(logProbSum) is p(y) (float64 sum)', () => {
    expectNoLeak(() => {
      const q = new ppl.TraceQueue();
      q.put(new ppl.Trace());
      const qm = ppl.queue(disc, q);
      let total = 0;
      let n = 0;
      const seen = new Set<string>();
      while (!q.empty()) {
        const tr = ppl.trace(qm).getTrace();
        total += Math.exp(lps(tr));
        seen.add(`${num(tr.value('z1'))},${num(tr.value('z2'))}`);
        n++;
        tr.dispose();
      }
      let ref = 0;
      for (const [a, pa] of [
        [0, 0.7],
        [1, 0.3],
      ] as const)
        for (const [b, pb] of [
          [0, 0.2],
          [1, 0.5],
          [2, 0.3],
        ] as const)
          ref += pa * pb * Math.exp(nlp(1.4, a + b, 1));
      expect(n).toBe(6);
      expect(seen.size).toBe(6);
      expect(total).toBeCloseTo(ref, 5);
    });
  });
  it('escape leaves at the chosen site with NonlocalExit carrying the site', () => {
    let caught: unknown;
    tf.tidy(() => {
      try {
        ppl.escape(disc, (msg) => msg.name === 'z2')();
      } catch (e) {
        caught = e;
      }
    });
    expect(caught).toBeInstanceOf(ppl.NonlocalExit);
    expect((caught as ppl.NonlocalExit).site.name).toBe('z2');
  });
});

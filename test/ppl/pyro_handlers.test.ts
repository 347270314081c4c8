/**
 * Pyro's poutine handlers a ported program meets: `lift`, `uncondition`, `block`'s combined
 * options and `exposeFn`, and `condition` on a `deterministic` site (masked, as Pyro's).
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../src/index.js';
import { expectNoLeak } from '../helpers.js';

const LOG_2PI = Math.log(2 * Math.PI);
const normalLogpdf = (x: number, m: number, s: number): number =>
  -0.5 * LOG_2PI - Math.log(s) - (0.5 * (x - m) ** 2) / s ** 2;
const num = (t: tf.Tensor): number => t.dataSync()[0] as number;

afterEach(() => {
  ppl.clearParamStore();
  expect(ppl.HANDLER_STACK.length).toBe(0);
});

/** `y ~ N(w * x + b, 1)` with the parameters `w` and `b`. */
const regression = (x: tf.Tensor, y: tf.Tensor): void => {
  const w = ppl.param('w', 0.5);
  const b = ppl.param('b', -1);
  ppl.plate('data', x.shape[0] as number, () =>
    ppl.sample('y', new D.Normal(tf.add(tf.mul(w, x), b), 1), { obs: y }),
  );
};

describe('lift', () => {
  const xs = [0.5, -1, 2];
  const ys = [1, 0.2, 2.5];

  it('turns every param into a latent site of one prior: log joint = closed form', () => {
    const prior = new D.Normal(0, 2);
    const x = tf.tensor1d(xs);
    const y = tf.tensor1d(ys);
    const tr = ppl.trace(ppl.seed(ppl.lift(regression, prior), 3)).getTrace(x, y);
    for (const n of ['w', 'b']) {
      expect(tr.get(n)?.type).toBe('sample');
      expect(tr.get(n)?.isObserved).toBe(false);
    }
    const w = num(tr.value('w'));
    const b = num(tr.value('b'));
    expect(w).not.toBe(0.5);
    let ref = normalLogpdf(w, 0, 2) + normalLogpdf(b, 0, 2);
    xs.forEach((xi, i) => (ref += normalLogpdf(ys[i] as number, w * xi + b, 1)));
    expect(num(tr.logProbSum())).toBeCloseTo(ref, 4);
    expect(ppl.getParamStore().names()).toEqual([]); // the store was not read
    tr.dispose();
    tf.dispose([x, y]);
    prior.dispose();
  });

  it('with a record lifts only the named params; the rest stay params', () => {
    const prior = new D.Normal(1, 0.1);
    const x = tf.tensor1d(xs);
    const y = tf.tensor1d(ys);
    const tr = ppl.trace(ppl.lift(regression, { w: prior })).getTrace(x, y);
    expect(tr.get('w')?.type).toBe('sample');
    expect(tr.get('b')?.type).toBe('param');
    expect(num(tr.value('b'))).toBeCloseTo(-1, 6);
    tr.dispose();
    tf.dispose([x, y]);
    prior.dispose();
  });

  it('draws a param read twice in a run once', () => {
    const prior = new D.Normal(0, 1);
    const twice = (): tf.Tensor => tf.sub(ppl.param('w', 0), ppl.param('w', 0));
    const tr = ppl.trace(ppl.lift(twice, prior)).getTrace();
    expect(tr.sampleSites().map((s) => s.name)).toEqual(['w']);
    tr.dispose();
    const d = tf.tidy(() => ppl.lift(twice, prior)());
    expect(num(d)).toBe(0);
    d.dispose();
    prior.dispose();
  });

  it('gives the conjugate posterior of a lifted mean by importance sampling', () => {
    // y_i ~ N(mu, 1), mu = param lifted to N(0, 1): posterior N(sum y / (n + 1), 1 / (n + 1))
    const data = tf.tensor1d([0.3, 1.2, 0.8, 1.9]);
    const prior = new D.Normal(0, 1);
    const model = (y: tf.Tensor): void => {
      const mu = ppl.param('mu', 0);
      ppl.plate('d', 4, () => ppl.sample('y', new D.Normal(mu, 1), { obs: y }));
    };
    const res = new ppl.Importance(ppl.lift(model, prior), { numSamples: 4000 }).run(data);
    const m = res.marginal('mu');
    const mean = num(m.mean());
    const sd = Math.sqrt(1 / 5);
    // prior-proposal importance sampling: standard error sd / sqrt(ESS)
    expect(Math.abs(mean - 4.2 / 5)).toBeLessThan((5 * sd) / Math.sqrt(res.ess));
    res.dispose();
    tf.dispose(data);
    prior.dispose();
  });

  it('lets NUTS sample the lifted param: the conjugate posterior within 5 Monte Carlo SE', async () => {
    const data = tf.tensor1d([0.3, 1.2, 0.8, 1.9]);
    const prior = new D.Normal(0, 1);
    const model = (y: tf.Tensor): void => {
      const mu = ppl.param('mu', 0);
      ppl.plate('d', 4, () => ppl.sample('y', new D.Normal(mu, 1), { obs: y }));
    };
    const m = new ppl.MCMC(new ppl.NUTS(ppl.lift(model, { mu: prior })), {
      numSamples: 1000,
      warmupSteps: 300,
      progressBar: false,
      seed: 2,
    });
    await m.run(data);
    const s = m.getSamples();
    const v = Array.from((s.mu as tf.Tensor).dataSync());
    const mean = v.reduce((a, b) => a + b, 0) / v.length;
    const e = ppl.mcmc.ess([v]);
    expect(Math.abs(mean - 4.2 / 5)).toBeLessThan(5 * Math.sqrt(0.2 / e));
    expect(ppl.getParamStore().names()).toEqual([]);
    tf.dispose(Object.values(s));
    data.dispose();
    prior.dispose();
  }, 60_000);

  it('refuses bad priors naming prior, and a prior naming no param of the run', () => {
    const x = tf.tensor1d(xs);
    const y = tf.tensor1d(ys);
    const prior = new D.Normal(0, 1);
    expect(() => ppl.lift(regression, 3 as never)).toThrow(/^prior: lift: expected a Distribution/);
    expect(() => ppl.lift(regression, {})).toThrow(/^prior: lift: expected at least one/);
    expect(() => ppl.lift(regression, { w: 'N' } as never)).toThrow(/^prior: lift: param 'w'/);
    expectNoLeak(() => {
      expect(() => ppl.trace(ppl.lift(regression, { wt: prior })).getTrace(x, y)).toThrow(
        /^prior: lift: no param site named 'wt'/,
      );
      ppl.clearParamStore(); // w and b were created in the store (not lifted)
    });
    tf.dispose([x, y]);
    prior.dispose();
  });
});

describe('uncondition', () => {
  it('draws observed sites from the model (Monte Carlo mean and variance)', () => {
    const n = 4000;
    const obs = tf.zeros([n]);
    const model = (y: tf.Tensor): void => {
      ppl.plate('data', n, () => ppl.sample('y', new D.Normal(3, 2), { obs: y }));
    };
    const tr = ppl.trace(ppl.seed(ppl.uncondition(model), 11)).getTrace(obs);
    const site = tr.get('y');
    expect(site?.isObserved).toBe(false);
    expect(site?.infer['wasObserved']).toBe(true);
    expect((site?.infer['obs'] as tf.Tensor).dataSync()).toEqual(obs.dataSync());
    const v = Array.from(tr.value('y').dataSync());
    const mean = v.reduce((a, b) => a + b, 0) / n;
    const variance = v.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1);
    expect(Math.abs(mean - 3)).toBeLessThan((5 * 2) / Math.sqrt(n));
    // var of the sample variance of a normal: 2 sigma^4 / (n - 1)
    expect(Math.abs(variance - 4)).toBeLessThan(5 * Math.sqrt((2 * 16) / (n - 1)));
    tr.dispose();
    obs.dispose();
  });

  it('undoes an inner condition, unobserves deterministic sites (as Pyro); an outer condition observes again', () => {
    const model = (): tf.Tensor => {
      const z = ppl.sample('z', new D.Normal(0, 1));
      return ppl.deterministic('d', tf.mul(z, 2));
    };
    const inner = ppl.uncondition(ppl.condition(model, { z: 5 }));
    const t1 = ppl.trace(ppl.seed(inner, 1)).getTrace();
    expect(t1.get('z')?.isObserved).toBe(false);
    expect(num(t1.value('z'))).not.toBe(5);
    expect(t1.get('d')?.isObserved).toBe(false);
    expect(num(t1.value('d'))).toBeCloseTo(2 * num(t1.value('z')), 5);
    t1.dispose();
    const outer = ppl.condition(ppl.uncondition(model), { z: 5 });
    const t2 = ppl.trace(outer).getTrace();
    expect(t2.get('z')?.isObserved).toBe(true);
    expect(num(t2.value('z'))).toBe(5);
    t2.dispose();
  });
});

describe('substitute with a function (NumPyro`s substitute_fn)', () => {
  const model = (): tf.Tensor => {
    const p = ppl.param('p', 1);
    const z = ppl.sample('z', new D.Normal(p, 1));
    ppl.sample('y', new D.Normal(z, 1), { obs: 0.5 });
    return z;
  };
  it('sets the sites it returns a value for, leaves the rest and the observations', () => {
    const fn = (msg: ppl.Message): tf.TensorLike | undefined =>
      msg.type === 'param' ? 3 : msg.name === 'z' ? [2.5] : msg.name === 'y' ? 9 : undefined;
    const tr = ppl.trace(ppl.substitute(model, fn)).getTrace();
    expect(num(tr.value('p'))).toBe(3);
    expect(num(tr.value('z'))).toBe(2.5);
    expect(num(tr.value('y'))).toBe(0.5);
    const ref = normalLogpdf(2.5, 3, 1) + normalLogpdf(0.5, 2.5, 1);
    expect(num(tr.logProbSum())).toBeCloseTo(ref, 4);
    tr.dispose();
    const none = ppl
      .trace(
        ppl.seed(
          ppl.substitute(model, () => null),
          1,
        ),
      )
      .getTrace();
    expect(num(none.value('p'))).toBeCloseTo(1, 6);
    none.dispose();
  });
  it('names the site when the function returns something that is not a value', () => {
    expectNoLeak(() => {
      expect(() =>
        ppl
          .trace(ppl.substitute(model, (m) => (m.name === 'z' ? ('x' as never) : undefined)))
          .getTrace(),
      ).toThrow(/^data: substitute \(the function\): site 'z': expected a live numeric tensor/);
      ppl.clearParamStore();
    });
  });
});

describe('condition on a trace (Pyro`s condition(data=trace))', () => {
  it('observes every sample site of the trace at its value', () => {
    const model = (): void => {
      const a = ppl.sample('a', new D.Normal(0, 1));
      ppl.sample('b', new D.Normal(a, 2));
    };
    const tr0 = ppl.trace(ppl.seed(model, 4)).getTrace();
    const a = num(tr0.value('a'));
    const b = num(tr0.value('b'));
    const tr = ppl.trace(ppl.condition(model, tr0)).getTrace();
    expect(tr.get('a')?.isObserved).toBe(true);
    expect(num(tr.value('a'))).toBe(a);
    expect(num(tr.value('b'))).toBe(b);
    expect(num(tr.logProbSum())).toBeCloseTo(normalLogpdf(a, 0, 1) + normalLogpdf(b, a, 2), 4);
    tr.dispose();
    tr0.dispose();
  });
});

describe('block as Pyro combines its options', () => {
  const model = (): void => {
    ppl.param('p', 1);
    ppl.sample('a', new D.Normal(0, 1));
    ppl.sample('b', new D.Normal(0, 1));
  };
  const seen = (o: ppl.BlockOptions): string[] => {
    const tr = ppl.trace(ppl.block(model, o)).getTrace();
    const names = tr.sites().map((s) => s.name);
    tr.dispose();
    return names;
  };
  it('hides the union of the hidden names and types; expose hides the rest', () => {
    // truth table of Pyro's _make_default_hide_fn
    expect(seen({})).toEqual([]);
    expect(seen({ hide: ['a'] })).toEqual(['p', 'b']);
    expect(seen({ hide: ['a'], hideTypes: ['param'] })).toEqual(['b']);
    expect(seen({ expose: ['a'] })).toEqual(['a']);
    expect(seen({ exposeTypes: ['sample'] })).toEqual(['a', 'b']);
    expect(seen({ exposeTypes: ['sample'], hide: ['b'] })).toEqual(['a']);
    expect(seen({ expose: ['p'], exposeTypes: ['sample'] })).toEqual(['p', 'a', 'b']);
    expect(seen({ hideAll: false })).toEqual(['p', 'a', 'b']);
    expect(seen({ exposeAll: true, hide: ['p'] })).toEqual(['a', 'b']);
    expect(seen({ exposeFn: (m) => m.name === 'b' })).toEqual(['b']);
    expect(seen({ hideFn: (m) => m.name === 'b' })).toEqual(['p', 'a']);
  });
  it('refuses contradictory options naming them', () => {
    expect(() => ppl.block(model, { hide: ['a'], expose: ['a'] })).toThrow(
      /^expose: block: site 'a' is in both hide and expose/,
    );
    expect(() => ppl.block(model, { hideTypes: ['param'], exposeTypes: ['param'] })).toThrow(
      /^exposeTypes: block: type 'param'/,
    );
    expect(() => ppl.block(model, { hideFn: () => true, exposeFn: () => true })).toThrow(
      /^exposeFn: block: give only one/,
    );
    expect(() => ppl.block(model, { exposeFn: 1 as never })).toThrow(
      /^exposeFn: block: expected a function/,
    );
    expect(() => ppl.block(model, { hideAll: 'yes' as never })).toThrow(
      /^hideAll: block: expected a boolean/,
    );
  });
});

describe('deterministic sites are masked, as Pyro`s', () => {
  const model = (): tf.Tensor => {
    const x = ppl.sample('x', new D.Normal(0, 1));
    const d = ppl.deterministic('d', tf.mul(x, 2));
    return ppl.sample('y', new D.Normal(d, 1), { obs: 1 });
  };
  it('condition on one replaces the value downstream sees and scores 0 for it', () => {
    const tr = ppl.trace(ppl.seed(ppl.condition(model, { d: 3 }), 2)).getTrace();
    const x = num(tr.value('x'));
    expect(num(tr.value('d'))).toBe(3);
    // log p = log N(x; 0, 1) + 0 + log N(1; 3, 1); it was -Infinity (Delta(2x) at 3)
    expect(num(tr.logProbSum())).toBeCloseTo(normalLogpdf(x, 0, 1) + normalLogpdf(1, 3, 1), 4);
    tr.dispose();
  });
  it('an unconditioned one scores 0 and holds the computed value', () => {
    const tr = ppl.trace(ppl.seed(model, 2)).getTrace();
    const x = num(tr.value('x'));
    expect(num(tr.value('d'))).toBeCloseTo(2 * x, 6);
    expect(num(tr.logProbSum())).toBeCloseTo(normalLogpdf(x, 0, 1) + normalLogpdf(1, 2 * x, 1), 4);
    tr.dispose();
  });
  it('checks its arguments naming them', () => {
    expect(() => ppl.deterministic('', tf.scalar(1))).toThrow(/^name:/);
    expect(() => ppl.deterministic('d', 3 as never)).toThrow(/^value: deterministic\('d'\)/);
    const v = tf.scalar(1);
    expect(() => ppl.deterministic('d', v, 1)).toThrow(/^eventDim: deterministic\('d'\)/);
    v.dispose();
  });
});

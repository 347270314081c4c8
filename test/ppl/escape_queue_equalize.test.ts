/**
 * Pyro's `escape`, `queue` (with `enum_extend` and `iter_discrete_traces`) and `equalize`, on the
 * models of Pyro's own tests (`EscapeHandlerTests`, `QueueHandlerDiscreteTest`,
 * `QueueHandlerMixedTest`, `EqualizeHandlerTests`, `test_condition_by_equalize`), with the exact
 * marginal likelihood by sequential enumeration against brute force.
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../src/index.js';
import { expectNoLeak } from '../helpers.js';

const LOG_2PI = Math.log(2 * Math.PI);
const normalLogpdf = (x: number, m: number, s: number): number =>
  -0.5 * LOG_2PI - Math.log(s) - (0.5 * (x - m) ** 2) / s ** 2;
const num = (t: tf.Tensor): number => t.dataSync()[0] as number;
const logp = (tr: ppl.Trace): number => tf.tidy(() => num(tr.logProbSum()));

afterEach(() => {
  ppl.clearParamStore();
  expect(ppl.HANDLER_STACK.length).toBe(0);
});

/** Pyro's mixed model: x ~ N(0, 1), y ~ Bern(0.5), z ~ N(0, 1). */
const mixed = (): Record<string, tf.Tensor> => {
  const x = ppl.sample('x', new D.Normal(tf.zeros([1]), tf.ones([1])));
  const y = ppl.sample('y', new D.Bernoulli(tf.tensor1d([0.5])));
  const z = ppl.sample('z', new D.Normal(tf.zeros([1]), tf.ones([1])));
  return { x, y, z };
};

describe('escape (Pyro`s EscapeHandlerTests)', () => {
  const exitSite = (f: () => unknown): string => {
    try {
      f();
    } catch (e) {
      if (e instanceof ppl.NonlocalExit) return e.site.name;
      throw e;
    }
    throw new Error('no NonlocalExit');
  };
  it('discreteEscape leaves at y, allEscape at x', () => {
    expectNoLeak(() => {
      tf.tidy(() => {
        const empty = new ppl.Trace();
        expect(exitSite(ppl.escape(mixed, (m) => ppl.discreteEscape(empty, m)))).toBe('y');
        expect(exitSite(ppl.escape(mixed, (m) => ppl.allEscape(empty, m)))).toBe('x');
      });
    });
  });
  it('a trace inside escape records the escaped site, one outside does not (test_trace_compose)', () => {
    expectNoLeak(() => {
      tf.tidy(() => {
        const empty = new ppl.Trace();
        const inner = new ppl.TraceMessenger();
        expect(
          exitSite(
            ppl.escape(
              () => inner.run(mixed),
              (m) => ppl.allEscape(empty, m),
            ),
          ),
        ).toBe('x');
        expect(inner.trace.has('x')).toBe(true);
        expect(inner.trace.get('x')?.value).toBeNull();
        const outer = new ppl.TraceMessenger();
        expect(exitSite(() => outer.run(ppl.escape(mixed, (m) => ppl.allEscape(empty, m))))).toBe(
          'x',
        );
        expect(outer.trace.has('x')).toBe(false);
      });
    });
  });
  it('refuses an escapeFn that is not a function', () => {
    expect(() => ppl.escape(mixed, 3 as never)).toThrow(/^escapeFn: escape: expected a function/);
  });
});

describe('queue (Pyro`s QueueHandlerDiscreteTest: a Gaussian-mixture HMM of three steps)', () => {
  const obs = [1, 0.2, -0.4];
  /** latent_t ~ Bern(probs[latent_{t-1}]), observe_t ~ N(loc[latent_t], 1) = obs_t. */
  const hmm = (): number[] => {
    const probs = ppl.param('probs', tf.tensor1d([0.8, 0.3]));
    const loc = ppl.param('loc', tf.tensor1d([-0.1, 0.9]));
    const latents = [1];
    for (let t = 0; t < 3; t++) {
      const prev = latents[latents.length - 1] as number;
      const z = ppl.sample(`latent_${t}`, new D.Bernoulli(tf.slice(probs, [prev], [1])));
      const zt = num(z);
      latents.push(zt);
      ppl.sample(`observe_${t}`, new D.Normal(tf.slice(loc, [zt], [1]), 1), {
        obs: [obs[t] as number],
      });
    }
    return latents;
  };
  /** p(latents, obs) by hand. */
  const joint = (z: number[]): number => {
    const probs = [0.8, 0.3];
    const loc = [-0.1, 0.9];
    let lp = 0;
    let prev = 1;
    z.forEach((zt, t) => {
      const p = probs[prev] as number;
      lp += Math.log(zt === 1 ? p : 1 - p) + normalLogpdf(obs[t] as number, loc[zt] as number, 1);
      prev = zt;
    });
    return lp;
  };

  it('runs one complete trace per call, with every site (test_queue_single)', () => {
    expectNoLeak(() => {
      const q = new ppl.TraceQueue();
      q.put(new ppl.Trace());
      const tr = ppl.trace(ppl.queue(hmm, q)).getTrace();
      for (const t of [0, 1, 2]) {
        expect(tr.get(`latent_${t}`)?.isObserved).toBe(false);
        expect(tr.get(`observe_${t}`)?.isObserved).toBe(true);
      }
      tr.dispose();
      q.dispose();
      ppl.clearParamStore();
    });
  });

  it('visits the 2^3 assignments once each; the traces` probabilities sum to p(obs) (test_queue_enumerate)', () => {
    expectNoLeak(() => {
      const q = new ppl.TraceQueue();
      q.put(new ppl.Trace());
      const f = ppl.trace(ppl.queue(hmm, q));
      const seen = new Set<string>();
      let evidence = 0;
      let runs = 0;
      while (!q.empty()) {
        const tr = f.getTrace();
        const z = [0, 1, 2].map((t) => num(tr.value(`latent_${t}`)));
        seen.add(z.join(''));
        expect(logp(tr)).toBeCloseTo(joint(z), 4);
        evidence += Math.exp(logp(tr));
        tr.dispose();
        runs += 1;
        expect(runs).toBeLessThanOrEqual(8);
      }
      expect(seen.size).toBe(8);
      let ref = 0;
      for (let i = 0; i < 8; i++) ref += Math.exp(joint([(i >> 2) & 1, (i >> 1) & 1, i & 1]));
      expect(evidence).toBeCloseTo(ref, 6);
      ppl.clearParamStore();
    });
  });

  it('gives up after maxTries escaped runs (test_queue_max_tries), names an empty queue', () => {
    expectNoLeak(() => {
      const q = new ppl.TraceQueue();
      q.put(new ppl.Trace());
      expect(() => tf.tidy(() => ppl.queue(hmm, q, { maxTries: 3 })())).toThrow(
        /^queue: max tries \(3\) exceeded$/,
      );
      q.dispose();
      expect(() => ppl.queue(hmm, q)()).toThrow(
        /^queue: queue: the queue of partial traces is empty/,
      );
      expect(() => ppl.queue(hmm, [] as never)).toThrow(/^queue: queue: expected a queue/);
      expect(() => ppl.queue(hmm, q, { maxTries: 0 })).toThrow(
        /^maxTries: queue: expected an integer >= 1/,
      );
      ppl.clearParamStore();
    });
  });

  it('mixed sites: two complete traces, y in {0, 1}; x drawn before y is replayed (QueueHandlerMixedTest)', () => {
    expectNoLeak(() => {
      const q = new ppl.TraceQueue();
      q.put(new ppl.Trace());
      const f = ppl.trace(ppl.seed(ppl.queue(mixed, q), 3));
      const trs: ppl.Trace[] = [];
      while (!q.empty()) trs.push(f.getTrace());
      expect(trs.length).toBe(2);
      expect(new Set(trs.map((t) => num(t.value('y'))))).toEqual(new Set([0, 1]));
      // both extensions of the escaped run replay its x
      expect(num(trs[0]?.value('x') as tf.Tensor)).toBe(num(trs[1]?.value('x') as tf.Tensor));
      for (const t of trs) t.dispose();
    });
  });

  it('numSamples caps the extensions per site; a LIFO queue goes depth first', () => {
    expectNoLeak(() => {
      const q = new ppl.TraceQueue({ lifo: true });
      q.put(new ppl.Trace());
      const f = ppl.trace(ppl.queue(hmm, q, { numSamples: 1 }));
      const tr = f.getTrace();
      // one value per site: enumerate_support's first, 0, at every step
      expect([0, 1, 2].map((t) => num(tr.value(`latent_${t}`)))).toEqual([0, 0, 0]);
      expect(q.empty()).toBe(true);
      tr.dispose();
      ppl.clearParamStore();
    });
  });
});

describe('enumExtend and iterDiscreteTraces (Pyro`s util.enum_extend, iter_discrete_traces)', () => {
  it('enumExtend: one copy per support value, broadcast over the batch, owning its values', () => {
    expectNoLeak(() => {
      const partial = ppl.trace(() => ppl.sample('a', new D.Normal(0, 1))).getTrace();
      let ext: ppl.Trace[] = [];
      tf.tidy(() => {
        const site = ppl.makeMessage({
          type: 'sample',
          name: 'c',
          fn: new D.Categorical(
            tf.tensor2d([
              [0.2, 0.3, 0.5],
              [0.1, 0.1, 0.8],
            ]),
          ),
        });
        const two = ppl.enumExtend(partial, site, 2);
        expect(two.length).toBe(2);
        for (const tr of two) tr.dispose();
        ext = ppl.enumExtend(partial, site);
      });
      // the extensions outlive the tidy: they own their values
      expect(ext.length).toBe(3);
      ext.forEach((tr, k) => {
        expect(Array.from(tr.value('c').dataSync())).toEqual([k, k]);
        expect(num(tr.value('a'))).toBe(num(partial.value('a')));
      });
      partial.dispose();
      for (const tr of ext) tr.dispose();
    });
  });

  it('iterDiscreteTraces: every assignment of the sequential sites, with infer._enumTotal', () => {
    const model = (): void => {
      const a = ppl.sample('a', new D.Bernoulli(0.3), { infer: { enumerate: 'sequential' } });
      const b = ppl.sample('b', new D.Categorical(tf.tensor1d([0.5, 0.25, 0.25])), {
        infer: { enumerate: 'sequential' },
      });
      ppl.sample('y', new D.Normal(tf.add(a, b), 1), { obs: 1.5 });
    };
    expectNoLeak(() => {
      const keys: string[] = [];
      let evidence = 0;
      for (const tr of ppl.iterDiscreteTraces(model)) {
        keys.push(`${num(tr.value('a'))}${num(tr.value('b'))}`);
        expect(tr.get('b')?.infer['_enumTotal']).toBe(3);
        evidence += Math.exp(logp(tr));
        tr.dispose();
      }
      expect(keys.sort()).toEqual(['00', '01', '02', '10', '11', '12']);
      let ref = 0;
      for (const [a, pa] of [
        [0, 0.7],
        [1, 0.3],
      ] as const) {
        for (const [b, pb] of [
          [0, 0.5],
          [1, 0.25],
          [2, 0.25],
        ] as const) {
          ref += pa * pb * Math.exp(normalLogpdf(1.5, a + b, 1));
        }
      }
      expect(evidence).toBeCloseTo(ref, 6);
    });
  });
});

describe('equalize (Pyro`s EqualizeHandlerTests)', () => {
  const perCategory = (category: string): tf.Tensor => {
    const shift = ppl.param(`${category}_shift`, () => tf.randomNormal([1]));
    const mean = ppl.sample(`${category}_mean`, new D.Normal(0, 1));
    const std = ppl.sample(`${category}_std`, new D.LogNormal(0, 1));
    return ppl.plate(`${category}_num_samples`, 5, () =>
      ppl.sample(`${category}_values`, new D.Normal(tf.add(mean, shift), std)),
    );
  };
  const model = (): tf.Tensor[] => ['dogs', 'cats'].map(perCategory);

  it('sample sites: the stds are equal, the later one a point mass that autoguides skip', () => {
    expectNoLeak(() => {
      const eq = ppl.equalize(model, '.+_std');
      const tr = ppl.trace(ppl.seed(eq, 20240616)).getTrace();
      expect(num(tr.value('cats_std'))).toBe(num(tr.value('dogs_std')));
      expect(num(tr.value('cats_shift'))).not.toBe(num(tr.value('dogs_shift')));
      expect(tr.get('cats_std')?.isObserved).toBe(true);
      expect(tr.get('cats_std')?.infer['deterministic']).toBe(true);
      // cats_std adds nothing to log p
      const without = tf.tidy(() => {
        let s = 0;
        for (const site of tr.sampleSites()) {
          if (site.name !== 'cats_std')
            s += num(tf.sum(site.fn?.logProb(site.value as tf.Tensor) as tf.Tensor));
        }
        return s;
      });
      expect(logp(tr)).toBeCloseTo(without, 3);
      tr.dispose();
      ppl.clearParamStore();
    });
    const names = tf.tidy(() =>
      new ppl.AutoNormal(ppl.equalize(model, '.+_std')).latentSites().map((s) => s.name),
    );
    expect(names).toEqual(['dogs_mean', 'dogs_std', 'dogs_values', 'cats_mean', 'cats_values']);
  });

  it('param sites: the shifts are equal, the stds not; the second param is never created', () => {
    expectNoLeak(() => {
      const eq = ppl.equalize(ppl.equalize(model, '.+_shift', { type: 'param' }), 'nothing');
      const tr = ppl.trace(ppl.seed(eq, 20240616)).getTrace();
      expect(num(tr.value('cats_shift'))).toBe(num(tr.value('dogs_shift')));
      expect(num(tr.value('cats_std'))).not.toBe(num(tr.value('dogs_std')));
      expect(ppl.getParamStore().names()).toEqual(['dogs_shift']);
      tr.dispose();
      ppl.clearParamStore();
    });
  });

  it('keepDist conditions on equality: log p = log N(v; 0, 1) + log N(v; 5, 2) (test_condition_by_equalize)', () => {
    const xy = (): void => {
      ppl.sample('x', new D.Normal(0, 1));
      ppl.sample('y', new D.Normal(5, 2));
    };
    expectNoLeak(() => {
      for (const keepDist of [false, true]) {
        const tr = ppl.trace(ppl.seed(ppl.equalize(xy, ['x', 'y'], { keepDist }), 1)).getTrace();
        const v = num(tr.value('x'));
        expect(num(tr.value('y'))).toBe(v);
        expect(tr.get('y')?.isObserved).toBe(true);
        const ref = normalLogpdf(v, 0, 1) + (keepDist ? normalLogpdf(v, 5, 2) : 0);
        expect(logp(tr)).toBeCloseTo(ref, 4);
        tr.dispose();
      }
    });
  });

  it('refuses bad patterns and options, naming them', () => {
    expect(() => ppl.equalize(model, [])).toThrow(/^sites: equalize: expected a site-name pattern/);
    expect(() => ppl.equalize(model, '(')).toThrow(
      /^sites: equalize: '\(' is not a valid regular expression/,
    );
    expect(() => ppl.equalize(model, 'x', { type: 'plate' as never })).toThrow(
      /^type: equalize: expected 'sample' or 'param'/,
    );
    expect(() => ppl.equalize(model, 'x', { keep_dist: true } as never)).toThrow(/keep_dist/);
  });
});

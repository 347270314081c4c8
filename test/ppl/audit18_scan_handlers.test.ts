/**
 * Audit 18: handlers that rewrite a site (`reparam`, `intervene` = Pyro's `do`) reach the sites
 * made inside `ppl.scan`, as in NumPyro (the outer handlers run inside the scanned body): each
 * step is rewritten as a site of the hand-written loop, its auxiliary sites stacked. References:
 * the hand-written loop under the same handler, float64 log-densities, the values themselves.
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../src/index.js';
import { ArgumentError } from '../../src/utils/errors.js';
import { expectNoLeak } from '../helpers.js';

afterEach(() => {
  ppl.clearParamStore();
  expect(ppl.HANDLER_STACK.length).toBe(0);
});

const T = 5;
const Y = [0.4, -0.2, 0.9, 1.5, 1.1];
const LOG_2PI = Math.log(2 * Math.PI);
const nlp = (x: number, m: number, s: number): number =>
  -0.5 * LOG_2PI - Math.log(s) - (0.5 * (x - m) ** 2) / s ** 2;
const arr = (t: tf.Tensor): number[] => Array.from(t.dataSync());

/** Gaussian random walk x_t ~ N(x_{t-1}, tau), y_t ~ N(x_t, 0.5): scanned. */
function walk(y: tf.Tensor): void {
  const tau = ppl.sample('tau', new D.HalfNormal(1));
  ppl.scan(
    (x: tf.Tensor, yt: tf.Tensor) => {
      const xt = ppl.sample('x', new D.Normal(x, tau));
      ppl.sample('y', new D.Normal(xt, 0.5), { obs: yt });
      return [xt, null] as const;
    },
    tf.scalar(0),
    y,
  );
}

describe('scan: reparam reaches the steps', () => {
  it('LocScaleReparam(0): x_decentered stacked [T] latent, x the stacked deterministic path', () => {
    expectNoLeak(() => {
      const y = tf.tensor1d(Y);
      const model = ppl.reparam(walk, { x: new ppl.LocScaleReparam(0) });
      const tr = ppl.trace(ppl.seed(model, 3)).getTrace(y);
      expect([...tr.nodes.keys()].filter((n) => tr.get(n)?.type === 'sample')).toEqual([
        'tau',
        'x_decentered',
        'x',
        'y',
      ]);
      const dec = tr.get('x_decentered');
      const x = tr.get('x');
      expect(dec?.isObserved).toBe(false);
      expect(dec?.value?.shape).toEqual([T]);
      expect(x?.isObserved).toBe(true);
      expect(x?.value?.shape).toEqual([T]);
      expect(tr.latentSites().map((s) => s.name)).toEqual(['tau', 'x_decentered']);
      // x_t = x_{t-1} + tau * dec_t, and the log joint is the loop's in dec
      const tau = arr(tr.value('tau'))[0] as number;
      const d = arr(tr.value('x_decentered'));
      const xs = arr(tr.value('x'));
      let prev = 0;
      let lp = Math.log(2) + nlp(tau, 0, 1);
      d.forEach((dt, t) => {
        prev += tau * dt;
        expect(xs[t]).toBeCloseTo(prev, 5);
        lp += nlp(dt, 0, 1) + nlp(Y[t] as number, prev, 0.5);
      });
      const total = tr.logProbSum();
      expect(total.dataSync()[0]).toBeCloseTo(lp, 3);
      total.dispose();
      tr.dispose();
      y.dispose();
    });
  });

  it('the scanned reparameterized model has the hand loop`s log joint at the same decentered values', () => {
    expectNoLeak(() => {
      const y = tf.tensor1d(Y);
      const dec = tf.tensor1d([0.3, -1.1, 0.6, 0.2, -0.4]);
      const scanned = ppl.reparam(walk, { x: new ppl.LocScaleReparam(0) });
      const loop = (yy: tf.Tensor): void => {
        const tau = ppl.sample('tau', new D.HalfNormal(1));
        let x: tf.Tensor = tf.scalar(0);
        tf.unstack(yy).forEach((yt, t) => {
          x = ppl.sample(`x_${t}`, new D.Normal(x, tau));
          ppl.sample(`y_${t}`, new D.Normal(x, 0.5), { obs: yt });
        });
      };
      const cfg: Record<string, ppl.Reparam> = {};
      for (let t = 0; t < T; t++) cfg[`x_${t}`] = new ppl.LocScaleReparam(0);
      const rows = tf.unstack(dec);
      const loopData: Record<string, tf.Tensor> = { tau: tf.scalar(0.7) };
      rows.forEach((r, t) => (loopData[`x_${t}_decentered`] = r));
      const a = ppl.logDensity(scanned, { tau: 0.7, x_decentered: dec }, y);
      const b = ppl.logDensity(ppl.reparam(loop, cfg), loopData, y);
      expect(a.dataSync()[0]).toBeCloseTo(b.dataSync()[0] as number, 4);
      // and the float64 value: N(dec; 0, 1) terms, y_t ~ N(x_t, 0.5), x_t = x_{t-1} + 0.7 dec_t
      let x = 0;
      let lp = Math.log(2) + nlp(0.7, 0, 1);
      arr(dec).forEach((dt, t) => {
        x += 0.7 * dt;
        lp += nlp(dt, 0, 1) + nlp(Y[t] as number, x, 0.5);
      });
      expect(a.dataSync()[0]).toBeCloseTo(lp, 3);
      a.dispose();
      b.dispose();
      tf.dispose([y, dec, rows, Object.values(loopData)]);
    });
  });

  it('a block between the scan and reparam hides the steps from it', () => {
    expectNoLeak(() => {
      const y = tf.tensor1d(Y);
      const model = ppl.reparam(ppl.block(walk, { hide: ['x'] }), {
        x: new ppl.LocScaleReparam(0),
      });
      const tr = ppl.trace(ppl.seed(model, 1)).getTrace(y);
      expect(tr.get('x_decentered')).toBeUndefined();
      expect(tr.get('x')).toBeUndefined();
      tr.dispose();
      y.dispose();
    });
  });
});

describe('scan: a reparameterization strategy', () => {
  it('AutoReparam: x_centered learnable, x_decentered one latent [T]; SVI and Predictive run', () => {
    const y = tf.tensor1d(Y);
    const model = ppl.reparam(walk, new ppl.AutoReparam());
    const tr = ppl.trace(ppl.seed(model, 1)).getTrace(y);
    expect(tr.latentSites().map((s) => [s.name, s.value?.shape])).toEqual([
      ['tau', []],
      ['x_decentered', [T]],
    ]);
    expect(tr.get('x_centered')?.type).toBe('param');
    tr.dispose();
    const guide = new ppl.AutoNormal(model);
    const svi = new ppl.SVI(model, guide, tf.train.adam(0.01), new ppl.TraceELBO());
    expect(Number.isFinite(svi.step(y))).toBe(true);
    const out = new ppl.Predictive(model, { guide, numSamples: 3 }).call(y);
    expect((out.x as tf.Tensor).shape).toEqual([3, T]);
    tf.dispose(Object.values(out) as tf.Tensor[]);
    y.dispose();
  });
});

describe('scan: intervene (do) reaches the steps', () => {
  it('do(x = v): x still drawn [T] from the walk, y sees v row by row, x__CF not recorded', () => {
    expectNoLeak(() => {
      const y = tf.tensor1d(Y);
      const v = tf.tensor1d([1, 2, 3, 4, 5]);
      const model = ppl.intervene(walk, { x: v });
      const tr = ppl.trace(ppl.seed(model, 5)).getTrace(y);
      expect([...tr.nodes.keys()]).toEqual(['tau', 'x', 'y']);
      const x = tr.get('x');
      expect(x?.isObserved).toBe(false);
      const xs = arr(tr.value('x'));
      expect(xs).not.toEqual([1, 2, 3, 4, 5]);
      // y_t ~ N(v_t, 0.5); x_t ~ N(v_{t-1}, tau) (the intervened value is the carry, as in a loop)
      const tau = arr(tr.value('tau'))[0] as number;
      const lpYt = tr.get('y')?.fn?.logProb(y) as tf.Tensor;
      arr(lpYt).forEach((l, t) => expect(l).toBeCloseTo(nlp(Y[t] as number, t + 1, 0.5), 4));
      lpYt.dispose();
      const lpX = tr.get('x')?.fn?.logProb(tr.value('x')) as tf.Tensor;
      arr(lpX).forEach((l, t) => expect(l).toBeCloseTo(nlp(xs[t] as number, t, tau), 4));
      tf.dispose([lpX]);
      tr.dispose();
      tf.dispose([y, v]);
    });
  });

  it('one step`s value intervenes every step; a value of the wrong length names the site', () => {
    expectNoLeak(() => {
      const y = tf.tensor1d(Y);
      const tr = ppl.trace(ppl.seed(ppl.intervene(walk, { x: 0.5 }), 2)).getTrace(y);
      const lpY = tr.get('y')?.fn?.logProb(y) as tf.Tensor;
      arr(lpY).forEach((l, t) => expect(l).toBeCloseTo(nlp(Y[t] as number, 0.5, 0.5), 4));
      lpY.dispose();
      tr.dispose();
      const bad = tf.ones([3]);
      const run = (): unknown => ppl.trace(ppl.intervene(walk, { x: bad })).getTrace(y);
      expect(run).toThrow(ArgumentError);
      expect(run).toThrow(/'x'/);
      bad.dispose();
      y.dispose();
    });
  });
});

describe('scan: sites marked for parallel enumeration', () => {
  const hmm = (y: tf.Tensor): void => {
    ppl.scan(
      (prev: tf.Tensor, yt: tf.Tensor) => {
        const p = tf.add(0.2, tf.mul(0.6, prev));
        const z = ppl.sample('z', new D.Bernoulli(p), { infer: { enumerate: 'parallel' } });
        ppl.sample('y', new D.Normal(z, 0.5), { obs: yt });
        return [z, null] as const;
      },
      tf.scalar(0),
      y,
    );
  };
  it('without an enumerate handler (trace, Predictive) the site is drawn, as in Pyro/NumPyro', () => {
    expectNoLeak(() => {
      const y = tf.tensor1d(Y);
      const tr = ppl.trace(ppl.seed(hmm, 4)).getTrace(y);
      const z = arr(tr.value('z'));
      expect(z.length).toBe(T);
      z.forEach((v) => expect([0, 1]).toContain(v));
      const lp = tr.get('z')?.fn?.logProb(tr.value('z')) as tf.Tensor;
      let prev = 0;
      arr(lp).forEach((l, t) => {
        const p = 0.2 + 0.6 * prev;
        expect(l).toBeCloseTo(Math.log(z[t] === 1 ? p : 1 - p), 5);
        prev = z[t] as number;
      });
      lp.dispose();
      tr.dispose();
      y.dispose();
    });
  });
  it('TraceEnumELBO (enumerate outside the scan): an ArgumentError naming the site', () => {
    const y = tf.tensor1d(Y);
    const elbo = new ppl.TraceEnumELBO({ maxPlateNesting: 0 });
    const run = (): unknown => elbo.loss(hmm, () => undefined, y);
    expect(run).toThrow(ArgumentError);
    expect(run).toThrow(/site 'z' is enumerated in parallel.*not supported/);
    y.dispose();
  });
});

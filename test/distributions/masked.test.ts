/**
 * `Distribution.mask` (Pyro's `MaskedDistribution`): log-densities against hand-masked closed
 * forms, batch-shape broadcasting, draws, gradients, the masked KL, the PPL (trace log-joint, SVI
 * loss, MCMC potential) and argument errors, with the tensor count checked after every call.
 */
import * as tf from '@tensorflow/tfjs';
import normalRef from '@stdlib/stats-base-dists-normal';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ArgumentError,
  NotDefinedError,
  NotRegisteredError,
  distributions as D,
  ppl,
} from '../../src/index.js';
import { ChainRng, ModelPotential, initialPoint } from '../../src/ppl/mcmc/index.js';
import { clearSeed, setSeed } from '../../src/utils/seed.js';
import { expectNoLeak, finiteDiff } from '../helpers.js';

const logpdf = normalRef.logpdf as (x: number, m: number, s: number) => number;

afterEach(() => {
  ppl.clearParamStore();
  clearSeed();
});

/** Read a tensor's values and free it. */
function read(t: tf.Tensor): number[] {
  const a = Array.from(t.dataSync());
  t.dispose();
  return a;
}

describe('Distribution.mask: logProb', () => {
  it('Normal: where(mask, log N(x), 0) with the mask broadcast over sample and batch dims', () => {
    const loc = [0.5, -1, 2];
    const scale = [1, 0.5, 3];
    const base = new D.Normal(loc, scale);
    const m = tf.tensor1d([true, false, true], 'bool');
    const x = [
      [0.1, 0.2, -4],
      [1.5, -1.2, 2.5],
    ];
    const before = tf.memory().numTensors;
    const d = base.mask(m);
    expect(d).toBeInstanceOf(D.MaskedDistribution);
    expect(d.batchShape).toEqual([3]);
    expect(d.eventShape).toEqual([]);
    expect(d.support).toBe(base.support);
    const hand = x.flatMap((row) =>
      row.map((v, j) => (j === 1 ? 0 : logpdf(v, loc[j] as number, scale[j] as number))),
    );
    const got = expectNoLeak(() => d.logProb(x));
    expect(got).toBeAllclose(hand, { rtol: 1e-5, atol: 1e-5 });
    expect(got[1]).toBe(0);
    // the unmasked entries are the base's own values (not zero) and prob is exp(logProb)
    expect(got[0]).toBeLessThan(-0.5);
    expect(expectNoLeak(() => d.prob(x))).toBeAllclose(hand.map(Math.exp), { rtol: 1e-5 });
    d.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(m);
    base.dispose();
  });

  it('Bernoulli: a mask given as nested arrays, broadcast against a [2,3] batch', () => {
    const p = [
      [0.2, 0.7, 0.9],
      [0.5, 0.1, 0.4],
    ];
    const base = new D.Bernoulli({ probs: p });
    const before = tf.memory().numTensors;
    const d = base.mask([[true], [false]]); // shape [2,1]: the second row masked out
    expect(d.batchShape).toEqual([2, 3]);
    const x = [
      [1, 0, 1],
      [0, 1, 1],
    ];
    const hand = p.flatMap((row, i) =>
      row.map((pij, j) => {
        if (i === 1) return 0;
        const xij = (x[i] as number[])[j] as number;
        return xij === 1 ? Math.log(pij) : Math.log(1 - pij);
      }),
    );
    expect(expectNoLeak(() => d.logProb(x))).toBeAllclose(hand, { rtol: 1e-5, atol: 1e-6 });
    // the enumerated support and its scoring are the base's, masked
    // the enumerated support ([2, 2, 3]: values 0 and 1) scored: the masked row is zero
    const lp = expectNoLeak(() => tf.tidy(() => d.logProb(d.enumerateSupport())));
    expect(lp.slice(3, 6)).toEqual([0, 0, 0]);
    expect(lp.slice(9, 12)).toEqual([0, 0, 0]);
    expect(lp.slice(6, 9)).toBeAllclose(p[0]?.map(Math.log) ?? [], { rtol: 1e-5 });
    d.dispose(); // frees the mask tensor made from the arrays
    expect(tf.memory().numTensors).toBe(before);
    base.dispose();
  });

  it('event dims: the mask applies to batch dims only (MVN-diag and Normal.toEvent)', () => {
    const loc = tf.tensor2d([
      [0, 1, -1, 0.5],
      [2, 0, 0, -2],
      [1, 1, 1, 1],
    ]);
    const scale = tf.tensor2d([
      [1, 2, 0.5, 1],
      [1, 1, 1, 1],
      [3, 0.2, 1, 2],
    ]);
    const x = tf.tensor2d([
      [0.3, 0.1, -2, 1],
      [1, 1, 1, 1],
      [0, 0.5, 2, -1],
    ]);
    const lv = loc.arraySync();
    const sv = scale.arraySync();
    const xv = x.arraySync();
    const keep = [true, false, true];
    const hand = keep.map((k, i) =>
      k
        ? (xv[i] as number[]).reduce(
            (s, v, j) =>
              s + logpdf(v, (lv[i] as number[])[j] as number, (sv[i] as number[])[j] as number),
            0,
          )
        : 0,
    );
    const before = tf.memory().numTensors;
    for (const base of [
      new D.MultivariateNormalDiag(loc, scale),
      new D.Normal(loc, scale).toEvent(1),
    ]) {
      const d = base.mask(keep);
      expect(d.batchShape).toEqual([3]);
      expect(d.eventShape).toEqual([4]);
      const got = expectNoLeak(() => d.logProb(x));
      expect(got).toBeAllclose(hand, { rtol: 1e-5, atol: 1e-4 });
      expect(got[1]).toBe(0);
      // a mask shaped like batch + event does not broadcast with the batch shape [3]
      const full = tf.ones([3, 4], 'bool');
      expect(() => base.mask(full)).toThrow(
        /mask: .*a mask of shape \[3,4\] does not broadcast with the batch shape \[3\]/,
      );
      full.dispose();
      d.dispose();
      base.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([loc, scale, x]);
  });

  it('batch shape broadcast(batch, mask.shape): a larger mask expands the base; true / false', () => {
    const base = new D.Normal([0, 1, 2], 1);
    const before = tf.memory().numTensors;
    const grown = base.mask([[true], [false]]); // [2,1] with batch [3] -> [2,3]
    expect(grown.batchShape).toEqual([2, 3]);
    const x = [0.5, 0.5, 0.5];
    const row = [0, 1, 2].map((mu) => logpdf(0.5, mu, 1));
    expect(expectNoLeak(() => grown.logProb(x))).toBeAllclose([...row, 0, 0, 0], {
      rtol: 1e-5,
    });
    expect(expectNoLeak(() => grown.mean())).toEqual([0, 1, 2, 0, 1, 2]);
    expect(expectNoLeak(() => grown.variance())).toEqual([1, 1, 1, 1, 1, 1]);
    grown.dispose();

    const all = base.mask(true);
    expect(all.batchShape).toEqual([3]);
    expect(expectNoLeak(() => all.logProb(x))).toBeAllclose(row, { rtol: 1e-5 });
    const none = base.mask(false);
    expect(none.batchShape).toEqual([3]);
    // zeros of broadcast(value batch part, batch shape): sample dims kept
    const z = tf.tidy(() => none.logProb(tf.zeros([4, 1])));
    expect(z.shape).toEqual([4, 3]);
    expect(read(z)).toEqual(new Array<number>(12).fill(0));
    // a mask on an expand: one wrapper over the inner family, batch shape as broadcast
    const e = new D.Normal(0, 1).expand([3]) as D.ExpandedDistribution;
    const em = e.mask([[true], [true]]) as D.MaskedDistribution;
    expect(em.batchShape).toEqual([2, 3]);
    expect(em.base).toBeInstanceOf(D.ExpandedDistribution);
    expect((em.base as D.ExpandedDistribution).base).toBe(e.base);
    // masking a masked distribution combines the masks
    const mm = base.mask([true, true, false]).mask([false, true, true]);
    expect(expectNoLeak(() => mm.logProb(x))).toBeAllclose([0, row[1] as number, 0], {
      rtol: 1e-5,
    });
    for (const t of [all, none, em, e.base, mm, (mm as D.MaskedDistribution).base]) t.dispose();
    expect(tf.memory().numTensors).toBe(before);
    base.dispose();
  });

  it('mean/variance/stddev/mode pass through; entropy and cdf are not defined', () => {
    const base = new D.Normal([1, 2], [3, 4]);
    const d = base.mask([true, false]);
    const before = tf.memory().numTensors;
    expect(expectNoLeak(() => d.mean())).toEqual([1, 2]);
    expect(expectNoLeak(() => d.mode())).toEqual([1, 2]);
    expect(expectNoLeak(() => d.variance())).toEqual([9, 16]);
    expect(expectNoLeak(() => d.stddev())).toEqual([3, 4]);
    expect(() => d.entropy()).toThrow(NotDefinedError);
    expect(() => d.entropy()).toThrow(/entropy is not defined for a masked distribution/);
    expect(() => d.cdf(0)).toThrow(NotDefinedError);
    expect(tf.memory().numTensors).toBe(before);
    d.dispose();
    base.dispose();
  });
});

describe('Distribution.mask: draws', () => {
  it("sample/rsample have the new batch shape and the base's distribution", () => {
    const base = new D.Normal([1, -2], [0.5, 2]);
    const mk = tf.tensor2d([[true], [false], [true]], [3, 1], 'bool');
    const d = base.mask(mk);
    expect(d.batchShape).toEqual([3, 2]);
    expect(d.hasRsample).toBe(true);
    const n = 4000;
    const before = tf.memory().numTensors;
    const s = d.sample([n], 7);
    expect(s.shape).toEqual([n, 3, 2]);
    const mean = read(tf.mean(s, 0));
    const std = read(tf.tidy(() => tf.sqrt(tf.moments(s, 0).variance)));
    const v = s.arraySync() as number[][][];
    s.dispose();
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 2; j++) {
        const mu = [1, -2][j] as number;
        const sd = [0.5, 2][j] as number;
        // within 5 standard errors of the mean and of the standard deviation
        expect(Math.abs((mean[i * 2 + j] as number) - mu)).toBeLessThan((5 * sd) / Math.sqrt(n));
        expect(Math.abs((std[i * 2 + j] as number) - sd)).toBeLessThan((5 * sd) / Math.sqrt(2 * n));
      }
    }
    // the grown dim holds independent draws, not copies
    const first = v[0] as number[][];
    expect((first[0] as number[])[0]).not.toBe((first[1] as number[])[0]);
    expect(tf.memory().numTensors).toBe(before);
    // rsample carries the gradient to the base's parameters: d sum(loc + scale eps) / d loc = 3
    const loc = tf.variable(tf.tensor1d([1, -2]));
    const g = tf.grad((l: tf.Tensor) => {
      const nd = new D.Normal(l, 1).mask([[true], [false], [true]]);
      return tf.sum(nd.rsample([5], 3));
    })(loc);
    expect(read(g)).toEqual([15, 15]);
    loc.dispose();
    d.dispose();
    mk.dispose();
    base.dispose();
  });
});

describe('Distribution.mask: gradients', () => {
  it('the gradient of logProb w.r.t. the value and the parameters is zero at masked entries', () => {
    const x = tf.tensor1d([0.3, -1.2, 2.5, 0.7]);
    const loc = tf.tensor1d([0, 1, 2, -1]);
    const scale = tf.tensor1d([1, 2, 0.5, 1.5]);
    const keep = [true, false, false, true];
    const m = tf.tensor1d(keep, 'bool');
    const before = tf.memory().numTensors;
    const [gx, gl, gs] = tf.grads((xv: tf.Tensor, lv: tf.Tensor, sv: tf.Tensor) => {
      const d = new D.Normal(lv, sv).mask(m);
      return tf.sum(d.logProb(xv));
    })([x, loc, scale]);
    const [xs, ls, ss] = [x, loc, scale].map((t) => Array.from(t.dataSync())) as [
      number[],
      number[],
      number[],
    ];
    const hand = (k: number): [number, number, number] => {
      const z = ((xs[k] as number) - (ls[k] as number)) / (ss[k] as number);
      const s = ss[k] as number;
      return keep[k] ? [-z / s, z / s, (z * z - 1) / s] : [0, 0, 0];
    };
    const want = [0, 1, 2, 3].map(hand);
    expect(read(gx as tf.Tensor)).toBeAllclose(
      want.map((w) => w[0]),
      { rtol: 1e-4, atol: 1e-6 },
    );
    expect(read(gl as tf.Tensor)).toBeAllclose(
      want.map((w) => w[1]),
      { rtol: 1e-4, atol: 1e-6 },
    );
    expect(read(gs as tf.Tensor)).toBeAllclose(
      want.map((w) => w[2]),
      { rtol: 1e-4, atol: 1e-6 },
    );
    // the unmasked gradients are nonzero (the test would see a dead mask)
    expect(want[0]?.[0]).not.toBe(0);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, loc, scale, m]);
  });
});

describe('Distribution.mask: KL', () => {
  it('KL(Masked(p, a) || Masked(q, b)) = where(a and b, KL(p || q), 0), as Pyro', () => {
    const p = new D.Normal([0, 1, -1], [1, 2, 0.5]);
    const q = new D.Normal([0.5, 0, 0], [2, 1, 1]);
    const before = tf.memory().numTensors;
    const full = expectNoLeak(() => D.klDivergence(p, q));
    const a = p.mask([true, true, false]);
    const b = q.mask([false, true, true]);
    expect(expectNoLeak(() => D.klDivergence(a, b))).toBeAllclose([0, full[1] as number, 0], {
      rtol: 1e-6,
    });
    expect(full[1]).toBeGreaterThan(0.1);
    expect(expectNoLeak(() => D.klDivergence(a, q.mask(true)))).toBeAllclose(
      [full[0] as number, full[1] as number, 0],
      { rtol: 1e-6 },
    );
    const f = q.mask(false);
    const zero = D.klDivergence(a, f);
    expect(zero.shape).toEqual([3]);
    expect(read(zero)).toEqual([0, 0, 0]);
    // a mask that grows the batch shape: the KL has the broadcast shape
    const g = p.mask([[true], [false]]);
    const kl = D.klDivergence(g, b);
    expect(kl.shape).toEqual([2, 3]);
    expect(read(kl)).toBeAllclose([0, full[1] as number, full[2] as number, 0, 0, 0], {
      rtol: 1e-6,
    });
    // one-sided: not registered, as in Pyro (NotImplementedError there)
    expect(() => D.klDivergence(a, q)).toThrow(NotRegisteredError);
    expect(() => D.klDivergence(p, b)).toThrow(NotRegisteredError);
    expect(() => a.entropy()).toThrow(NotDefinedError);
    for (const t of [a, b, f, g]) t.dispose();
    expect(tf.memory().numTensors).toBe(before);
    p.dispose();
    q.dispose();
  });
});

describe('Distribution.mask: bad input', () => {
  it('refuses a mask that does not broadcast or is not boolean, naming mask; nothing leaks', () => {
    const base = new D.Normal([0, 1, 2], 1);
    const floatMask = tf.ones([3]);
    const disposed = tf.ones([3], 'bool');
    disposed.dispose();
    const before = tf.memory().numTensors;
    const err = (f: () => unknown): ArgumentError => {
      try {
        f();
      } catch (e) {
        expect(e).toBeInstanceOf(ArgumentError);
        return e as ArgumentError;
      }
      throw new Error('expected a throw');
    };
    const wrongShape = err(() => base.mask([true, false]));
    expect(wrongShape.argument).toBe('mask');
    expect(wrongShape.message).toMatch(
      /a mask of shape \[2\] does not broadcast with the batch shape \[3\]/,
    );
    expect(err(() => base.mask(floatMask)).message).toMatch(
      /mask: expected a bool tensor, got dtype float32/,
    );
    expect(err(() => base.mask([1, 0, 1] as unknown as boolean[])).message).toMatch(
      /mask: .*got an array holding number 1/,
    );
    expect(err(() => base.mask([[true], [true, false]])).message).toMatch(
      /mask: expected a rectangular array of booleans/,
    );
    expect(err(() => base.mask(null as unknown as boolean)).message).toMatch(/mask: .*got null/);
    expect(err(() => base.mask(disposed)).message).toMatch(/mask: .*disposed/);
    expect(err(() => new D.MaskedDistribution({} as D.Distribution, true)).argument).toBe('base');
    expect(tf.memory().numTensors).toBe(before);
    // a value that does not fit the batch shape
    const d = base.mask([true, false, true]);
    expect(err(() => d.logProb([1, 2])).argument).toBe('value');
    // a tensor mask the caller disposed after masking
    const m = tf.tensor1d([true, true, false], 'bool');
    const dm = base.mask(m);
    m.dispose();
    expect(err(() => dm.logProb([1, 2, 3])).argument).toBe('mask');
    d.dispose();
    expect(tf.memory().numTensors).toBe(before);
    floatMask.dispose();
    base.dispose();
  });
});

describe('Distribution.mask in the PPL', { timeout: 300_000 }, () => {
  const ys = [0.4, 100, 1.9, -0.3]; // entry 1 is masked out (it would dominate if scored)
  const keep = [true, false, true, true];

  /** mu ~ N(0, 1); y_i ~ N(mu, 1) in a plate, masked. */
  const model = (y: tf.Tensor, m: tf.Tensor | null): void => {
    const mu = ppl.sample('mu', new D.Normal(0, 1));
    const n = y.shape[0] as number;
    ppl.plate('N', n, () => {
      const d = new D.Normal(mu, 1).expand([n]);
      ppl.sample('y', m === null ? d : d.mask(m), { obs: y });
    });
  };

  it('trace log-joint = log N(mu; 0, 1) + the unmasked terms', () => {
    const y = tf.tensor1d(ys);
    const m = tf.tensor1d(keep, 'bool');
    const before = tf.memory().numTensors;
    const tr = ppl.trace(ppl.seed(model, 4)).getTrace(y, m);
    const mu = tr.value('mu').dataSync()[0] as number;
    const hand = ys.reduce((s, v, i) => s + (keep[i] ? logpdf(v, mu, 1) : 0), logpdf(mu, 0, 1));
    const lp = read(tr.logProbSum())[0] as number;
    expect(lp).toBeCloseTo(hand, 4);
    expect(lp).toBeGreaterThan(-100); // the masked 100 would give about -5000
    tr.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([y, m]);
  });

  it('TraceELBO loss with a mask = the loss on the unmasked subset', () => {
    const y = tf.tensor1d(ys);
    const m = tf.tensor1d(keep, 'bool');
    const sub = tf.tensor1d(ys.filter((_, i) => keep[i]));
    const bad = tf.tensor1d([true, false], 'bool');
    const guide = (): void => {
      const loc = ppl.param('loc', tf.scalar(0.7));
      const scale = ppl.param('scale', tf.scalar(0.4), { constraint: ppl.constraints.positive });
      ppl.sample('mu', new D.Normal(loc, scale));
    };
    const still = tf.train.sgd(0);
    const opt = tf.train.sgd(0.01);
    const loss = (a: tf.Tensor, b: tf.Tensor | null): number => {
      const svi = new ppl.SVI(model, guide, still, new ppl.TraceELBO());
      setSeed(11);
      return svi.evaluateLoss(a, b);
    };
    loss(y, m); // creates the params
    const before = tf.memory().numTensors;
    const masked = loss(y, m);
    const subset = loss(sub, null);
    const unmasked = loss(y, null);
    expect(masked).toBeCloseTo(subset, 3);
    expect(unmasked - masked).toBeGreaterThan(1000); // the masked entry is really left out
    // a training step with the mask runs and frees what it makes
    const svi = new ppl.SVI(model, guide, opt, new ppl.TraceELBO());
    expect(Number.isFinite(svi.step(y, m))).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
    // a mask that does not fit the plate: an error naming the mask, nothing leaked
    expect(() => loss(y, bad)).toThrow(
      /mask: .*\[2\] does not broadcast with the batch shape \[4\]/,
    );
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([y, m, sub, bad]);
    still.dispose();
    opt.dispose();
  });

  it('MCMC potential: U(mu) = -(log N(mu; 0, 1) + unmasked terms), gradient by differences', () => {
    const y = tf.tensor1d(ys);
    const m = tf.tensor1d(keep, 'bool');
    const { sites } = initialPoint(model, [y, m], 'uniform', new ChainRng(0));
    expect(sites.map((s) => s.name)).toEqual(['mu']);
    const pot = new ModelPotential(model, [y, m], sites);
    const handU = (z: number[]): number => {
      const mu = z[0] as number;
      return -ys.reduce((s, v, i) => s + (keep[i] ? logpdf(v, mu, 1) : 0), logpdf(mu, 0, 1));
    };
    const before = tf.memory().numTensors;
    for (const z of [[0.3], [-1.1], [2]]) {
      const { value, grad } = pot.valueAndGrad(Float64Array.from(z));
      expect(value).toBeCloseTo(handU(z), 3);
      expect(Array.from(grad)).toBeAllclose(finiteDiff(handU, z, 1e-5), {
        rtol: 1e-3,
        atol: 1e-3,
      });
    }
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([y, m]);
  });
});

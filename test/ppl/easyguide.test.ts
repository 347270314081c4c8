import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../src/index.js';
import { clearSeed, setSeed } from '../../src/utils/seed.js';

afterEach(() => {
  ppl.clearParamStore();
  clearSeed();
});

// Pyro's easyguide tutorial shape: global sites b0, b1 (one MVN over the group) and a local
// z_i per datum in a subsampled plate. b ~ N(0, I), z_i ~ N(b0 + b1 t_i, 1), x_i ~ N(z_i, 1):
// all Gaussian, so the posterior is known in closed form.
const T = [-1, 0, 1, 2];
const X = [-0.5, 0.8, 1.1, 2.6];
const N = T.length;
const model = (): void => {
  const b0 = ppl.sample('b0', new D.Normal(0, 1));
  const b1 = ppl.sample('b1', new D.Normal(0, 1));
  ppl.plate('data', N, { subsampleSize: 2 }, (idx) => {
    const t = tf.gather(tf.tensor1d(T), idx);
    const z = ppl.sample('z', new D.Normal(tf.add(b0, tf.mul(b1, t)), 1));
    ppl.sample('x', new D.Normal(z, 1), { obs: tf.gather(tf.tensor1d(X), idx) });
  });
};

/** The exact posterior of `(b0, b1)`: `x_i ~ N(b0 + b1 t_i, 2)` given `b`, so
 *  `Cov = (I + A^T A / 2)^{-1}`, `mean = Cov A^T x / 2`, `A` the rows `[1, t_i]` (float64). */
function exactB(): { mean: number[]; cov: number[][] } {
  let p00 = 1;
  let p01 = 0;
  let p11 = 1;
  let r0 = 0;
  let r1 = 0;
  T.forEach((t, i) => {
    p00 += 0.5;
    p01 += 0.5 * t;
    p11 += 0.5 * t * t;
    r0 += 0.5 * X[i]!;
    r1 += 0.5 * t * X[i]!;
  });
  const det = p00 * p11 - p01 * p01;
  const cov = [
    [p11 / det, -p01 / det],
    [-p01 / det, p00 / det],
  ];
  return {
    mean: [cov[0]![0]! * r0 + cov[0]![1]! * r1, cov[1]![0]! * r0 + cov[1]![1]! * r1],
    cov,
  };
}

/** The tutorial's guide: an MVN over the globals; each local given them (exact family). */
class TutorialGuide extends ppl.EasyGuide<[]> {
  guide(): void {
    const g = this.group({ match: 'b' });
    const d = g.eventShape[0]!;
    const loc = ppl.param('loc', () => tf.zeros([d]));
    const scaleTril = ppl.param('scale_tril', () => tf.mul(tf.eye(d), 0.5), {
      constraint: ppl.constraints.lowerCholesky,
    });
    const [, zs] = g.sample('beta', new D.MultivariateNormal(loc, { scaleTril }));
    const local = this.group({ match: 'z' });
    this.plate('data', (idx) => {
      const t = tf.gather(tf.tensor1d(T), idx);
      const w = ppl.param('w', 0);
      const zLoc = tf.gather(
        ppl.param('z_loc', () => tf.zeros([N])),
        idx,
      );
      const zScale = tf.gather(
        ppl.param('z_scale', () => tf.ones([N]), { constraint: ppl.constraints.positive }),
        idx,
      );
      const m = tf.add(tf.mul(w, tf.add(zs.b0!, tf.mul(zs.b1!, t))), zLoc);
      local.sample(
        'z_aux',
        new D.Normal(tf.expandDims(m, -1), tf.expandDims(zScale, -1)).toEvent(1),
      );
    });
  }
}

describe('EasyGuide', () => {
  it('groups, plates and the tutorial guide: the exact posterior of a conjugate model', () => {
    setSeed(3);
    const guide = new TutorialGuide(model);
    const svi = new ppl.SVI(
      model,
      guide,
      tf.train.adam(0.03),
      new ppl.TraceELBO({ numParticles: 8, vectorizeParticles: true }),
    );
    for (let i = 0; i < 350; i++) svi.step();
    const fine = new ppl.SVI(
      model,
      guide,
      tf.train.adam(0.005),
      new ppl.TraceELBO({ numParticles: 8, vectorizeParticles: true }),
    );
    for (let i = 0; i < 150; i++) fine.step();
    expect(guide.group({ match: 'b' }).eventShape).toEqual([2]);
    expect(guide.group({ match: 'b' }).siteNames).toEqual(['b0', 'b1']);
    expect(guide.group({ match: 'z' }).eventShape).toEqual([1]);
    const store = ppl.getParamStore();
    const loc = store.value('loc').arraySync() as number[];
    const L = store.value('scale_tril').arraySync() as number[][];
    const cov = [
      [L[0]![0]! ** 2, L[0]![0]! * L[1]![0]!],
      [L[0]![0]! * L[1]![0]!, L[1]![0]! ** 2 + L[1]![1]! ** 2],
    ];
    const ex = exactB();
    // stochastic optimisation over subsampled data: tolerances of its noise
    expect(Math.abs(loc[0]! - ex.mean[0]!)).toBeLessThan(0.12);
    expect(Math.abs(loc[1]! - ex.mean[1]!)).toBeLessThan(0.12);
    expect(Math.abs(cov[0]![0]! - ex.cov[0]![0]!)).toBeLessThan(0.08);
    expect(Math.abs(cov[1]![1]! - ex.cov[1]![1]!)).toBeLessThan(0.06);
    expect(Math.abs(cov[0]![1]! - ex.cov[0]![1]!)).toBeLessThan(0.06);
    // the locals given the globals: z_i | b, x ~ N((b0 + b1 t_i + x_i) / 2, 1/2)
    expect(Math.abs((store.value('w').arraySync() as number) - 0.5)).toBeLessThan(0.12);
    const zLoc = store.value('z_loc').arraySync() as number[];
    zLoc.forEach((v, i) => expect(Math.abs(v - X[i]! / 2)).toBeLessThan(0.2));
  }, 120000);

  it('a group draw replays each site at its slice, pushed into its support', () => {
    // a positive, a simplex and a real vector site: E = 1 + 2 + 3
    const m = (): void => {
      ppl.sample('s', new D.Gamma(2, 1));
      ppl.sample('p', new D.Dirichlet(tf.tensor1d([1, 1, 1])));
      ppl.sample('v', new D.Normal(tf.zeros([3]), 1).toEvent(1));
    };
    const u = tf.tensor1d([0.3, -0.2, 0.5, 1, 2, 3]);
    const g = ppl.easyGuide(m, (self) => {
      const grp = self.group();
      return grp.sample('joint', new ppl.Delta(u, 1));
    });
    setSeed(1);
    const tr = ppl.trace(() => g.call()).getTrace();
    expect(tr.get('joint')!.infer.isAuxiliary).toBe(true);
    expect(tr.get('s')!.value!.arraySync()).toBeCloseTo(Math.exp(0.3), 5); // bijectTo(positive) = exp
    const p = tr.get('p')!.value!.arraySync() as number[];
    expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    expect(tr.get('v')!.value!.arraySync()).toEqual([1, 2, 3]);
    // log q(s) = -log|det J_exp(0.3)| = -0.3
    const lq = tr.get('s')!.fn!.logProb(tr.get('s')!.value!).arraySync() as number;
    expect(lq).toBeCloseTo(-0.3, 5);
    tr.dispose();
    g.dispose();
    u.dispose();
  });

  it('mapEstimate: a MAP point over a subsampled plate, full-size parameter', () => {
    // z_i ~ N(0, 1), x_i ~ N(z_i, 1): MAP z_i = x_i / 2
    const xs = [1, -2, 3, 0.5, -1, 2];
    const m = (): void => {
      ppl.plate('data', 6, { subsampleSize: 3 }, (idx) => {
        const z = ppl.sample('z', new D.Normal(0, 1));
        ppl.sample('x', new D.Normal(z, 1), { obs: tf.gather(tf.tensor1d(xs), idx) });
      });
    };
    setSeed(4);
    const g = ppl.easyGuide(m, (self) => self.mapEstimate('z'), { prefix: 'map' });
    const svi = new ppl.SVI(m, g, tf.train.adam(0.1), new ppl.TraceELBO());
    for (let i = 0; i < 300; i++) svi.step();
    const v = ppl.getParamStore().value(g.mapParamName('z'));
    expect(v.shape).toEqual([6]);
    (v.arraySync() as number[]).forEach((z, i) => expect(z).toBeCloseTo(xs[i]! / 2, 1));
    v.dispose();
    // standalone calls leak nothing
    const before = tf.memory().numTensors;
    const out = g.call();
    (out as tf.Tensor).dispose();
    expect(tf.memory().numTensors).toBe(before);
    g.dispose();
  }, 60000);

  it('plate as ppl.plate (size, options, body): one subsample per guide call, shared', () => {
    const xs = [1, -2, 3, 0.5, -1, 2];
    const m = (): void => {
      ppl.plate('data', 6, { subsampleSize: 3 }, (idx) => {
        const z = ppl.sample('z', new D.Normal(0, 1));
        ppl.sample('x', new D.Normal(z, 1), { obs: tf.gather(tf.tensor1d(xs), idx) });
      });
    };
    const seen: number[][] = [];
    const g = ppl.easyGuide(m, (self) => {
      self.plate('data', 6, { subsampleSize: 3 }, (idx) => seen.push(idx.arraySync() as number[]));
      return self.plate('data', 6, (idx) => {
        seen.push(idx.arraySync() as number[]);
        return self.mapEstimate('z');
      });
    });
    setSeed(9);
    const tr = ppl.trace(() => g.call()).getTrace();
    expect(seen[0]).toEqual(seen[1]);
    expect(tr.get('data')!.value!.arraySync()).toEqual(seen[0]);
    expect(tr.get('z')!.value!.shape).toEqual([3]);
    // the MAP parameter is full size; the draw holds the visited members
    const all = ppl.getParamStore().value(g.mapParamName('z'));
    const idx = tf.tensor1d(seen[0]!, 'int32');
    expect(tr.get('z')!.value!).toBeAllclose(tf.gather(all, idx));
    tf.dispose([all, idx]);
    tr.dispose();
    g.dispose();
  });

  it('a group with a site in a plate that is not common: vectorized == sequential', () => {
    // b ~ N(0, 1); theta_j ~ LogNormal(b, 1) in a plate of 3; x_j ~ N(theta_j, 1)
    const m = (): void => {
      const b = ppl.sample('b', new D.Normal(0, 1));
      ppl.plate('J', 3, () => {
        const th = ppl.sample('theta', new D.LogNormal(b, 1));
        ppl.sample('x', new D.Normal(th, 1), { obs: tf.tensor1d([0.5, 1, 2]) });
      });
    };
    const u = tf.tensor1d([0.2, -0.1, 0.3, 0.4]);
    const g = ppl.easyGuide(m, (self) => {
      const grp = self.group();
      expect(grp.eventShape).toEqual([4]);
      grp.sample('joint', new ppl.Delta(u, 1));
    });
    const loss = (v: boolean): number =>
      new ppl.TraceELBO({ numParticles: 3, vectorizeParticles: v }).loss(m, g);
    const seq = loss(false);
    const before = tf.memory().numTensors;
    const vec = loss(true);
    expect(tf.memory().numTensors).toBe(before);
    expect(Math.abs(vec - seq)).toBeLessThan(1e-5 * Math.max(1, Math.abs(seq)));
    // the float64 value: -log p(b, theta, x) + log q, log q = -sum_j log|det J_exp(u_j)|
    const th = [0.3, 0.4, 0.5].map((_, j) => Math.exp([-0.1, 0.3, 0.4][j]!));
    const ln = (x: number, mu: number, s: number): number =>
      -0.5 * Math.log(2 * Math.PI) - Math.log(s) - 0.5 * ((x - mu) / s) ** 2;
    let lp = ln(0.2, 0, 1);
    th.forEach((t, j) => {
      lp += ln(Math.log(t), 0.2, 1) - Math.log(t) + ln([0.5, 1, 2][j]!, t, 1);
    });
    const lq = -[-0.1, 0.3, 0.4].reduce((a, b) => a + b, 0);
    expect(seq).toBeCloseTo(lq - lp, 4);
    g.dispose();
    u.dispose();
  });

  it('refuses bad input, naming it', () => {
    expect(() => ppl.easyGuide(model, 3 as never)).toThrow(/fn/);
    expect(() => ppl.easyGuide(3 as never, () => undefined)).toThrow(/model/);
    expect(() => ppl.easyGuide(model, () => undefined, { prefx: 'a' } as never)).toThrow(/prefx/);
    const g1 = ppl.easyGuide(model, (self) => self.group({ match: 'nothing' }));
    expect(() => g1.call()).toThrow(/match.*b0, b1, z/);
    const g2 = ppl.easyGuide(model, (self) => self.group({ mtch: 'b' } as never));
    expect(() => g2.call()).toThrow(/mtch/);
    const g3 = ppl.easyGuide(model, (self) => self.mapEstimate('x'));
    expect(() => g3.call()).toThrow(/'x' is not a continuous latent site/);
    const g4 = ppl.easyGuide(model, (self) =>
      self.group({ match: 'b' }).sample('aux', new D.Normal(tf.zeros([3]), 1).toEvent(1)),
    );
    expect(() => g4.call()).toThrow(/aux.*event shape \[2\]/);
    const g5 = ppl.easyGuide(model, (self) => self.plate('nope', () => undefined));
    expect(() => g5.call()).toThrow(/nope.*give its size/);
    // a group mixing a global and a local of a subsampled plate cannot pack it (its
    // mapEstimate can: audit19_easyguide)
    const g6 = ppl.easyGuide(model, (self) =>
      self.group({ match: 'b0|z' }).sample('aux', new D.Normal(tf.zeros([3]), 1).toEvent(1)),
    );
    expect(() => g6.call()).toThrow(/subsampled plate 'data'/);
    expect(() => g1.prototypeSites).not.toThrow();
    expect(() => ppl.easyGuide(model, () => undefined).prototypeTrace).toThrow(/call the guide/);
    for (const g of [g1, g2, g3, g4, g5, g6]) g.dispose();
  });
});

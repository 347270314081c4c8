/**
 * Pyro's "Inference with Discrete Latent Variables" tutorial, every model/guide/inference cell
 * ported: the shapes it prints under sampling and under enumeration (enumeration dims left of
 * the plates), `configEnumerate`, `inferDiscrete` (MAP and sampling), `vindex`, enumeration in
 * plates, the dependency restrictions, HMMs with and without `markov`, and
 * `TraceEnumELBO.computeMarginals`; numbers against brute-force enumeration in plain JS.
 */
import * as tf from '@tensorflow/tfjs';
import normalRef from '@stdlib/stats-base-dists-normal';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../src/index.js';
import { clearSeed, setSeed } from '../../src/utils/seed.js';
import { expectNoLeak } from '../helpers.js';

afterEach(() => {
  ppl.clearParamStore();
  clearSeed();
});

const lpN = (x: number, m: number, s: number): number => normalRef.logpdf(x, m, s);
const lse = (xs: number[]): number => {
  const m = Math.max(...xs);
  return m === -Infinity ? m : m + Math.log(xs.reduce((a, x) => a + Math.exp(x - m), 0));
};
const shapeOf = (t: tf.Tensor): number[] => [...t.shape];
const noGuide = (): void => undefined;
const i32 = (t: tf.Tensor): tf.Tensor => tf.cast(t, 'int32');
const rows = (t: tf.Tensor): number[][] => t.arraySync() as number[][];

/**
 * Run a block of tests on the cpu backend (rank > 6 tensors: more enumerated sites); wasm runs
 * them too since its binary kernels are folded to 6 dims (`DEEPPROB_ENUM_CPU=1` forces cpu).
 */
function onCpu(): void {
  if (process.env.DEEPPROB_ENUM_CPU !== '1') return;
  let previous = '';
  beforeAll(async () => {
    previous = tf.getBackend();
    await tf.setBackend('cpu');
  });
  afterAll(async () => {
    ppl.clearParamStore();
    await tf.setBackend(previous);
  });
}

describe('enumeration tutorial: mechanics of enumeration', () => {
  const seen: { model: number[][]; guide: number[][] } = { model: [], guide: [] };
  const model = (): void => {
    const z = ppl.sample('z', new D.Categorical({ probs: tf.div(tf.ones([5]), 5) }));
    seen.model.push(shapeOf(z));
  };
  const guide = (): void => {
    const z = ppl.sample('z', new D.Categorical({ probs: tf.div(tf.ones([5]), 5) }));
    seen.guide.push(shapeOf(z));
  };

  it('sampling: Trace_ELBO sees z of shape []; enumerated in the guide, z is [0..4] of shape [5]', () => {
    seen.model = [];
    seen.guide = [];
    expect(Math.abs(new ppl.TraceELBO().loss(model, guide))).toBeLessThan(1e-6);
    expect(seen).toEqual({ model: [[]], guide: [[]] });
    seen.model = [];
    seen.guide = [];
    const elbo = new ppl.TraceEnumELBO({ maxPlateNesting: 0 });
    const tr = ppl.trace(ppl.enumerate(ppl.configEnumerate(guide), -1)).getTrace();
    expect(Array.from(tr.value('z').dataSync())).toEqual([0, 1, 2, 3, 4]);
    tr.dispose();
    seen.guide = [];
    expect(Math.abs(elbo.loss(model, ppl.configEnumerate(guide, 'parallel')))).toBeLessThan(1e-6);
    expect(seen).toEqual({ model: [[5]], guide: [[5]] });
    // Pyro's config_enumerate(guide, "sequential") runs guide and model once per value, z of
    // shape [] each time (the run that escapes at z never returns from sample)
    seen.model = [];
    seen.guide = [];
    expect(Math.abs(elbo.loss(model, ppl.configEnumerate(guide, 'sequential')))).toBeLessThan(1e-6);
    expect(seen).toEqual({ model: [[], [], [], [], []], guide: [[], [], [], [], []] });
    expect(() => ppl.configEnumerate(guide, 'flat' as 'parallel')).toThrow(
      /default: configEnumerate: expected 'parallel' or 'sequential', got "flat"/,
    );
  });
});

describe('enumeration tutorial: multiple latent variables and infer_discrete', () => {
  const P = [
    [0.2, 0.5, 0.3],
    [0.6, 0.1, 0.3],
    [0.25, 0.25, 0.5],
  ];
  const shapes: number[][][] = [];
  const model = ppl.configEnumerate((): [tf.Tensor, tf.Tensor, tf.Tensor] => {
    const p = ppl.param('p', tf.tensor2d(P), { constraint: ppl.constraints.simplex });
    const x = ppl.sample('x', new D.Categorical({ probs: tf.gather(p, 0) }));
    const y = ppl.sample('y', new D.Categorical({ probs: tf.gather(p, i32(x)) }));
    const z = ppl.sample('z', new D.Categorical({ probs: tf.gather(p, i32(y)) }));
    shapes.push([shapeOf(x), shapeOf(y), shapeOf(z)]);
    return [x, y, z];
  });

  it('sampling gives shapes [], enumerated inference [3], [3, 1], [3, 1, 1]', () => {
    shapes.length = 0;
    setSeed(1);
    const out = model();
    tf.dispose(out);
    expect(shapes[0]).toEqual([[], [], []]);
    shapes.length = 0;
    const loss = new ppl.TraceEnumELBO({ maxPlateNesting: 0 }).loss(model, noGuide);
    expect(shapes[shapes.length - 1]).toEqual([[3], [3, 1], [3, 1, 1]]);
    expect(Math.abs(loss)).toBeLessThan(1e-5); // nothing observed: log sum p = 0
  });

  it('infer_discrete(model, firstAvailableDim=-1, temperature=0) is the joint argmax (brute force)', () => {
    let best = [-1, -1, -1];
    let bestLp = -Infinity;
    for (let x = 0; x < 3; x++)
      for (let y = 0; y < 3; y++)
        for (let z = 0; z < 3; z++) {
          const lp = Math.log(P[0]![x]!) + Math.log(P[x]![y]!) + Math.log(P[y]![z]!);
          if (lp > bestLp) [bestLp, best] = [lp, [x, y, z]];
        }
    const serving = ppl.inferDiscrete(model, { firstAvailableDim: -1, temperature: 0 });
    const [x, y, z] = serving(); // takes the same args as model(), here none
    expect([x, y, z].map((t) => t.dataSync()[0])).toEqual(best);
    expect([x, y, z].map(shapeOf)).toEqual([[], [], []]);
    tf.dispose([x, y, z]);
    expectNoLeak(() => tf.tidy(() => serving()));
  });

  it('infer_discrete at temperature 1 draws (x, y, z) from the joint: frequencies within 4 MC s.e.', () => {
    setSeed(11);
    const serving = ppl.inferDiscrete(model, { firstAvailableDim: -1 });
    const n = 300;
    const counts = new Map<string, number>();
    for (let i = 0; i < n; i++) {
      const out = serving();
      const key = out.map((t) => t.dataSync()[0]).join(',');
      counts.set(key, (counts.get(key) ?? 0) + 1);
      tf.dispose(out);
    }
    for (let x = 0; x < 3; x++)
      for (let y = 0; y < 3; y++) {
        // the (x, y) marginal
        const p = P[0]![x]! * P[x]![y]!;
        const c = [0, 1, 2].reduce((a, z) => a + (counts.get(`${x},${y},${z}`) ?? 0), 0);
        expect(Math.abs(c / n - p)).toBeLessThan(4 * Math.sqrt((p * (1 - p)) / n) + 1e-9);
      }
  });

  it('computeMarginals gives the prior marginals of x, y, z (p0, p0 P, p0 P^2)', () => {
    const m = new ppl.TraceEnumELBO({ maxPlateNesting: 0 }).computeMarginals(model, noGuide);
    const px = P[0]!;
    const py = [0, 1, 2].map((j) => [0, 1, 2].reduce((a, i) => a + px[i]! * P[i]![j]!, 0));
    const pz = [0, 1, 2].map((j) => [0, 1, 2].reduce((a, i) => a + py[i]! * P[i]![j]!, 0));
    for (const [name, want] of [
      ['x', px],
      ['y', py],
      ['z', pz],
    ] as const) {
      const d = m[name] as D.Categorical;
      expect(d.batchShape).toEqual([]);
      Array.from(d.probs.dataSync()).forEach((v, k) => expect(v).toBeCloseTo(want[k]!, 5));
    }
    Object.values(m).forEach((d) => d.dispose());
  });
});

describe('enumeration tutorial: indexing with enumerated variables (Vindex)', () => {
  const seen: Record<string, number[]>[] = [];
  const pInit = (): tf.Tensor =>
    tf.tidy(() => {
      const raw = tf.exp(tf.mul(tf.sin(tf.range(0, 120, 1, 'float32')), 1.5));
      const r = tf.reshape(raw, [5, 4, 3, 2]);
      return tf.div(r, tf.sum(r, -1, true));
    });
  const makeModel = (obs?: tf.Tensor) =>
    ppl.configEnumerate((): void => {
      const p = ppl.param('p', pInit, { constraint: ppl.constraints.simplex });
      const x = ppl.sample('x', new D.Categorical({ probs: tf.div(tf.ones([4]), 4) }));
      const y = ppl.sample('y', new D.Categorical({ probs: tf.div(tf.ones([3]), 3) }));
      ppl.plate('z_plate', 5, () => {
        const pxy = ppl.vindex(p, ['...', x, y, ':']);
        const z = ppl.sample('z', new D.Categorical({ probs: pxy }), obs ? { obs } : {});
        seen.push({
          p: shapeOf(p),
          x: shapeOf(x),
          y: shapeOf(y),
          p_xy: shapeOf(pxy),
          z: shapeOf(z),
        });
      });
    });

  it('the shapes printed under sampling and under TraceEnum_ELBO(max_plate_nesting=1)', () => {
    seen.length = 0;
    setSeed(2);
    const model = makeModel();
    model();
    expect(seen[0]).toEqual({ p: [5, 4, 3, 2], x: [], y: [], p_xy: [5, 2], z: [5] });
    seen.length = 0;
    new ppl.TraceEnumELBO({ maxPlateNesting: 1 }).loss(model, noGuide);
    expect(seen[seen.length - 1]).toEqual({
      p: [5, 4, 3, 2],
      x: [4, 1],
      y: [3, 1, 1],
      p_xy: [3, 4, 5, 2],
      z: [2, 1, 1, 1],
    });
  });

  it('with z observed the loss is -log sum_{x,y} p(x) p(y) prod_i p[i, x, y, z_i] (brute force)', () => {
    const zs = [1, 0, 0, 1, 1];
    const obs = tf.tensor1d(zs);
    const model = makeModel(obs);
    const loss = new ppl.TraceEnumELBO({ maxPlateNesting: 1 }).loss(model, noGuide);
    const p = ppl.param('p').arraySync() as number[][][][];
    const terms: number[] = [];
    for (let x = 0; x < 4; x++)
      for (let y = 0; y < 3; y++) {
        let s = Math.log(1 / 12);
        zs.forEach((zi, i) => (s += Math.log(p[i]![x]![y]![zi]!)));
        terms.push(s);
      }
    expect(loss).toBeCloseTo(-lse(terms), 4);
    // and the posterior of (x, y) through computeMarginals
    const m = new ppl.TraceEnumELBO({ maxPlateNesting: 1 }).computeMarginals(model, noGuide);
    const lz = lse(terms);
    const px = [0, 1, 2, 3].map((x) => Math.exp(lse([0, 1, 2].map((y) => terms[x * 3 + y]!)) - lz));
    Array.from((m.x as D.Categorical).probs.dataSync()).forEach((v, k) =>
      expect(v).toBeCloseTo(px[k]!, 5),
    );
    Object.values(m).forEach((d) => d.dispose());
    obs.dispose();
  });

  it('with the plate index: Vindex(p)[vdx[..., None], c, :] and a Dirichlet event dim', () => {
    const shapes: Record<string, number[]>[] = [];
    const obs = tf.zeros([5, 6]);
    const model = ppl.configEnumerate((): void => {
      const dataPlate = <R>(f: (i: tf.Tensor) => R): R =>
        ppl.plate('data_plate', 6, { dim: -1 }, f);
      const featurePlate = <R>(f: (i: tf.Tensor) => R): R =>
        ppl.plate('feature_plate', 5, { dim: -2 }, f);
      const componentPlate = <R>(f: () => R): R => ppl.plate('component_plate', 4, { dim: -1 }, f);
      const p = featurePlate(() =>
        componentPlate(() => ppl.sample('p', new D.Dirichlet(tf.ones([3])))),
      );
      dataPlate(() => {
        const c = ppl.sample('c', new D.Categorical({ probs: tf.div(tf.ones([4]), 4) }));
        featurePlate((vdx) => {
          // capture the plate index, reshape it and use it in vindex
          const pc = ppl.vindex(p, [tf.expandDims(vdx, -1), c, ':']);
          const x = ppl.sample('x', new D.Categorical({ probs: pc }), { obs });
          shapes.push({
            p: shapeOf(p),
            c: shapeOf(c),
            vdx: shapeOf(vdx),
            pc: shapeOf(pc),
            x: shapeOf(x),
          });
        });
      });
    });
    const guide = (): void => {
      ppl.plate('feature_plate', 5, { dim: -2 }, () =>
        ppl.plate('component_plate', 4, { dim: -1 }, () =>
          ppl.sample('p', new D.Dirichlet(tf.ones([3]))),
        ),
      );
    };
    setSeed(4);
    model();
    expect(shapes[0]).toEqual({ p: [5, 4, 3], c: [6], vdx: [5], pc: [5, 6, 3], x: [5, 6] });
    shapes.length = 0;
    const seeded = ppl.seed(guide, 21);
    const loss = new ppl.TraceEnumELBO({ maxPlateNesting: 2 }).loss(model, seeded);
    expect(shapes[shapes.length - 1]).toEqual({
      p: [5, 4, 3],
      c: [4, 1, 1],
      vdx: [5],
      pc: [4, 5, 1, 3],
      x: [5, 6],
    });
    // the guide is the prior of p, so the loss is -sum_j log sum_c (1/4) prod_i p[i, c, 0]
    const tr = ppl.trace(ppl.seed(guide, 21)).getTrace();
    const pv = tr.value('p').arraySync() as number[][][];
    tr.dispose();
    const perData = lse(
      [0, 1, 2, 3].map(
        (c) => Math.log(0.25) + [0, 1, 2, 3, 4].reduce((a, i) => a + Math.log(pv[i]![c]![0]!), 0),
      ),
    );
    expect(loss).toBeCloseTo(-6 * perData, 3);
    obs.dispose();
  });
});

describe('enumeration tutorial: plates and enumeration (Gaussian mixture)', () => {
  const data = [0.3, -1.2, 2.5, 1.9, -0.4, 0.8, -2.1, 1.1, 0.05, 2.9];
  const shapes: number[][][] = [];
  const model = ppl.configEnumerate((y: tf.Tensor): void => {
    const numComponents = 3;
    const p = ppl.sample('p', new D.Dirichlet(tf.mul(0.5, tf.ones([numComponents]))));
    const scale = ppl.sample('scale', new D.LogNormal(0, numComponents));
    const loc = ppl.plate('components', numComponents, () =>
      ppl.sample('loc', new D.Normal(0, 10)),
    );
    ppl.plate('data', y.shape[0] as number, () => {
      const x = ppl.sample('x', new D.Categorical({ probs: p }));
      const d = new D.Normal(tf.gather(loc, i32(x)), scale);
      shapes.push([shapeOf(x), d.batchShape]);
      ppl.sample('obs', d, { obs: y });
    });
  });

  it('x is [10] when sampled (the AutoNormal trace) and [3, 1] enumerated; obs batch [3, 1]', () => {
    const y = tf.tensor1d(data);
    shapes.length = 0;
    const guide = new ppl.AutoNormal(ppl.block(model, { hide: ['x', 'data'] }));
    setSeed(3);
    const loss = new ppl.TraceEnumELBO({ maxPlateNesting: 1 }).loss(model, guide, y);
    expect(Number.isFinite(loss)).toBe(true);
    expect(shapes[0]).toEqual([[10], [10]]); // the autoguide's run of the model
    expect(shapes[shapes.length - 1]).toEqual([
      [3, 1],
      [3, 1],
    ]);
    guide.dispose();
    y.dispose();
  });

  it('with the continuous sites fixed (Delta guide): the loss and computeMarginals against brute force', () => {
    const y = tf.tensor1d(data);
    const pv = [0.2, 0.5, 0.3];
    const sv = 0.9;
    const lv = [-1.5, 0.4, 2.2];
    const guide = (): void => {
      ppl.sample('p', new ppl.Delta(tf.tensor1d(pv), 1));
      ppl.sample('scale', new ppl.Delta(tf.scalar(sv)));
      ppl.plate('components', 3, () => ppl.sample('loc', new ppl.Delta(tf.tensor1d(lv))));
    };
    const elbo = new ppl.TraceEnumELBO({ maxPlateNesting: 1 });
    const loss = elbo.loss(model, guide, y);
    const dir = new D.Dirichlet(tf.mul(0.5, tf.ones([3])));
    const ln = new D.LogNormal(0, 3);
    const priorLp = tf.tidy(
      () =>
        (dir.logProb(tf.tensor1d(pv)).dataSync()[0] as number) +
        (ln.logProb(tf.scalar(sv)).dataSync()[0] as number),
    );
    dir.dispose();
    ln.dispose();
    const perPoint = data.map((d) => lv.map((l, k) => Math.log(pv[k]!) + lpN(d, l, sv)));
    const want =
      priorLp +
      lv.reduce((a, l) => a + lpN(l, 0, 10), 0) +
      perPoint.reduce((a, t) => a + lse(t), 0);
    expect(Math.abs(loss + want) / Math.abs(want)).toBeLessThan(1e-5);
    const m = elbo.computeMarginals(model, guide, y);
    const x = m.x as D.Categorical;
    expect(x.batchShape).toEqual([10]);
    const probs = rows(x.probs);
    perPoint.forEach((t, i) => {
      const z = lse(t);
      t.forEach((v, k) => expect(probs[i]![k]).toBeCloseTo(Math.exp(v - z), 5));
    });
    expect(Object.keys(m)).toEqual(['x']);
    x.dispose();
    expectNoLeak(() => {
      const mm = elbo.computeMarginals(model, guide, y);
      Object.values(mm).forEach((d) => d.dispose());
    });
    y.dispose();
  });
});

describe('enumeration tutorial: dependencies among plates', () => {
  it('restriction 2 (no downstream coupling): a site outside the plate using x inside it is refused', () => {
    const invalid = ppl.configEnumerate((d: tf.Tensor): void => {
      const x = ppl.plate('plate', 10, () => ppl.sample('x', new D.Bernoulli(0.5)));
      ppl.sample('obs', new D.Normal(tf.sum(x, -1, true), 1), { obs: d });
    });
    const d = tf.tensor1d([3]);
    const before = tf.memory().numTensors;
    expect(() => new ppl.TraceEnumELBO({ maxPlateNesting: 1 }).loss(invalid, noGuide, d)).toThrow(
      /e:x/,
    );
    expect(tf.memory().numTensors).toBe(before);
    d.dispose();
  });

  it('restriction 3 (a single path leaving each plate): the Boltzmann machine is refused', () => {
    const invalid = ppl.configEnumerate((): void => {
      const plate1 = <R>(f: () => R): R => ppl.plate('plate_1', 10, { dim: -1 }, f);
      const plate2 = <R>(f: () => R): R => ppl.plate('plate_2', 10, { dim: -2 }, f);
      const x = plate1(() => ppl.sample('y', new D.Bernoulli(0.5)));
      const y = plate2(() => ppl.sample('x', new D.Bernoulli(0.5)));
      plate1(() =>
        plate2(() =>
          ppl.sample('z', new D.Bernoulli(tf.div(tf.add(1, tf.add(x, y)), 4)), {
            obs: tf.ones([10, 10]),
          }),
        ),
      );
    });
    expect(() => new ppl.TraceEnumELBO({ maxPlateNesting: 2 }).loss(invalid, noGuide)).toThrow(
      /could not be summed out|plates/,
    );
  });

  describe('the valid rewrites with a sequential plate (more enumerated sites: cpu backend)', () => {
    onCpu();
    it('restriction 2 rewrite: x_i in a sequential plate, obs ~ Normal(sum x, 1) (binomial sum)', () => {
      const n = 10;
      const valid = ppl.configEnumerate((d: tf.Tensor): void => {
        const xs: tf.Tensor[] = [];
        for (let i = 0; i < n; i++) xs.push(ppl.sample(`x_${i}`, new D.Bernoulli(0.5)));
        expect(xs[n - 1]!.shape).toEqual([2, ...new Array<number>(n - 1).fill(1)]);
        ppl.sample(
          'obs',
          new D.Normal(
            xs.reduce((a, b) => tf.add(a, b)),
            1,
          ),
          { obs: d },
        );
      });
      const d = tf.scalar(3.3);
      const loss = new ppl.TraceEnumELBO({ maxPlateNesting: 0 }).loss(valid, noGuide, d);
      let binom = 1;
      const terms: number[] = [];
      for (let k = 0; k <= n; k++) {
        terms.push(Math.log(binom) - n * Math.log(2) + lpN(3.3, k, 1));
        binom = (binom * (n - k)) / (k + 1);
      }
      expect(loss).toBeCloseTo(-lse(terms), 4);
      d.dispose();
    });

    it('restriction 3 rewrite: plate_2 sequential, z_i | x, y_i observed (brute force over y)', () => {
      const n1 = 4;
      const n2 = 3;
      const zObs = [
        [1, 0, 1, 1],
        [0, 0, 1, 0],
        [1, 1, 1, 0],
      ];
      const valid = ppl.configEnumerate((): void => {
        const plate1 = <R>(f: () => R): R => ppl.plate('plate_1', n1, { dim: -1 }, f);
        const x = plate1(() => ppl.sample('x', new D.Bernoulli(0.3)));
        for (let i = 0; i < n2; i++) {
          const y = ppl.sample(`y_${i}`, new D.Bernoulli(0.6));
          plate1(() =>
            ppl.sample(`z_${i}`, new D.Bernoulli(tf.div(tf.add(1, tf.add(x, y)), 4)), {
              obs: tf.tensor1d(zObs[i]!),
            }),
          );
        }
      });
      const loss = new ppl.TraceEnumELBO({ maxPlateNesting: 1 }).loss(valid, noGuide);
      const lb = (v: number, p: number): number => Math.log(v === 1 ? p : 1 - p);
      const terms: number[] = [];
      for (let ys = 0; ys < 1 << n2; ys++) {
        const yv = [0, 1, 2].map((i) => (ys >> i) & 1);
        let s = yv.reduce((a, v) => a + lb(v, 0.6), 0);
        for (let j = 0; j < n1; j++) {
          s += lse(
            [0, 1].map(
              (xv) =>
                lb(xv, 0.3) + yv.reduce((a, v, i) => a + lb(zObs[i]![j]!, (1 + xv + v) / 4), 0),
            ),
          );
        }
        terms.push(s);
      }
      expect(loss).toBeCloseTo(-lse(terms), 4);
    });
  });
});

describe('enumeration tutorial: time series (HMM)', () => {
  const dataDim = 4;
  const hiddenDim = 10;
  const data = [0, 3, 1, 1, 2, 0, 3, 3, 2, 1];
  const shapes: number[][] = [];
  const hmmModel =
    (useMarkov: boolean) =>
    (ys: number[]): void => {
      shapes.length = 0;
      const [transition, emission] = ppl.plate('hidden_state', hiddenDim, () => [
        ppl.sample('transition', new D.Dirichlet(tf.mul(0.5, tf.ones([hiddenDim])))),
        ppl.sample('emission', new D.Dirichlet(tf.mul(0.5, tf.ones([dataDim])))),
      ]) as [tf.Tensor, tf.Tensor];
      let x: tf.Tensor = tf.scalar(0, 'int32'); // the initial state
      const steps = useMarkov ? ppl.markov(ys.length) : ys.keys();
      for (const t of steps) {
        x = ppl.sample(`x_${t}`, new D.Categorical({ probs: tf.gather(transition, i32(x)) }), {
          infer: { enumerate: 'parallel' },
        });
        ppl.sample(`y_${t}`, new D.Categorical({ probs: tf.gather(emission, i32(x)) }), {
          obs: tf.scalar(ys[t]!),
        });
        shapes.push(shapeOf(x));
      }
    };
  const T = (): number[][] =>
    Array.from({ length: hiddenDim }, (_, i) =>
      Array.from({ length: hiddenDim }, (_, j) => (1 + ((i * 7 + j * 3) % 5)) / 1),
    ).map((r) => r.map((v) => v / r.reduce((a, b) => a + b, 0)));
  const E = (): number[][] =>
    Array.from({ length: hiddenDim }, (_, i) =>
      Array.from({ length: dataDim }, (_, j) => 1 + ((i + 2 * j) % 3)),
    ).map((r) => r.map((v) => v / r.reduce((a, b) => a + b, 0)));
  const deltaGuide = (): void => {
    ppl.plate('hidden_state', hiddenDim, () => {
      ppl.sample('transition', new ppl.Delta(tf.tensor2d(T()), 1));
      ppl.sample('emission', new ppl.Delta(tf.tensor2d(E()), 1));
    });
  };
  /** log p(y_0..y_{T-1}) by the forward algorithm (float64), x_{-1} = 0. */
  const forward = (ys: number[]): number => {
    const tr = T();
    const em = E();
    let alpha = tr[0]!.map((p, k) => Math.log(p) + Math.log(em[k]![ys[0]!]!));
    for (let t = 1; t < ys.length; t++) {
      alpha = alpha.map(
        (_, k) => lse(alpha.map((a, j) => a + Math.log(tr[j]![k]!))) + Math.log(em[k]![ys[t]!]!),
      );
    }
    return lse(alpha);
  };
  const priorLp = (): number =>
    tf.tidy(() => {
      const dt = new D.Dirichlet(tf.mul(0.5, tf.ones([hiddenDim])));
      const de = new D.Dirichlet(tf.mul(0.5, tf.ones([dataDim])));
      const v =
        (tf.sum(dt.logProb(tf.tensor2d(T()))).dataSync()[0] as number) +
        (tf.sum(de.logProb(tf.tensor2d(E()))).dataSync()[0] as number);
      dt.dispose();
      de.dispose();
      return v;
    });

  it('with markov: x_t alternates between [10, 1] and [10, 1, 1]; the loss is the forward algorithm', () => {
    const model = hmmModel(true);
    const elbo = new ppl.TraceEnumELBO({ maxPlateNesting: 1 });
    const loss = elbo.loss(model, deltaGuide, data);
    expect(shapes).toEqual(data.map((_, t) => (t % 2 === 0 ? [10, 1] : [10, 1, 1])));
    const want = priorLp() + forward(data);
    expect(Math.abs(loss + want) / Math.abs(want)).toBeLessThan(1e-5);
    // and with the tutorial's guide, AutoNormal over transition and emission
    const guide = new ppl.AutoNormal(ppl.block(model, { expose: ['transition', 'emission'] }));
    setSeed(5);
    expect(Number.isFinite(elbo.loss(model, guide, data))).toBe(true);
    guide.dispose();
  });

  it('computeMarginals of the markov HMM are the forward-backward smoothing marginals', () => {
    const model = hmmModel(true);
    const m = new ppl.TraceEnumELBO({ maxPlateNesting: 1 }).computeMarginals(
      model,
      deltaGuide,
      data.slice(0, 5),
    );
    const ys = data.slice(0, 5);
    // brute-force smoothing by forward and backward passes (float64)
    const tr = T();
    const em = E();
    const n = ys.length;
    const alpha: number[][] = [tr[0]!.map((p, k) => Math.log(p) + Math.log(em[k]![ys[0]!]!))];
    for (let t = 1; t < n; t++) {
      alpha.push(
        alpha[t - 1]!.map(
          (_, k) =>
            lse(alpha[t - 1]!.map((a, j) => a + Math.log(tr[j]![k]!))) + Math.log(em[k]![ys[t]!]!),
        ),
      );
    }
    const beta: number[][] = new Array<number[]>(n);
    beta[n - 1] = new Array<number>(hiddenDim).fill(0);
    for (let t = n - 2; t >= 0; t--) {
      beta[t] = beta[t + 1]!.map((_, j) =>
        lse(beta[t + 1]!.map((b, k) => Math.log(tr[j]![k]!) + Math.log(em[k]![ys[t + 1]!]!) + b)),
      );
    }
    for (let t = 0; t < n; t++) {
      const s = alpha[t]!.map((a, k) => a + beta[t]![k]!);
      const z = lse(s);
      const got = Array.from((m[`x_${t}`] as D.Categorical).probs.dataSync());
      got.forEach((v, k) => expect(v).toBeCloseTo(Math.exp(s[k]! - z), 5));
    }
    Object.values(m).forEach((d) => d.dispose());
  });

  describe('without markov (a dim per step: cpu backend)', () => {
    onCpu();
    it('x_t has t + 1 dims left of the plate: [10, 1], [10, 1, 1], ...; the same loss', () => {
      const model = hmmModel(false);
      const loss = new ppl.TraceEnumELBO({ maxPlateNesting: 1 }).loss(model, deltaGuide, data);
      expect(shapes).toEqual(data.map((_, t) => [10, ...new Array<number>(t + 1).fill(1)]));
      const want = priorLp() + forward(data);
      expect(Math.abs(loss + want) / Math.abs(want)).toBeLessThan(1e-5);
    });
  });
});

describe('enumeration in the guide (config_enumerate on a guide with dependent sites)', () => {
  it('q(a) q(b | a) weigh every term: the ELBO equals the brute-force expectation', () => {
    const qa = [0.1, 0.6, 0.3];
    const qb = [0.2, 0.7, 0.0]; // q(b = 1 | a); a = 2 never gives b = 1
    const pb = [0.5, 0.25, 0.9];
    const y = 0.7;
    const model = (): void => {
      const a = ppl.sample('a', new D.Categorical({ probs: [1 / 3, 1 / 3, 1 / 3] }));
      const b = ppl.sample('b', new D.Bernoulli(tf.gather(tf.tensor1d(pb), i32(a))));
      ppl.sample('y', new D.Normal(tf.sub(tf.mul(b, 2), 1), 1), { obs: tf.scalar(y) });
    };
    const guide = ppl.configEnumerate((): void => {
      const a = ppl.sample('a', new D.Categorical({ probs: qa }));
      ppl.sample('b', new D.Bernoulli(tf.gather(tf.tensor1d(qb), i32(a))));
    });
    let want = 0;
    for (let a = 0; a < 3; a++)
      for (const b of [0, 1]) {
        const q = qa[a]! * (b === 1 ? qb[a]! : 1 - qb[a]!);
        if (q === 0) continue;
        const lp = Math.log(1 / 3) + Math.log(b === 1 ? pb[a]! : 1 - pb[a]!) + lpN(y, 2 * b - 1, 1);
        want += q * (lp - Math.log(q));
      }
    const loss = new ppl.TraceEnumELBO({ maxPlateNesting: 0 }).loss(model, guide);
    expect(loss).toBeCloseTo(-want, 4);
  });
});

describe('computeMarginals: families and errors', () => {
  it('a Bernoulli site gives a Bernoulli marginal: p(z = 1 | y) in closed form', () => {
    const ys = [0.4, -1.3, 1.1, 2.0];
    const y = tf.tensor1d(ys);
    const model = (obs: tf.Tensor): void => {
      const z = ppl.sample('z', new D.Bernoulli(0.4), { infer: { enumerate: 'parallel' } });
      ppl.plate('data', ys.length, () =>
        ppl.sample('y', new D.Normal(tf.sub(tf.mul(z, 2), 1), 1.5), { obs }),
      );
    };
    const l1 = Math.log(0.4) + ys.reduce((a, v) => a + lpN(v, 1, 1.5), 0);
    const l0 = Math.log(0.6) + ys.reduce((a, v) => a + lpN(v, -1, 1.5), 0);
    const m = new ppl.TraceEnumELBO({ maxPlateNesting: 1 }).computeMarginals(model, noGuide, y);
    const z = m.z as D.Bernoulli;
    expect(z).toBeInstanceOf(D.Bernoulli);
    expect(z.batchShape).toEqual([]);
    expect(z.probs.dataSync()[0]).toBeCloseTo(Math.exp(l1 - lse([l0, l1])), 5);
    z.dispose();
    y.dispose();
  });

  it('a guide that enumerates is refused naming the guide, with nothing leaked', () => {
    const model = (): void => {
      ppl.sample('z', new D.Bernoulli(0.4));
    };
    const guide = ppl.configEnumerate((): void => {
      ppl.sample('z', new D.Bernoulli(0.5));
    });
    const before = tf.memory().numTensors;
    expect(() =>
      new ppl.TraceEnumELBO({ maxPlateNesting: 0 }).computeMarginals(model, guide),
    ).toThrow(/guide: computeMarginals: the guide enumerates 'z'/);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a model without enumerated sites has no marginals', () => {
    const model = (): void => {
      ppl.sample('y', new D.Normal(0, 1), { obs: tf.scalar(0.3) });
    };
    expect(new ppl.TraceEnumELBO({ maxPlateNesting: 0 }).computeMarginals(model, noGuide)).toEqual(
      {},
    );
  });
});

/**
 * Pyro's "Tensor shapes in Pyro" tutorial, every model/guide/inference cell ported: the shapes
 * the tutorial asserts (batch/event shapes, `toEvent`, `expand`, plates with explicit `dim`,
 * subsampling, the shapes of a trace under `TraceEnumELBO` with `firstAvailableDim`) are ours,
 * and the losses equal brute-force sums written in plain JS (float64).
 */
import * as tf from '@tensorflow/tfjs';
import normalRef from '@stdlib/stats-base-dists-normal';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../src/index.js';
import { clearSeed, setSeed } from '../../src/utils/seed.js';
import { expectNoLeak } from '../helpers.js';

afterEach(() => {
  ppl.clearParamStore();
  clearSeed();
});

const lpN = (x: number, m: number, s: number): number => normalRef.logpdf(x, m, s);
const lpBern = (x: number, p: number): number => (x === 1 ? Math.log(p) : Math.log(1 - p));
const lse = (xs: number[]): number => {
  const m = Math.max(...xs);
  return m + Math.log(xs.reduce((a, x) => a + Math.exp(x - m), 0));
};
const shapeOf = (t: tf.Tensor): number[] => [...t.shape];
const noGuide = (): void => undefined;

/** Pyro's `test_model`: one loss evaluation on a fresh parameter store. */
function testModel(
  model: () => void,
  guide: () => void,
  loss: { loss: (m: () => void, g: () => void) => number },
): number {
  ppl.clearParamStore();
  return loss.loss(model, guide);
}

describe('tensor shapes tutorial: distribution shapes', () => {
  it('Bernoulli(0.5): batch [] event [], sample [], logProb []', () => {
    const d = new D.Bernoulli(0.5);
    expect(d.batchShape).toEqual([]);
    expect(d.eventShape).toEqual([]);
    const x = d.sample();
    expect(shapeOf(x)).toEqual([]);
    const lp = d.logProb(x);
    expect(shapeOf(lp)).toEqual([]);
    tf.dispose([x, lp]);
    d.dispose();
  });

  it('batched parameters, expand and toEvent give the shapes of the tutorial', () => {
    const d1 = new D.Bernoulli(tf.mul(0.5, tf.ones([3, 4])));
    expect([d1.batchShape, d1.eventShape]).toEqual([[3, 4], []]);
    const x1 = d1.sample();
    expect(shapeOf(x1)).toEqual([3, 4]);
    expect(shapeOf(d1.logProb(x1))).toEqual([3, 4]);
    // expand: parameters identical along the leftmost dims
    const d2 = new D.Bernoulli(tf.tensor1d([0.1, 0.2, 0.3, 0.4])).expand([3, 4]);
    expect([d2.batchShape, d2.eventShape]).toEqual([[3, 4], []]);
    const x2 = d2.sample();
    expect(shapeOf(x2)).toEqual([3, 4]);
    const lp2 = d2.logProb(x2);
    expect(shapeOf(lp2)).toEqual([3, 4]);
    // the expanded log-density is the column's Bernoulli, row by row
    const xv = x2.arraySync() as number[][];
    const lv = lp2.arraySync() as number[][];
    xv.forEach((row, i) =>
      row.forEach((v, j) =>
        expect(lv[i]?.[j]).toBeCloseTo(lpBern(v, [0.1, 0.2, 0.3, 0.4][j] as number), 5),
      ),
    );
    // multivariate: event [3]
    const d3 = new D.MultivariateNormal(tf.zeros([3]), { covarianceMatrix: tf.eye(3) });
    expect([d3.batchShape, d3.eventShape]).toEqual([[], [3]]);
    const x3 = d3.sample();
    expect(shapeOf(x3)).toEqual([3]);
    expect(shapeOf(d3.logProb(x3))).toEqual([]);
    // toEvent(1): batch [3], event [4], logProb [3] = the sum over the event dim
    const d4 = new D.Bernoulli(tf.mul(0.5, tf.ones([3, 4]))).toEvent(1);
    expect([d4.batchShape, d4.eventShape]).toEqual([[3], [4]]);
    const x4 = d4.sample();
    expect(shapeOf(x4)).toEqual([3, 4]);
    const lp4 = d4.logProb(x4);
    expect(shapeOf(lp4)).toEqual([3]);
    Array.from(lp4.dataSync()).forEach((v) => expect(v).toBeCloseTo(4 * Math.log(0.5), 5));
    // sample shapes on the left: sample_shape + batch_shape + event_shape
    const x5 = d4.sample([2, 5]);
    expect(shapeOf(x5)).toEqual([2, 5, 3, 4]);
    tf.dispose([x1, x2, lp2, x3, x4, lp4, x5]);
    for (const d of [d1, d2, d3, d4]) d.dispose();
  });

  it('it is always safe to assume dependence: Normal(0, 1).expand([10]).toEvent(1) vs a plate', () => {
    setSeed(3);
    const a = (): tf.Tensor => ppl.sample('x', new D.Normal(0, 1).expand([10]).toEvent(1));
    const b = (): tf.Tensor => ppl.plate('x_plate', 10, () => ppl.sample('x', new D.Normal(0, 1)));
    const ta = ppl.trace(ppl.seed(a, 4)).getTrace();
    const tb = ppl.trace(ppl.seed(b, 4)).getTrace();
    expect(shapeOf(ta.value('x'))).toEqual([10]);
    expect(shapeOf(tb.value('x'))).toEqual([10]);
    const sa = ta.get('x')!;
    const sb = tb.get('x')!;
    expect([sa.fn!.batchShape, sa.fn!.eventShape]).toEqual([[], [10]]);
    expect([sb.fn!.batchShape, sb.fn!.eventShape]).toEqual([[10], []]);
    // same joint density either way
    const la = tf.tidy(() => ta.logProbSum().dataSync()[0] as number);
    const xs = Array.from(ta.value('x').dataSync());
    expect(la).toBeCloseTo(
      xs.reduce((s, v) => s + lpN(v, 0, 1), 0),
      4,
    );
    ta.dispose();
    tb.dispose();
  });
});

describe('tensor shapes tutorial: declaring independence with plate (model1)', () => {
  const shapes: Record<string, number[]> = {};
  const model1 = (): void => {
    const a = ppl.sample('a', new D.Normal(0, 1));
    const b = ppl.sample('b', new D.Normal(tf.zeros([2]), 1).toEvent(1));
    const c = ppl.plate('c_plate', 2, () => ppl.sample('c', new D.Normal(tf.zeros([2]), 1)));
    const d = ppl.plate('d_plate', 3, () =>
      ppl.sample('d', new D.Normal(tf.zeros([3, 4, 5]), 1).toEvent(2)),
    );
    // x_axis = plate("x_axis", 3, dim=-2); y_axis = plate("y_axis", 2, dim=-3)
    const xAxis = <R>(f: () => R): R => ppl.plate('x_axis', 3, { dim: -2 }, f);
    const yAxis = <R>(f: () => R): R => ppl.plate('y_axis', 2, { dim: -3 }, f);
    const x = xAxis(() => ppl.sample('x', new D.Normal(0, 1)));
    const y = yAxis(() => ppl.sample('y', new D.Normal(0, 1)));
    const [xy, z] = xAxis(() =>
      yAxis(() => [
        ppl.sample('xy', new D.Normal(0, 1)),
        ppl.sample('z', new D.Normal(0, 1).expand([5]).toEvent(1)),
      ]),
    );
    Object.assign(shapes, {
      a: shapeOf(a),
      b: shapeOf(b),
      c: shapeOf(c),
      d: shapeOf(d),
      x: shapeOf(x),
      y: shapeOf(y),
      xy: shapeOf(xy as tf.Tensor),
      z: shapeOf(z as tf.Tensor),
    });
  };

  it("the value, batch, event and log-prob shapes of every site are the tutorial's", () => {
    const tr = ppl.trace(model1).getTrace();
    //           value        batch        event
    const want: Record<string, [number[], number[], number[]]> = {
      a: [[], [], []],
      b: [[2], [], [2]],
      c: [[2], [2], []],
      d: [[3, 4, 5], [3], [4, 5]],
      x: [[3, 1], [3, 1], []],
      y: [[2, 1, 1], [2, 1, 1], []],
      xy: [[2, 3, 1], [2, 3, 1], []],
      z: [[2, 3, 1, 5], [2, 3, 1], [5]],
    };
    for (const [name, [value, batch, event]] of Object.entries(want)) {
      const s = tr.get(name)!;
      expect(shapes[name], name).toEqual(value);
      expect(shapeOf(s.value!), name).toEqual(value);
      expect(s.fn!.batchShape, name).toEqual(batch);
      expect(s.fn!.eventShape, name).toEqual(event);
      // log_prob shape = batch shape (Trace.compute_log_prob)
      const lp = s.fn!.logProb(s.value!);
      expect(shapeOf(lp), name).toEqual(batch);
      lp.dispose();
    }
    tr.dispose();
  });

  it('test_model(model1, model1, Trace_ELBO()): the guide is the model, so the loss is 0', () => {
    setSeed(1);
    const loss = testModel(model1, model1, new ppl.TraceELBO());
    expect(Math.abs(loss)).toBeLessThan(1e-4);
    expectNoLeak(() => tf.tidy(() => new ppl.TraceELBO().differentiableLoss(model1, model1, [])));
  });

  it('the log-joint of model1 is the sum of every element of its sites, right-aligned plates', () => {
    const tr = ppl.trace(ppl.seed(model1, 7)).getTrace();
    let want = 0;
    for (const s of tr.sampleSites()) {
      for (const v of Array.from(s.value!.dataSync())) want += lpN(v, 0, 1);
    }
    expect(tf.tidy(() => tr.logProbSum().dataSync()[0] as number)).toBeCloseTo(want, 3);
    tr.dispose();
  });
});

describe('tensor shapes tutorial: subsampling tensors inside a plate (model2)', () => {
  it('plate(data, 100, {subsampleSize: 10}) yields 10 indices; the loss is (100/10) x the minibatch', () => {
    setSeed(2);
    const data = tf.range(0, 100, 1, 'float32');
    let ind: number[] = [];
    const model2 = (): void => {
      const mean = ppl.param('mean', tf.zeros([100]));
      ppl.plate('data', 100, { subsampleSize: 10 }, (i) => {
        expect(i.shape).toEqual([10]); // ind is a tensor of indices of the subsample
        ind = Array.from(i.dataSync());
        const batch = tf.gather(data, i); // select a minibatch of data
        const meanBatch = tf.gather(mean, i); // the relevant per-datum parameters
        const x = ppl.sample('x', new D.Normal(meanBatch, 1), { obs: batch });
        expect(x.shape).toEqual([10]);
      });
    };
    const loss = testModel(model2, noGuide, new ppl.TraceELBO());
    expect(new Set(ind).size).toBe(10);
    const want = -(100 / 10) * ind.reduce((a, i) => a + lpN(i, 0, 1), 0);
    expect(Math.abs(loss - want) / Math.abs(want)).toBeLessThan(1e-5);
    data.dispose();
  });
});

describe('tensor shapes tutorial: broadcasting to allow parallel enumeration (model3)', () => {
  // model3 enumerates 4 sites left of 2 plate dims, and e adds an event dim: rank-7 tensors,
  // beyond the rank-6 kernels of webgl and webgpu (and of wasm's XNNPACK binary ops, which
  // ready() folds to 6 dims); the cpu and wasm backends run it
  afterAll(() => {
    ppl.clearParamStore();
  });
  const seen: Record<string, number[]> = {};
  const model3Body = (obsE?: tf.Tensor): void => {
    const p = ppl.param('p', tf.div(tf.range(0, 6, 1, 'float32'), 6));
    const locs = ppl.param('locs', tf.tensor1d([-1, 1]));
    const a = ppl.sample('a', new D.Categorical({ probs: tf.div(tf.ones([6]), 6) }));
    const b = ppl.sample('b', new D.Bernoulli(tf.gather(p, tf.cast(a, 'int32')))); // depends on a
    ppl.plate('c_plate', 4, () => {
      const c = ppl.sample('c', new D.Bernoulli(0.3));
      ppl.plate('d_plate', 5, () => {
        const d = ppl.sample('d', new D.Bernoulli(0.4));
        const eLoc = tf.expandDims(tf.gather(locs, tf.cast(d, 'int32')), -1);
        const eScale = tf.range(1, 8, 1, 'float32');
        const e = ppl.sample(
          'e',
          new D.Normal(eLoc, eScale).toEvent(1),
          obsE === undefined ? {} : { obs: obsE },
        ); // depends on d
        Object.assign(seen, {
          a: shapeOf(a),
          b: shapeOf(b),
          c: shapeOf(c),
          d: shapeOf(d),
          e: shapeOf(e),
          eLoc: shapeOf(eLoc),
          eScale: shapeOf(eScale),
        });
      });
    });
  };
  const model3 = ppl.configEnumerate((): void => model3Body());

  it('test_model(model3, model3, TraceEnum_ELBO(max_plate_nesting=2)): enumerated|batch|event shapes', () => {
    setSeed(5);
    const loss = testModel(model3, model3, new ppl.TraceEnumELBO({ maxPlateNesting: 2 }));
    //                 enumerated | batch | event
    expect(seen.a).toEqual([6, 1, 1]); // six enumerated values of the Categorical
    expect(seen.b).toEqual([2, 1, 1, 1]); // two enumerated Bernoullis, unexpanded
    expect(seen.c).toEqual([2, 1, 1, 1, 1]); // only two Bernoullis, unexpanded
    expect(seen.d).toEqual([2, 1, 1, 1, 1, 1]); // only two Bernoullis, unexpanded
    expect(seen.e).toEqual([2, 1, 1, 1, 5, 4, 7]); // sampled, depends on d
    expect(seen.eLoc).toEqual([2, 1, 1, 1, 1, 1, 1]);
    expect(seen.eScale).toEqual([7]);
    // the guide is the model: every term cancels
    expect(Math.abs(loss)).toBeLessThan(1e-3);
  });

  it('trace(enum(model3, firstAvailableDim=-3)): dims -3..-6 and the log-prob shapes', () => {
    ppl.clearParamStore();
    const tr = ppl.trace(ppl.enumerate(model3, -3)).getTrace();
    const dims = ['a', 'b', 'c', 'd'].map((n) => tr.get(n)!.infer._enumDim);
    expect(dims).toEqual([-3, -4, -5, -6]);
    // log_prob shapes broadcast up to the enumeration and batch shapes
    const lp = (n: string): number[] => {
      const s = tr.get(n)!;
      const t = s.fn!.logProb(s.value!);
      const sh = shapeOf(t);
      t.dispose();
      return sh;
    };
    expect(lp('a')).toEqual([6, 1, 1]);
    expect(lp('b')).toEqual([2, 6, 1, 1]);
    expect(lp('c')).toEqual([2, 1, 1, 1, 4]);
    expect(lp('d')).toEqual([2, 1, 1, 1, 5, 4]);
    expect(lp('e')).toEqual([2, 1, 1, 1, 5, 4]);
    expect(tr.get('e')!.fn!.batchShape).toEqual([2, 1, 1, 1, 5, 4]);
    expect(tr.get('e')!.fn!.eventShape).toEqual([7]);
    tr.dispose();
  });

  it('with e observed and no guide, TraceEnum_ELBO sums the 4 enumerated sites out exactly (brute force)', () => {
    setSeed(6);
    const ev = Array.from({ length: 5 * 4 * 7 }, (_, i) => Math.sin(i * 1.3) * 2);
    const obs = tf.tensor(ev, [5, 4, 7]);
    const model = ppl.configEnumerate((): void => model3Body(obs));
    const loss = new ppl.TraceEnumELBO({ maxPlateNesting: 2 }).loss(model, noGuide);
    // a, b and c carry no data (their sums are 1); each e_ij depends on its own d_ij only
    let want = 0;
    for (let i = 0; i < 5; i++) {
      for (let j = 0; j < 4; j++) {
        const terms = [0, 1].map((dv) => {
          let s = lpBern(dv, 0.4);
          for (let k = 0; k < 7; k++)
            s += lpN(ev[(i * 4 + j) * 7 + k] as number, dv === 1 ? 1 : -1, k + 1);
          return s;
        });
        want += lse(terms);
      }
    }
    expect(Math.abs(loss + want) / Math.abs(want)).toBeLessThan(1e-5);
    expectNoLeak(() =>
      tf.tidy(() =>
        new ppl.TraceEnumELBO({ maxPlateNesting: 2 }).differentiableLoss(model, noGuide, []),
      ),
    );
    obs.dispose();
  });
});

describe('tensor shapes tutorial: model3 on a rank-6 backend', () => {
  it('enumerating d at dim -6 is refused naming the site (not a silently wrong number)', () => {
    if (ppl.maxEnumRank() > 5) return; // the cpu and wasm backends run it (above)
    const model3 = ppl.configEnumerate((): void => {
      const a = ppl.sample('a', new D.Categorical({ probs: tf.div(tf.ones([6]), 6) }));
      ppl.sample(
        'b',
        new D.Bernoulli(
          tf.gather(tf.tensor1d([0.1, 0.5, 0.6, 0.2, 0.3, 0.9]), tf.cast(a, 'int32')),
        ),
      );
      ppl.plate('c_plate', 4, () => {
        ppl.sample('c', new D.Bernoulli(0.3));
        ppl.plate('d_plate', 5, () => ppl.sample('d', new D.Bernoulli(0.4)));
      });
    });
    const before = tf.memory().numTensors;
    expect(() => new ppl.TraceEnumELBO({ maxPlateNesting: 2 }).loss(model3, noGuide)).toThrow(
      /site 'd': enumerating it needs batch dim -6/,
    );
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('tensor shapes tutorial: writing parallelizable code (model4)', () => {
  const width = 8;
  const height = 10;
  const sparse = [
    [3, 2],
    [3, 5],
    [3, 9],
    [7, 1],
  ];
  const denseArray = (): number[][] => {
    const a = Array.from({ length: width }, () => new Array<number>(height).fill(0));
    for (const [x, y] of sparse) (a[x as number] as number[])[y as number] = 1;
    return a;
  };

  const fun = (observe: boolean, enumerated: boolean): void => {
    const pX = ppl.param('p_x', 0.1, { constraint: ppl.constraints.unitInterval });
    const pY = ppl.param('p_y', 0.1, { constraint: ppl.constraints.unitInterval });
    const xAxis = <R>(f: () => R): R => ppl.plate('x_axis', width, { dim: -2 }, f);
    const yAxis = <R>(f: () => R): R => ppl.plate('y_axis', height, { dim: -1 }, f);
    // the shapes of these sites depend on whether we enumerate
    const xActive = xAxis(() => ppl.sample('x_active', new D.Bernoulli(pX)));
    const yActive = yAxis(() => ppl.sample('y_active', new D.Bernoulli(pY)));
    if (enumerated) {
      expect(shapeOf(xActive)).toEqual([2, 1, 1]);
      expect(shapeOf(yActive)).toEqual([2, 1, 1, 1]);
    } else {
      expect(shapeOf(xActive)).toEqual([width, 1]);
      expect(shapeOf(yActive)).toEqual([height]);
    }
    // the first trick is to broadcast: this works with or without enumeration
    const p = tf.add(0.1, tf.mul(0.5, tf.mul(xActive, yActive)));
    expect(shapeOf(p)).toEqual(enumerated ? [2, 2, 1, 1] : [width, height]);
    // the second trick: index with ellipsis slicing (dense_pixels[..., x, y] = 1), here a
    // [width, height] table broadcast on the left
    const target = [...p.shape.slice(0, -2), width, height];
    const densePixels = tf.broadcastTo(tf.tensor2d(denseArray()), target);
    expect(shapeOf(densePixels)).toEqual(enumerated ? [2, 2, width, height] : [width, height]);
    xAxis(() =>
      yAxis(() => {
        if (observe) ppl.sample('pixels', new D.Bernoulli(p), { obs: densePixels });
      }),
    );
  };

  /** -E_q[sum_ij log p(pixel_ij | x_i, y_j)] with q = the prior Bernoulli(0.1)s (float64). */
  const enumeratedLoss = (): number => {
    const dense = denseArray();
    let s = 0;
    for (let i = 0; i < width; i++) {
      for (let j = 0; j < height; j++) {
        for (const xv of [0, 1]) {
          for (const yv of [0, 1]) {
            const w = (xv === 1 ? 0.1 : 0.9) * (yv === 1 ? 0.1 : 0.9);
            s += w * lpBern(dense[i]?.[j] as number, 0.1 + 0.5 * xv * yv);
          }
        }
      }
    }
    return -s;
  };

  it('without enumeration (Trace_ELBO): the loss is -log p(pixels | the sampled x, y)', () => {
    setSeed(8);
    const model4 = (): void => fun(true, false);
    const guide4 = (): void => fun(false, false);
    const guideTrace = ppl.trace(ppl.seed(guide4, 9)).getTrace();
    const xa = Array.from(guideTrace.value('x_active').dataSync());
    const ya = Array.from(guideTrace.value('y_active').dataSync());
    guideTrace.dispose();
    const loss = new ppl.TraceELBO().loss(model4, ppl.seed(guide4, 9));
    const dense = denseArray();
    let want = 0;
    for (let i = 0; i < width; i++) {
      for (let j = 0; j < height; j++) {
        want += lpBern(dense[i]?.[j] as number, 0.1 + 0.5 * (xa[i] as number) * (ya[j] as number));
      }
    }
    expect(loss).toBeCloseTo(-want, 3);
  });

  it('with config_enumerate(guide4) and TraceEnum_ELBO(max_plate_nesting=2): the exact expectation', () => {
    const model4 = (): void => fun(true, true);
    const guide4 = ppl.configEnumerate((): void => fun(false, true));
    const loss = new ppl.TraceEnumELBO({ maxPlateNesting: 2 }).loss(model4, guide4);
    expect(loss).toBeCloseTo(enumeratedLoss(), 3);
  });

  describe('automatic broadcasting inside plate: the three sampling functions', () => {
    const numParticles = 100;
    type SampleFn = (
      pX: tf.Tensor,
      pY: tf.Tensor,
      xAxis: <R>(f: () => R) => R,
      yAxis: <R>(f: () => R) => R,
    ) => [tf.Tensor, tf.Tensor];
    const noBroadcasting: SampleFn = (pX, pY, xAxis, yAxis) => [
      xAxis(() => ppl.sample('x_active', new D.Bernoulli(pX).expand([numParticles, width, 1]))),
      yAxis(() => ppl.sample('y_active', new D.Bernoulli(pY).expand([numParticles, 1, height]))),
    ];
    const fullBroadcasting: SampleFn = (pX, pY, xAxis, yAxis) => [
      xAxis(() => ppl.sample('x_active', new D.Bernoulli(pX))),
      yAxis(() => ppl.sample('y_active', new D.Bernoulli(pY))),
    ];
    const partialBroadcasting: SampleFn = (pX, pY, xAxis, yAxis) => [
      xAxis(() => ppl.sample('x_active', new D.Bernoulli(pX).expand([width, 1]))),
      yAxis(() => ppl.sample('y_active', new D.Bernoulli(pY).expand([height]))),
    ];
    const funP = (observe: boolean, sampleFn: SampleFn): void => {
      const pX = ppl.param('p_x', 0.1, { constraint: ppl.constraints.unitInterval });
      const pY = ppl.param('p_y', 0.1, { constraint: ppl.constraints.unitInterval });
      const xAxis = <R>(f: () => R): R => ppl.plate('x_axis', width, { dim: -2 }, f);
      const yAxis = <R>(f: () => R): R => ppl.plate('y_axis', height, { dim: -1 }, f);
      ppl.plate('num_particles', numParticles, { dim: -3 }, () => {
        const [xActive, yActive] = sampleFn(pX, pY, xAxis, yAxis);
        // enumeration dims go to the left of the num_particles plate dim
        expect(shapeOf(xActive)).toEqual([2, 1, 1, 1]);
        expect(shapeOf(yActive)).toEqual([2, 1, 1, 1, 1]);
        const p = tf.add(0.1, tf.mul(0.5, tf.mul(xActive, yActive)));
        expect(shapeOf(p)).toEqual([2, 2, 1, 1, 1]);
        const densePixels = tf.broadcastTo(tf.tensor2d(denseArray()), [
          ...p.shape.slice(0, -2),
          width,
          height,
        ]);
        expect(shapeOf(densePixels)).toEqual([2, 2, 1, width, height]);
        xAxis(() =>
          yAxis(() => {
            if (observe) ppl.sample('pixels', new D.Bernoulli(p), { obs: densePixels });
          }),
        );
      });
    };
    const fns: [string, SampleFn][] = [
      ['no broadcasting', noBroadcasting],
      ['full broadcasting', fullBroadcasting],
      ['partial broadcasting', partialBroadcasting],
    ];
    for (const [name, sampleFn] of fns) {
      it(`${name}: the shapes, and ${numParticles} particles x the one-particle loss`, () => {
        const model = (): void => funP(true, sampleFn);
        const guide = ppl.configEnumerate((): void => funP(false, sampleFn));
        const loss = testModel(model, guide, new ppl.TraceEnumELBO({ maxPlateNesting: 3 }));
        // float32 sums of 2 x 2 x 100 x 8 x 10 terms: relative error up to n * eps ~ 2e-3
        const want = numParticles * enumeratedLoss();
        expect(Math.abs(loss - want) / want).toBeLessThan(1e-3);
      });
    }
  });
});

describe('tensor shapes tutorial: Trace.formatShapes (Pyro format_shapes)', () => {
  it('prints batch | event dims of each distribution, value and log_prob as Pyro lays them out', () => {
    const model = (): void => {
      ppl.sample('a', new D.Normal(0, 1));
      ppl.sample('b', new D.Normal(tf.zeros([2]), 1).toEvent(1));
      ppl.plate('c_plate', 2, () => ppl.sample('c', new D.Normal(tf.zeros([2]), 1)));
    };
    const tr = ppl.trace(model).getTrace();
    expect(tr.formatShapes().split('\n')).toEqual([
      'Trace Shapes:      ',
      ' Param Sites:      ',
      'Sample Sites:      ',
      '       a dist   |  ',
      '        value   |  ',
      '     log_prob   |  ',
      '       b dist   | 2',
      '        value   | 2',
      '     log_prob   |  ',
      '       c dist 2 |  ',
      '        value 2 |  ',
      '     log_prob 2 |  ',
    ]);
    expect(tr.formatShapes({ logProb: false, lastSite: 'a' }).split('\n')).toEqual([
      'Trace Shapes:  ',
      ' Param Sites:  ',
      'Sample Sites:  ',
      '       a dist |',
      '        value |',
    ]);
    expect(() => tr.formatShapes({ last_site: 'a' } as never)).toThrow(/last_site/);
    tr.dispose();
  });

  it('an enumerated trace: the enumeration dims left of the plate in value and log_prob', () => {
    const model = (): void => {
      ppl.plate('data', 4, () => {
        const z = ppl.sample('z', new D.Categorical({ probs: [0.2, 0.3, 0.5] }));
        ppl.sample('y', new D.Normal(z, 1), { obs: tf.ones([4]) });
      });
    };
    const before = tf.memory().numTensors;
    const tr = ppl.trace(ppl.enumerate(ppl.configEnumerate(model), -2)).getTrace();
    expect(tr.formatShapes().split('\n')).toEqual([
      'Trace Shapes:      ',
      ' Param Sites:      ',
      'Sample Sites:      ',
      '       z dist   4 |',
      '        value 3 1 |',
      '     log_prob 3 4 |',
      '       y dist 3 4 |',
      '        value   4 |',
      '     log_prob 3 4 |',
    ]);
    tr.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

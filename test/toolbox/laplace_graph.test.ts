/**
 * Laplace over all Dense/Conv2D weights of models that are not a chain of layers: skip
 * connections, branches, `Concatenate`, a nested `Sequential` in the middle, a layer applied twice,
 * several inputs. The reference is the exact generalised Gauss-Newton from per-example Jacobians
 * by tfjs autodiff through `model.apply` (the model's own graph, not deepprob's program):
 * `H = sum_n J_n^T Lambda_n J_n`, with `J` the Jacobian of the log-probabilities and
 * `Lambda = diag(p)` for a softmax-ended model (equal to the logits' `diag(p) - p p^T`), or of the
 * logits with `diag(p) - p p^T`.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { ArgumentError, toolbox } from '../../src/index.js';
import { makeRng } from '../../src/utils/seed.js';
import { expectNoLeak } from '../helpers.js';

const { allLayersLaplace, lastLayerLaplace } = toolbox;

type Inputs = tf.Tensor | tf.Tensor[];

const init = (s: number) => tf.initializers.randomNormal({ mean: 0, stddev: 0.6, seed: s });
const dense = (units: number, seed: number, activation?: 'tanh' | 'relu' | 'softmax') =>
  tf.layers.dense({
    units,
    ...(activation !== undefined ? { activation } : {}),
    kernelInitializer: init(seed),
    biasInitializer: init(seed + 100),
  });

/**
 * x [3] -> h = Dense(4, tanh) -> h + nested Sequential(Dense(4, relu), Dense(4))(h) (skip) ->
 * shared Dense(4, tanh) applied twice -> concat with x -> Dense(3, head).
 */
function residualNet(head: 'softmax' | 'linear'): tf.LayersModel {
  const inp = tf.input({ shape: [3] });
  const h = dense(4, 1, 'tanh').apply(inp) as tf.SymbolicTensor;
  const inner = tf.sequential({
    layers: [
      tf.layers.dense({
        inputShape: [4],
        units: 4,
        activation: 'relu',
        kernelInitializer: init(2),
        biasInitializer: init(102),
      }),
      dense(4, 3),
    ],
  });
  const skip = tf.layers.add().apply([h, inner.apply(h) as tf.SymbolicTensor]) as tf.SymbolicTensor;
  const shared = dense(4, 4, 'tanh');
  const t = shared.apply(shared.apply(skip)) as tf.SymbolicTensor;
  const cat = tf.layers.concatenate().apply([t, inp]) as tf.SymbolicTensor;
  const out = dense(3, 5, head === 'softmax' ? 'softmax' : undefined).apply(cat);
  return tf.model({ inputs: inp, outputs: out as tf.SymbolicTensor });
}

/** x [5, 5, 1] -> c1 = Conv(2, 3x3, same, tanh) -> c1 + Conv(2, 3x3, same)(c1) -> flatten -> Dense(3). */
function residualConv(): tf.LayersModel {
  const inp = tf.input({ shape: [5, 5, 1] });
  const conv = (seed: number, activation?: 'tanh') =>
    tf.layers.conv2d({
      filters: 2,
      kernelSize: 3,
      padding: 'same',
      ...(activation !== undefined ? { activation } : {}),
      kernelInitializer: init(seed),
      biasInitializer: init(seed + 100),
    });
  const c1 = conv(11, 'tanh').apply(inp) as tf.SymbolicTensor;
  const c2 = conv(12).apply(c1) as tf.SymbolicTensor;
  const sum = tf.layers.add().apply([c1, c2]) as tf.SymbolicTensor;
  const out = dense(3, 13).apply(tf.layers.flatten().apply(sum) as tf.SymbolicTensor);
  return tf.model({ inputs: inp, outputs: out as tf.SymbolicTensor });
}

/** x1 [3] -> Dense(4, tanh), x2 [2] -> Dense(3, tanh); concat -> Dense(3). */
function twoInputNet(): tf.LayersModel {
  const x1 = tf.input({ shape: [3] });
  const x2 = tf.input({ shape: [2] });
  const a = dense(4, 21, 'tanh').apply(x1) as tf.SymbolicTensor;
  const b = dense(3, 22, 'tanh').apply(x2) as tf.SymbolicTensor;
  const cat = tf.layers.concatenate().apply([a, b]) as tf.SymbolicTensor;
  return tf.model({ inputs: [x1, x2], outputs: dense(3, 23).apply(cat) as tf.SymbolicTensor });
}

function uniform(shape: number[], seed: number): tf.Tensor {
  const rng = makeRng(seed);
  const size = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(
    Array.from({ length: size }, () => 2 * rng() - 1),
    shape,
  );
}

/** Every layer of a model, nested models entered. */
function allLayers(m: tf.LayersModel): tf.layers.Layer[] {
  return m.layers.flatMap((l) => (l instanceof tf.LayersModel ? allLayers(l) : [l]));
}

/** The kernel and bias variables of the named layers, in order (the posterior's parameter order). */
function variablesOf(m: tf.LayersModel, names: string[]): tf.Variable[][] {
  const layers = allLayers(m);
  return names.map((n) =>
    (layers.find((l) => l.name === n) as tf.layers.Layer).trainableWeights.map(
      (w) => w.read() as tf.Variable,
    ),
  );
}

function rowOf(x: Inputs, i: number): Inputs {
  return Array.isArray(x) ? x.map((t) => tf.slice(t, [i], [1])) : tf.slice(x, [i], [1]);
}

/**
 * Per-example Jacobians `J[n][c][a]` of `out(model(x_n))[c]` in the flat parameters of `vars`
 * (layer by layer: kernel row-major, then bias), by autodiff through `model.apply`.
 */
function jacobians(
  m: tf.LayersModel,
  x: Inputs,
  vars: tf.Variable[],
  out: (y: tf.Tensor) => tf.Tensor,
): number[][][] {
  const n = (Array.isArray(x) ? (x[0] as tf.Tensor) : x).shape[0] as number;
  const k = m.outputs[0]!.shape[1] as number;
  const res: number[][][] = [];
  for (let i = 0; i < n; i++) {
    const rows: number[][] = [];
    for (let c = 0; c < k; c++) {
      rows.push(
        tf.tidy(() => {
          const xi = rowOf(x, i);
          const { grads } = tf.variableGrads(
            () =>
              tf.sum(
                tf.slice(out(m.apply(xi, { training: false }) as tf.Tensor), [0, c], [1, 1]),
              ) as tf.Scalar,
            vars,
          );
          return vars.flatMap((v) => Array.from(grads[v.name]!.dataSync()));
        }),
      );
    }
    res.push(rows);
  }
  return res;
}

/** `p(y | x_n)` of a model's outputs read as logits (`softmax`) or probabilities. */
function probsOf(m: tf.LayersModel, x: Inputs, softmaxEnded: boolean): number[][] {
  return tf.tidy(() => {
    const o = m.apply(x, { training: false }) as tf.Tensor;
    return (softmaxEnded ? o : tf.softmax(o)).arraySync() as number[][];
  });
}

/** Exact GGN block `sum_n J_n^T Lambda_n J_n` over parameters `[start, start + size)`. */
function ggnBlock(
  J: number[][][],
  lam: (n: number) => number[][],
  start: number,
  size: number,
): number[][] {
  const H = Array.from({ length: size }, () => new Array<number>(size).fill(0));
  J.forEach((Jn, n) => {
    const L = lam(n);
    L.forEach((row, c) =>
      row.forEach((l, e) => {
        if (l === 0) return;
        for (let a = 0; a < size; a++) {
          const ja = Jn[c]![start + a]! * l;
          for (let b = 0; b < size; b++) H[a]![b]! += ja * Jn[e]![start + b]!;
        }
      }),
    );
  });
  return H;
}

const softmaxLambda = (p: number[]): number[][] =>
  p.map((pc, c) => p.map((pe, e) => (c === e ? pc : 0) - pc * pe));
const diagLambda = (p: number[]): number[][] =>
  p.map((pc, c) => p.map((_, e) => (c === e ? pc : 0)));

/**
 * The exact GGN blocks of every layer with a posterior: through the softmax-ended model's
 * log-probabilities (`Lambda = diag(p)`), or the logits model's outputs (`diag(p) - p p^T`).
 */
function exactBlocks(
  m: tf.LayersModel,
  x: Inputs,
  names: string[],
  softmaxEnded: boolean,
): number[][][] {
  const vars = variablesOf(m, names);
  const flat = vars.flat();
  const J = jacobians(m, x, flat, (y) => (softmaxEnded ? tf.log(y) : y));
  const p = probsOf(m, x, softmaxEnded);
  let start = 0;
  return vars.map((vs) => {
    const size = vs.reduce((s, v) => s + v.size, 0);
    const H = ggnBlock(J, (n) => (softmaxEnded ? diagLambda : softmaxLambda)(p[n]!), start, size);
    start += size;
    return H;
  });
}

describe('all-layers Laplace on any layer graph', () => {
  it('diag equals the exact GGN diagonal on a residual net (skip, nested Sequential, a layer applied twice, concat, fused softmax)', () => {
    const m = residualNet('softmax');
    const x = uniform([6, 3], 1);
    const y = [0, 1, 2, 1, 0, 2];
    const before = tf.memory().numTensors;
    const la = allLayersLaplace(m, x, y, { hessianStructure: 'diag', batchSize: 4 });
    expect(tf.memory().numTensors).toBe(before);
    // five parameter layers: h, the nested two, the shared one (once), the head
    expect(la.layerNames.length).toBe(5);
    const ref = exactBlocks(m, x, la.layerNames, true);
    ref.forEach((H, l) => {
      const got = la.curvatureEigenvalues(l);
      expect(got.length).toBe(H.length);
      H.forEach((row, a) => expect(got[a]).toBeCloseTo(row[a]!, 4));
    });
    // the logits twin (same weights, linear head) has the same curvature: the softmax is dropped
    const lin = residualNet('linear');
    const laLin = allLayersLaplace(lin, x, y, { hessianStructure: 'diag' });
    la.layerNames.forEach((_, l) =>
      laLin
        .curvatureEigenvalues(l)
        .forEach((v, i) => expect(v).toBeCloseTo(la.curvatureEigenvalues(l)[i]!, 5)),
    );
    expect(la.logMarginalLikelihood(0.5)).toBeCloseTo(laLin.logMarginalLikelihood(0.5), 4);
    tf.dispose(x);
    m.dispose();
    lin.dispose();
  });

  it('kron equals the exact GGN block of every layer applied once, on one example', () => {
    const m = residualNet('softmax');
    const x = uniform([1, 3], 5);
    const la = allLayersLaplace(m, x, [2], { hessianStructure: 'kron' });
    const ref = exactBlocks(m, x, la.layerNames, true);
    const sharedName = la.layerNames[3]!; // discovery order: h, inner (2), shared, head
    let checked = 0;
    la.layerNames.forEach((name, l) => {
      if (name === sharedName) return; // two applications: KFAC sums their rows, not exact
      const got = la.denseBlock(l, 'curvature');
      const H = ref[l]!;
      H.forEach((row, a) =>
        row.forEach((v, b) => expect(got[a * row.length + b]).toBeCloseTo(v, 4)),
      );
      checked++;
    });
    expect(checked).toBe(4);
    tf.dispose(x);
    m.dispose();
  });

  it('diag on a residual conv net (Conv2D + Add skip) equals the exact GGN diagonal', () => {
    const m = residualConv();
    const x = uniform([3, 5, 5, 1], 7);
    const la = allLayersLaplace(m, x, [0, 2, 1], { hessianStructure: 'diag' });
    const ref = exactBlocks(m, x, la.layerNames, false);
    expect(la.layerNames.length).toBe(3);
    ref.forEach((H, l) => {
      const got = la.curvatureEigenvalues(l);
      H.forEach((row, a) => expect(got[a]).toBeCloseTo(row[a]!, 4));
    });
    tf.dispose(x);
    m.dispose();
  });

  it('GLM predictive (Jacobian-vector products and J Sigma J^T) on the residual net: covariance equals the brute force, samples within 5 SE', () => {
    const m = residualNet('linear');
    const x = uniform([8, 3], 11);
    const xt = uniform([2, 3], 12);
    const y = [0, 1, 2, 1, 0, 2, 1, 0];
    for (const structure of ['diag', 'kron'] as const) {
      const la = allLayersLaplace(m, x, y, { hessianStructure: structure, priorPrecision: 2 });
      const vars = variablesOf(m, la.layerNames);
      const J = jacobians(m, xt, vars.flat(), (o) => o);
      // brute force: J Sigma J^T with the block-diagonal covariance
      const k = 3;
      const ref = J.map((Jn) => {
        const C = Array.from({ length: k }, () => new Array<number>(k).fill(0));
        let start = 0;
        vars.forEach((vs, l) => {
          const size = vs.reduce((s, v) => s + v.size, 0);
          const S = la.denseBlock(l, 'covariance');
          for (let c = 0; c < k; c++)
            for (let e = 0; e < k; e++)
              for (let a = 0; a < size; a++)
                for (let b = 0; b < size; b++)
                  C[c]![e]! += Jn[c]![start + a]! * S[a * size + b]! * Jn[e]![start + b]!;
          start += size;
        });
        return C;
      });
      const before = tf.memory().numTensors;
      const g = la.glmPredictive(xt);
      const cov = g.cov.arraySync();
      const mean = g.mean.arraySync();
      tf.dispose([g.mean, g.cov]);
      expect(tf.memory().numTensors).toBe(before);
      const f = tf.tidy(() => (m.predict(xt) as tf.Tensor).arraySync() as number[][]);
      mean.forEach((row, n) => row.forEach((v, c) => expect(v).toBeCloseTo(f[n]![c]!, 5)));
      cov.forEach((Cn, n) =>
        Cn.forEach((row, c) => row.forEach((v, e) => expect(v).toBeCloseTo(ref[n]![c]![e]!, 4))),
      );
      const S = 4000;
      const s = la.sampleOutputs(xt, S, 3);
      const d = tf.tidy(
        () => tf.sub(s, tf.expandDims(tf.tensor2d(f), 0)).arraySync() as number[][][],
      );
      s.dispose();
      expect(tf.memory().numTensors).toBe(before);
      for (let n = 0; n < 2; n++) {
        for (let c = 0; c < k; c++) {
          const mu = d.reduce((a, r) => a + r[n]![c]!, 0) / S;
          expect(Math.abs(mu)).toBeLessThan(5 * Math.sqrt(ref[n]![c]![c]! / S) + 1e-6);
          for (let e = 0; e < k; e++) {
            const emp = d.reduce((a, r) => a + r[n]![c]! * r[n]![e]!, 0) / S;
            const r = ref[n]![c]![e]!;
            const se = Math.sqrt((ref[n]![c]![c]! * ref[n]![e]![e]! + r * r) / S);
            expect(Math.abs(emp - r)).toBeLessThan(5 * se + 1e-6);
          }
        }
      }
      expectNoLeak(() => la.predictProbs(xt, { link: 'probit' }));
      expectNoLeak(() => la.sampleProbs(xt, 3, 1));
    }
    tf.dispose([x, xt]);
    m.dispose();
  });

  it('a softmax head nested two models deep (Sequential inside a functional model) gives the flat twin posterior', () => {
    const flat = tf.sequential({
      layers: [
        tf.layers.dense({
          inputShape: [3],
          units: 4,
          activation: 'tanh',
          kernelInitializer: init(51),
          biasInitializer: init(151),
        }),
        dense(3, 52),
      ],
    });
    const hid = dense(4, 53, 'tanh');
    const head = dense(3, 54, 'softmax');
    let inner: tf.LayersModel = tf.sequential({
      layers: [tf.layers.dropout({ inputShape: [4], rate: 0.5 }), head],
    });
    const mid = tf.input({ shape: [4] });
    inner = tf.model({ inputs: mid, outputs: inner.apply(mid) as tf.SymbolicTensor });
    const inp = tf.input({ shape: [3] });
    const out = inner.apply(hid.apply(inp) as tf.SymbolicTensor) as tf.SymbolicTensor;
    const nested = tf.model({ inputs: inp, outputs: out });
    hid.setWeights(flat.layers[0]!.getWeights());
    head.setWeights(flat.layers[1]!.getWeights());
    const x = uniform([5, 3], 55);
    const y = [0, 2, 1, 1, 0];
    for (const hessianStructure of ['diag', 'kron'] as const) {
      const before = tf.memory().numTensors;
      const a = allLayersLaplace(nested, x, y, { hessianStructure });
      const b = allLayersLaplace(flat, x, y, { hessianStructure });
      expect(tf.memory().numTensors).toBe(before);
      expect(a.layerNames).toEqual([hid.name, head.name]);
      expect(a.logLikelihood).toBeCloseTo(b.logLikelihood, 4);
      expect(a.logMarginalLikelihood(0.8)).toBeCloseTo(b.logMarginalLikelihood(0.8), 4);
      [0, 1].forEach((l) =>
        a
          .denseBlock(l, 'curvature')
          .forEach((v, i) => expect(v).toBeCloseTo(b.denseBlock(l, 'curvature')[i]!, 4)),
      );
    }
    tf.dispose(x);
    flat.dispose();
    nested.dispose();
  });

  it('keeps refusing a trainable layer it cannot cover inside a branch, naming it', () => {
    const inp = tf.input({ shape: [4, 1] });
    const a = tf.layers
      .flatten()
      .apply(tf.layers.conv1d({ filters: 2, kernelSize: 2 }).apply(inp) as tf.SymbolicTensor);
    const b = tf.layers.flatten().apply(inp);
    const cat = tf.layers.concatenate().apply([a as tf.SymbolicTensor, b as tf.SymbolicTensor]);
    const m = tf.model({
      inputs: inp,
      outputs: tf.layers.dense({ units: 2 }).apply(cat) as tf.SymbolicTensor,
    });
    const x = tf.zeros([2, 4, 1]);
    const before = tf.memory().numTensors;
    expect(() => allLayersLaplace(m, x, [0, 1])).toThrow(ArgumentError);
    expect(() => allLayersLaplace(m, x, [0, 1])).toThrow(
      /^model: layer 'conv1d_\w+' \(Conv1D\) has trainable weights/,
    );
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    m.dispose();
  });
});

describe('post-hoc methods on a two-input model (x as an array of tensors)', () => {
  const y = [0, 1, 2, 1, 0, 2];
  const data = (): tf.Tensor[] => [uniform([6, 3], 31), uniform([6, 2], 32)];

  it('all-layers diag and last-layer full equal the exact GGN (blocks) of the two-input model', () => {
    const m = twoInputNet();
    const x = data();
    const before = tf.memory().numTensors;
    const la = allLayersLaplace(m, x, y, { hessianStructure: 'diag', batchSize: 4 });
    const ll = lastLayerLaplace(m, x, y, { hessianStructure: 'full', batchSize: 4 });
    expect(tf.memory().numTensors).toBe(before);
    const ref = exactBlocks(m, x, la.layerNames, false);
    ref.forEach((H, l) => {
      const got = la.curvatureEigenvalues(l);
      H.forEach((row, a) => expect(got[a]).toBeCloseTo(row[a]!, 4));
    });
    // the last layer is the head: its full GGN block, the precision minus delta I
    const head = ref[ref.length - 1]!;
    const prec = ll.denseMatrix('precision');
    head.forEach((row, a) =>
      row.forEach((v, b) =>
        expect(prec[a * row.length + b]! - (a === b ? ll.priorPrecision : 0)).toBeCloseTo(v, 4),
      ),
    );
    const xt = [uniform([2, 3], 33), uniform([2, 2], 34)];
    expect(expectNoLeak(() => ll.predictProbs(xt)).length).toBe(6);
    expect(expectNoLeak(() => la.predictProbs(xt, { link: 'probit' })).length).toBe(6);
    expectNoLeak(() => la.sampleProbs(xt, 2, 1));
    expectNoLeak(() => ll.sampleProbs(xt, 2, 1));
    tf.dispose([...x, ...xt]);
    m.dispose();
  });

  it('a two-input head nested at the output gives the flat two-input model posterior (last layer and all layers)', () => {
    const flat = twoInputNet();
    const x1 = tf.input({ shape: [3] });
    const x2 = tf.input({ shape: [2] });
    const da = dense(4, 71, 'tanh');
    const db = dense(3, 72, 'tanh');
    const hA = tf.input({ shape: [4] });
    const hB = tf.input({ shape: [3] });
    const dOut = dense(3, 73);
    const head = tf.model({
      inputs: [hA, hB],
      outputs: dOut.apply(tf.layers.concatenate().apply([hA, hB])) as tf.SymbolicTensor,
    });
    const nested = tf.model({
      inputs: [x1, x2],
      outputs: head.apply([da.apply(x1), db.apply(x2)] as tf.SymbolicTensor[]) as tf.SymbolicTensor,
    });
    const [fa, fb, fo] = allLayers(flat).filter((l) => l.getClassName() === 'Dense');
    da.setWeights(fa!.getWeights());
    db.setWeights(fb!.getWeights());
    dOut.setWeights(fo!.getWeights());
    const x = data();
    const before = tf.memory().numTensors;
    const pairs = [
      [
        lastLayerLaplace(nested, x, y, { hessianStructure: 'full' }),
        lastLayerLaplace(flat, x, y, { hessianStructure: 'full' }),
      ],
      [
        allLayersLaplace(nested, x, y, { hessianStructure: 'kron' }),
        allLayersLaplace(flat, x, y, { hessianStructure: 'kron' }),
      ],
    ] as const;
    expect(tf.memory().numTensors).toBe(before);
    for (const [a, b] of pairs) {
      expect(a.logLikelihood).toBeCloseTo(b.logLikelihood, 4);
      expect(a.logMarginalLikelihood(0.6)).toBeCloseTo(b.logMarginalLikelihood(0.6), 4);
    }
    const xt = [uniform([2, 3], 74), uniform([2, 2], 75)];
    const pa = expectNoLeak(() => pairs[0][0].predictProbs(xt));
    expectNoLeak(() => pairs[0][1].predictProbs(xt)).forEach((v, i) =>
      expect(pa[i]).toBeCloseTo(v, 5),
    );
    tf.dispose([...x, ...xt]);
    flat.dispose();
    nested.dispose();
  });

  it('refuses inputs that do not fit the two inputs, naming x or x[i], before any work', () => {
    const m = twoInputNet();
    const [x1, x2] = data() as [tf.Tensor, tf.Tensor];
    const bad = tf.tensor2d([
      [0, NaN],
      [0, 0],
      [0, 0],
      [0, 0],
      [0, 0],
      [0, 0],
    ]);
    const wrong = tf.zeros([6, 4]);
    const cases: [() => unknown, RegExp][] = [
      [() => allLayersLaplace(m, x1, y), /^x: expected an array of 2 input tensors/],
      [() => lastLayerLaplace(m, [x1], y), /^x: expected an array of 2 input tensors/],
      [() => allLayersLaplace(m, [x1, wrong], y), /^x\[1\]: expected inputs \[B, 2\]/],
      [
        () => lastLayerLaplace(m, [x1, bad], y),
        /^x\[1\]: expected finite inputs, got NaN in row 0/,
      ],
      [
        () => toolbox.stochasticPredictor(m).predictSamples([x1, wrong], 2),
        /^x\[1\]: expected inputs/,
      ],
    ];
    for (const [run, msg] of cases) {
      const before = tf.memory().numTensors;
      expect(run).toThrow(ArgumentError);
      expect(run).toThrow(msg);
      expect(tf.memory().numTensors).toBe(before);
    }
    tf.dispose([x1, x2, bad, wrong]);
    m.dispose();
  });

  it('bnUpdate over two inputs sets the BatchNormalization statistics to the batch-weighted moments of its input', () => {
    const x1 = tf.input({ shape: [3] });
    const x2 = tf.input({ shape: [2] });
    const d = dense(4, 61);
    const bn = tf.layers.batchNormalization();
    const h = bn.apply(d.apply(x1)) as tf.SymbolicTensor;
    const cat = tf.layers.concatenate().apply([h, x2]) as tf.SymbolicTensor;
    const m = tf.model({ inputs: [x1, x2], outputs: dense(3, 62).apply(cat) as tf.SymbolicTensor });
    const x = data();
    const before = tf.memory().numTensors;
    toolbox.bnUpdate(m, x, { batchSize: 4 }); // batches of 4 and 2 rows
    expect(tf.memory().numTensors).toBe(before);
    const z = tf.tidy(() => (d.apply(x[0]!) as tf.Tensor).arraySync() as number[][]);
    const w = bn.getWeights().map((t) => Array.from(t.dataSync())); // gamma, beta, mean, variance
    for (let j = 0; j < 4; j++) {
      const col = z.map((r) => r[j]!);
      const batches = [col.slice(0, 4), col.slice(4)];
      const mean = batches.reduce((a, b) => a + b.reduce((s, v) => s + v, 0), 0) / 6;
      const variance =
        batches.reduce((a, b) => {
          const mb = b.reduce((s, v) => s + v, 0) / b.length;
          return a + b.reduce((s, v) => s + (v - mb) ** 2, 0);
        }, 0) / 6;
      expect(w[2]![j]).toBeCloseTo(mean, 4);
      expect(w[3]![j]).toBeCloseTo(variance, 4);
    }
    expect(() => toolbox.bnUpdate(m, x[0]!)).toThrow(/^x: expected an array of 2 input tensors/);
    tf.dispose(x);
    m.dispose();
  });

  it('SWAG and the predictors run the two-input model: scale 0 gives the SWA mean model, ensembles its softmax', async () => {
    const m = twoInputNet();
    const x = data();
    const before = tf.memory().numTensors;
    const swag = await toolbox.trainSwag(m, x, y, { epochs: 2, batchSize: 3, lr: 0.05, seed: 4 });
    expect(swag.numSnapshots).toBeGreaterThan(1);
    const xt = [uniform([2, 3], 41), uniform([2, 2], 42)];
    const pred = toolbox.swagPredictor(swag, { scale: 0, seed: 1 });
    const got = expectNoLeak(() => pred.predictSamples(xt, 2));
    // reference: the SWA mean weights written into the model, its softmax
    const saved = m.trainableWeights.map((w) => w.read().clone());
    const mean = swag.swaMean();
    swag.assign(mean);
    const want = tf.tidy(() => Array.from(tf.softmax(m.predict(xt) as tf.Tensor).dataSync()));
    swag.assign(saved);
    tf.dispose([...saved, ...mean]);
    got.forEach((v, i) => expect(v).toBeCloseTo(want[i % want.length]!, 5));
    // stochastic and ensemble predictors take the same array
    const now = tf.tidy(() => Array.from(tf.softmax(m.predict(xt) as tf.Tensor).dataSync()));
    expectNoLeak(() => toolbox.stochasticPredictor(m).predictSamples(xt, 2)).forEach((v, i) =>
      expect(v).toBeCloseTo(now[i % now.length]!, 5),
    );
    expectNoLeak(() => toolbox.ensemblePredictor([m, m]).predictSamples(xt, 2)).forEach((v, i) =>
      expect(v).toBeCloseTo(now[i % now.length]!, 5),
    );
    expectNoLeak(() =>
      toolbox.predictSamplesBatched(toolbox.stochasticPredictor(m), xt, 2, 1),
    ).forEach((v, i) => expect(v).toBeCloseTo(now[i % now.length]!, 5));
    swag.dispose();
    tf.dispose(xt);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(x);
    m.dispose();
  });
});

/**
 * Audit (issue 14): the param store's save/load round trip with constrained params of every
 * constraint `ppl.constraints` offers for params (values, constraints and the unconstrained
 * variables identical after save -> clear -> load, in memory and through `deepprob/node` files),
 * a fitted autoguide restored from a file giving the same median, and bad saved stores refused by
 * an ArgumentError naming the argument. Tensor counts unchanged.
 */
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { distributions as D, loadParamStore, ppl, saveParamStore } from '../../src/node.js';
import { clearSeed, setSeed } from '../../src/utils/seed.js';
import { expectBadInput } from '../helpers.js';

const C = ppl.constraints;

afterEach(() => {
  ppl.clearParamStore();
  clearSeed();
});

/** [name, constraint, an initial value inside it]. */
const PARAMS: [string, ppl.Constraint, number[] | number[][] | number][] = [
  ['pos', C.positive, [0.5, 2, 7]],
  ['nonneg', C.nonnegative, [0.25, 3]],
  ['unit', C.unitInterval, [0.1, 0.5, 0.93]],
  ['iv', C.interval(-2, 3), [-1.5, 0, 2.9]],
  ['gt', C.greaterThan(1.5), [1.6, 4]],
  ['lt', C.lessThan(4), [3.9, -2]],
  ['simplex', C.simplex, [0.2, 0.3, 0.5]],
  ['ordered', C.ordered, [-1, 0.5, 2]],
  [
    'ltril',
    C.lowerCholesky,
    [
      [1.2, 0],
      [-0.4, 0.7],
    ],
  ],
  [
    'corrChol',
    C.corrCholesky,
    [
      [1, 0],
      [0.6, 0.8],
    ],
  ],
  [
    'pd',
    C.positiveDefinite,
    [
      [2, 0.3],
      [0.3, 1],
    ],
  ],
  ['indepPos', C.independent(C.positive, 1), [0.3, 1.7]],
  ['posExp', C.positiveExp, [0.4, 5]],
];

function snapshot(): Record<string, { value: number[]; u: number[]; kind: string; name: string }> {
  const store = ppl.getParamStore();
  const out: Record<string, { value: number[]; u: number[]; kind: string; name: string }> = {};
  for (const n of store.names()) {
    const c = store.constraintOf(n);
    out[n] = {
      value: Array.from(store.value(n).dataSync()),
      u: Array.from(store.unconstrained(n).dataSync()),
      kind: c.kind,
      name: c.name,
    };
  }
  return out;
}

function fill(): void {
  for (const [name, c, v] of PARAMS) {
    const init = tf.tensor(v);
    ppl.param(name, init, { constraint: c }).dispose();
    init.dispose();
  }
}

describe('audit14: param store save/load with constrained params', () => {
  it('every constraint: the initial value is kept (within float32) and lies in the constraint', () => {
    fill();
    const store = ppl.getParamStore();
    for (const [name, c, v] of PARAMS) {
      const got = Array.from(store.value(name).dataSync());
      const want = [v].flat(2) as number[];
      got.forEach((g, i) => expect(g, `${name}[${i}]`).toBeCloseTo(want[i]!, 4));
      expect(c.checkAll(store.value(name)), name).toBe(true);
    }
  });

  it('in memory: save -> clear -> load restores values, unconstrained variables and constraints', () => {
    fill();
    const a = snapshot();
    const saved = ppl.getParamStore().save();
    const n0 = tf.memory().numTensors;
    ppl.clearParamStore();
    ppl.getParamStore().load(saved);
    expect(tf.memory().numTensors).toBe(n0);
    const b = snapshot();
    expect(Object.keys(b).sort()).toEqual(Object.keys(a).sort());
    for (const k of Object.keys(a)) {
      expect(b[k]!.kind, k).toBe(a[k]!.kind);
      expect(b[k]!.name, k).toBe(a[k]!.name);
      expect(b[k]!.u, k).toEqual(a[k]!.u);
      b[k]!.value.forEach((v, i) => expect(v, `${k}[${i}]`).toBeCloseTo(a[k]!.value[i]!, 5));
    }
  });

  it('the JSON spec survives JSON.stringify/parse and the weights an ArrayBuffer copy', () => {
    fill();
    const a = snapshot();
    const { spec, weights } = ppl.getParamStore().save();
    const spec2 = JSON.parse(JSON.stringify(spec)) as typeof spec;
    const w2 = new Float32Array(weights.buffer.slice(0));
    ppl.clearParamStore();
    ppl.getParamStore().load({ spec: spec2, weights: w2 });
    const b = snapshot();
    for (const k of Object.keys(a)) expect(b[k]!.u, k).toEqual(a[k]!.u);
  });

  it('loading over live params replaces them without leaking, keeps the others', () => {
    fill();
    const saved = ppl.getParamStore().save();
    ppl.param('pos', tf.tensor([9, 9, 9]), { constraint: C.positive }); // already there: unchanged
    ppl.param('extra', tf.tensor([1, 2]));
    const n0 = tf.memory().numTensors;
    ppl.getParamStore().load(saved);
    expect(tf.memory().numTensors).toBe(n0);
    expect(ppl.getParamStore().has('extra')).toBe(true);
  });

  it('through files (deepprob/node): a fitted AutoNormal restored in a clean store has the same median', () => {
    const dir = mkdtempSync(join(tmpdir(), 'audit14-ps-'));
    try {
      setSeed(5);
      const y = tf.tensor1d([1.2, 0.7, 2.3, 1.9, 0.4]);
      const model = (obs: tf.Tensor): void => {
        const rate = ppl.sample('rate', new D.Gamma(2, 1));
        const p = ppl.sample('p', new D.Beta(2, 2));
        ppl.plate('data', 5, () => ppl.sample('y', new D.Exponential(tf.mul(rate, p)), { obs }));
      };
      const guide = new ppl.AutoNormal(model);
      const opt = tf.train.adam(0.05);
      const svi = new ppl.SVI(model, guide, opt, new ppl.TraceELBO());
      for (let i = 0; i < 20; i++) svi.step(y);
      const m1 = guide.median(y);
      const before = { rate: m1.rate!.dataSync()[0]!, p: m1.p!.dataSync()[0]! };
      tf.dispose(Object.values(m1));
      const path = join(dir, 'fit.json');
      saveParamStore(path);
      ppl.clearParamStore();
      guide.dispose();
      loadParamStore(path);
      const guide2 = new ppl.AutoNormal(model);
      const m2 = guide2.median(y);
      expect(m2.rate!.dataSync()[0]).toBeCloseTo(before.rate, 5);
      expect(m2.p!.dataSync()[0]).toBeCloseTo(before.p, 5);
      expect(before.p > 0 && before.p < 1 && before.rate > 0).toBe(true);
      tf.dispose(Object.values(m2));
      guide2.dispose();
      opt.dispose();
      y.dispose();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  const dir = mkdtempSync(join(tmpdir(), 'audit14-bad-'));
  writeFileSync(join(dir, 'garbage.json'), '{not json');
  const goodSpec = (): ppl.SavedParamStore => {
    ppl.param('a', [1, 2, 3], { constraint: C.positive }).dispose();
    const s = ppl.getParamStore().save();
    ppl.clearParamStore();
    return s;
  };
  const cases = [
    { call: 'load(null)', run: () => ppl.getParamStore().load(null as never), arg: 'saved' },
    {
      call: 'load of a foreign object',
      run: () =>
        ppl.getParamStore().load({ spec: { format: 'x' }, weights: new Float32Array(1) } as never),
      arg: 'saved',
    },
    {
      call: 'load with weights not a Float32Array',
      run: () => ppl.getParamStore().load({ spec: goodSpec().spec, weights: [1, 2, 3] } as never),
      arg: 'saved.weights',
    },
    {
      call: 'load with a truncated buffer',
      run: () => ppl.getParamStore().load({ spec: goodSpec().spec, weights: new Float32Array(2) }),
      arg: 'saved.weights',
    },
    {
      call: 'loadParamStore of a missing file',
      run: () => loadParamStore(join(dir, 'nope.json')),
      arg: 'path',
    },
    {
      call: 'loadParamStore of a non-JSON file',
      run: () => loadParamStore(join(dir, 'garbage.json')),
      arg: 'path',
    },
    { call: 'saveParamStore to an empty path', run: () => saveParamStore(''), arg: 'path' },
  ];
  for (const c of cases) it(`bad input: ${c.call}`, () => expectBadInput(c));
});

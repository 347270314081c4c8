import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { ppl } from '../../src/index.js';
import { expectBadInput, expectNoLeak, finiteDiff } from '../helpers.js';

const { vindex, Vindex } = ppl;

/** Row-major strides of a shape. */
const stridesOf = (shape: number[]): number[] => {
  const s = shape.map(() => 1);
  for (let i = shape.length - 2; i >= 0; i--)
    s[i] = (s[i + 1] as number) * (shape[i + 1] as number);
  return s;
};

/** Read a broadcast operand of shape `shape` (right-aligned in `out`) at output index `idx`. */
const readBroadcast = (vals: number[], shape: number[], idx: number[]): number => {
  const st = stridesOf(shape);
  let flat = 0;
  for (let i = 0; i < shape.length; i++) {
    const j = idx.length - shape.length + i;
    flat += (shape[i] === 1 ? 0 : (idx[j] as number)) * (st[i] as number);
  }
  return vals[flat] as number;
};

type RefArg = '...' | ':' | number | { v: number[]; shape: number[] };

/**
 * Pyro's vindex written out by hand (float64, plain loops): the output is laid out as
 * broadcast(batch of x, tensor index shapes) ++ kept event dims; each element read from x at
 * the batch position, each index read (broadcast) at the batch position, each ':' at its own
 * output position. Independent of the gather the library uses.
 */
function refVindex(xv: number[], xs: number[], args: RefArg[]): { v: number[]; shape: number[] } {
  const ell = args[0] === '...';
  const ev = ell
    ? args.slice(1)
    : [...args, ...new Array<RefArg>(xs.length - args.length).fill(':')];
  const nb = xs.length - ev.length;
  const batchX = xs.slice(0, nb);
  const tensors = ev.filter((a): a is { v: number[]; shape: number[] } => typeof a === 'object');
  const rank = Math.max(batchX.length, ...tensors.map((t) => t.shape.length));
  const bshape = new Array<number>(rank).fill(1);
  for (const s of [batchX, ...tensors.map((t) => t.shape)]) {
    s.forEach((n, i) => {
      const j = rank - s.length + i;
      if (n !== 1) bshape[j] = n;
    });
  }
  const kept = ev.map((a, i) => (a === ':' ? (xs[nb + i] as number) : -1)).filter((n) => n >= 0);
  const shape = [...bshape, ...kept];
  const total = shape.reduce((a, b) => a * b, 1);
  const xst = stridesOf(xs);
  const ost = stridesOf(shape);
  const out: number[] = [];
  for (let f = 0; f < total; f++) {
    const idx = shape.map((_, i) => Math.floor(f / (ost[i] as number)) % (shape[i] as number));
    const b = idx.slice(0, rank);
    let k = rank;
    let flat = 0;
    for (let d = 0; d < nb; d++) {
      const j = rank - nb + d;
      flat += (batchX[d] === 1 ? 0 : (b[j] as number)) * (xst[d] as number);
    }
    ev.forEach((a, i) => {
      const n = xs[nb + i] as number;
      let p: number;
      if (a === ':') p = idx[k++] as number;
      else if (typeof a === 'number') p = a;
      else if (typeof a === 'object') p = readBroadcast(a.v, a.shape, b);
      else throw new Error('bad');
      if (p < 0) p += n;
      flat += p * (xst[nb + i] as number);
    });
    out.push(xv[flat] as number);
  }
  return { v: out, shape };
}

const iota = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
const toT = (a: RefArg): ppl.VindexArg =>
  typeof a === 'object' ? tf.tensor(a.v, a.shape, 'int32') : a;

describe('vindex (Pyro Vindex)', () => {
  const cases: { name: string; xs: number[]; args: RefArg[]; shape: number[] }[] = [
    // Pyro's docstring: x of event dim 3, Vindex(x)[i, :, j]
    {
      name: 'x[i, :, j], no batch',
      xs: [4, 3, 5],
      args: [{ v: [0, 3, 1], shape: [3, 1] }, ':', { v: [4, 0], shape: [2] }],
      shape: [3, 2, 3],
    },
    {
      name: 'Vindex(x)[..., i, :, j] with batch dims',
      xs: [2, 4, 3, 5],
      args: ['...', { v: [1, 2, 3], shape: [3, 1, 1] }, ':', { v: [0, 4], shape: [2] }],
      shape: [3, 1, 2, 3],
    },
    // the enumeration tutorial: p [5,4,3,2], x [4,1], y [3,1,1]: p_xy [3,4,5,2]
    {
      name: 'tutorial Vindex(p)[..., x, y, :]',
      xs: [5, 4, 3, 2],
      args: ['...', { v: [0, 1, 2, 3], shape: [4, 1] }, { v: [0, 1, 2], shape: [3, 1, 1] }, ':'],
      shape: [3, 4, 5, 2],
    },
    // the tutorial's plate index: p [5,4,3], vdx[..., None] [5,1], c [4,1,1] -> [4,5,1,3]
    {
      name: 'tutorial Vindex(p)[vdx[..., None], c, :]',
      xs: [5, 4, 3],
      args: [{ v: iota(5), shape: [5, 1] }, { v: [0, 1, 2, 3], shape: [4, 1, 1] }, ':'],
      shape: [4, 5, 1, 3],
    },
    {
      name: 'sampling interpretation: c [6] -> [5, 6, 3]',
      xs: [5, 4, 3],
      args: [{ v: iota(5), shape: [5, 1] }, { v: [0, 3, 1, 2, 2, 0], shape: [6] }, ':'],
      shape: [5, 6, 3],
    },
    { name: 'integers only = plain indexing', xs: [3, 4, 2], args: [1, ':', -1], shape: [4] },
    { name: "leading '...' with integers", xs: [3, 4, 2], args: ['...', 2, ':'], shape: [3, 2] },
    {
      name: 'negative tensor positions',
      xs: [3, 4],
      args: ['...', { v: [-1, 0, -4], shape: [3, 1] }],
      shape: [3, 3],
    },
    {
      name: 'fewer args than dims: trailing dims kept',
      xs: [3, 4, 2],
      args: [{ v: [2, 0], shape: [2] }],
      shape: [2, 4, 2],
    },
    {
      name: 'scalar tensor index',
      xs: [3, 4],
      args: ['...', { v: [2], shape: [] }],
      shape: [3],
    },
    {
      name: 'two event slices around an index, batch broadcast',
      xs: [2, 3, 4, 5],
      args: ['...', ':', { v: [3, 0, 1, 1, 2, 0], shape: [3, 2, 1] }, ':'],
      shape: [3, 2, 2, 3, 5],
    },
  ];
  for (const c of cases) {
    it(`${c.name}: shape and values against the hand-written rule`, () => {
      const size = c.xs.reduce((a, b) => a * b, 1);
      const xv = iota(size).map((i) => Math.sin(i) * 3 + i / 7);
      const x = tf.tensor(xv, c.xs);
      const args = c.args.map(toT);
      const want = refVindex(xv, c.xs, c.args);
      expect(want.shape).toEqual(c.shape);
      const before = tf.memory().numTensors;
      const out = vindex(x, args);
      expect(out.shape).toEqual(c.shape);
      expect(out.arraySync()).toBeDefined();
      const got = Array.from(out.dataSync());
      got.forEach((g, i) => expect(g).toBeCloseTo(want.v[i] as number, 5));
      out.dispose();
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([x, ...args.filter((a): a is tf.Tensor => a instanceof tf.Tensor)]);
    });
  }

  it("equals the tutorial's torch advanced-indexing rewrite p[arange(5)[:, None], x[..., None], y[..., None], arange(2)]", () => {
    const xs = [5, 4, 3, 2];
    const xv = iota(120).map((i) => Math.cos(i));
    const p = tf.tensor(xv, xs);
    const x = tf.tensor([3, 0, 2, 1], [4, 1]);
    const y = tf.tensor([2, 0, 1], [3, 1, 1]);
    const out = new Vindex(p).get('...', x, y, ':');
    expect(out.shape).toEqual([3, 4, 5, 2]);
    const xa = [3, 0, 2, 1];
    const ya = [2, 0, 1];
    const got = out.arraySync() as number[][][][];
    for (let a = 0; a < 3; a++)
      for (let b = 0; b < 4; b++)
        for (let i = 0; i < 5; i++)
          for (let e = 0; e < 2; e++) {
            const flat = ((i * 4 + (xa[b] as number)) * 3 + (ya[a] as number)) * 2 + e;
            expect(got[a]?.[b]?.[i]?.[e]).toBeCloseTo(xv[flat] as number, 6);
          }
    tf.dispose([p, x, y, out]);
  });

  it('float32 indices (values of enumerated sites) index like int32', () => {
    const p = tf.tensor2d([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    const zf = tf.tensor([1, 0], [2, 1]);
    const zi = tf.tensor([1, 0], [2, 1], 'int32');
    const a = vindex(p, [zf, ':']);
    const b = vindex(p, [zi, ':']);
    expect(a.arraySync()).toEqual(b.arraySync());
    expect(a.arraySync()).toEqual([[[4, 5, 6]], [[1, 2, 3]]]);
    tf.dispose([p, zf, zi, a, b]);
  });

  it('is differentiable in x: the gradient counts how often each element is read (finite differences)', () => {
    const xs = [3, 4];
    const x0 = iota(12).map((i) => 0.3 * i - 1);
    const idx = tf.tensor([0, 2, 2, 1, 0], [5, 1], 'int32');
    const w = [0.5, -1, 2, 0.25, 1.5];
    const f = (x: tf.Tensor): tf.Tensor =>
      tf.sum(tf.mul(tf.sin(vindex(x, ['...', idx])), tf.tensor(w, [5, 1])));
    const g = tf.grad(f)(tf.tensor(x0, xs));
    const fd = finiteDiff((v) => {
      let s = 0;
      const ia = [0, 2, 2, 1, 0];
      for (let r = 0; r < 3; r++)
        ia.forEach((c, k) => (s += Math.sin(v[r * 4 + c] as number) * (w[k] as number)));
      return s;
    }, x0);
    Array.from(g.dataSync()).forEach((gi, i) => expect(gi).toBeCloseTo(fd[i] as number, 3));
    expectNoLeak(() => tf.tidy(() => tf.grad(f)(tf.tensor(x0, xs))));
    tf.dispose([g, idx]);
  });

  it("without tensor indices of rank > 0 it is plain indexing; '...' alone or [] returns a copy", () => {
    const x = tf.tensor3d(iota(24), [2, 3, 4]);
    const a = vindex(x, [1, ':', 2]);
    expect(a.arraySync()).toEqual([14, 18, 22]);
    const b = vindex(x, ['...']);
    const c = vindex(x, []);
    expect(b.arraySync()).toEqual(x.arraySync());
    expect(c.shape).toEqual([2, 3, 4]);
    tf.dispose([x, a, b, c]);
  });

  describe('bad input names the argument', () => {
    const x = (): tf.Tensor => tf.zeros([3, 4]);
    const cases = [
      { call: 'x not a tensor', run: () => vindex([1, 2] as unknown as tf.Tensor, [0]), arg: 'x' },
      {
        call: 'args not an array',
        run: () => tf.tidy(() => vindex(x(), 0 as unknown as [])),
        arg: 'args',
      },
      {
        call: "'...' not first",
        run: () => tf.tidy(() => vindex(x(), [0, '...'])),
        arg: 'args[1]',
      },
      { call: 'too many args', run: () => tf.tidy(() => vindex(x(), [0, 1, 2])), arg: 'args' },
      { call: 'non-integer number', run: () => tf.tidy(() => vindex(x(), [0.5])), arg: 'args[0]' },
      {
        call: 'integer out of range',
        run: () => tf.tidy(() => vindex(x(), [':', 4])),
        arg: 'args[1]',
        message: /size 4/,
      },
      {
        call: 'tensor position out of range',
        run: () => tf.tidy(() => vindex(x(), ['...', tf.tensor([0, 4], [2], 'int32')])),
        arg: 'args[1]',
      },
      {
        call: 'non-integer float positions',
        run: () => tf.tidy(() => vindex(x(), [tf.tensor([0.5])])),
        arg: 'args[0]',
      },
      {
        call: 'bool index',
        run: () => tf.tidy(() => vindex(x(), [tf.tensor([true], [1], 'bool')])),
        arg: 'args[0]',
      },
      {
        call: 'a slice object',
        run: () => tf.tidy(() => vindex(x(), [{} as unknown as ':'])),
        arg: 'args[0]',
      },
      {
        call: 'index shapes that do not broadcast',
        run: () =>
          tf.tidy(() =>
            vindex(x(), [tf.tensor([0, 1], [2], 'int32'), tf.tensor([0, 1, 2], [3], 'int32')]),
          ),
        arg: /args\[0\]/,
        message: /do not broadcast/,
      },
      {
        call: 'batch dims that do not broadcast with the indices',
        run: () =>
          tf.tidy(() => vindex(tf.zeros([3, 4]), ['...', tf.tensor([0, 1], [2], 'int32')])),
        arg: /x dim 0/,
      },
      {
        call: 'Vindex of a non-tensor',
        run: () => new Vindex(3 as unknown as tf.Tensor),
        arg: 'tensor',
      },
    ];
    for (const c of cases) it(c.call, () => expectBadInput(c));
  });
});

/**
 * `vindex`: vectorized advanced indexing with broadcasting semantics (Pyro's and NumPyro's
 * `pyro.ops.indexing.vindex` / `Vindex`, after NumPy's NEP 21), the indexing that stays right when
 * the indices are enumerated discrete sites (`[K, 1, 1]`-shaped values left of the plates) or
 * carry plate dims.
 *
 * Mapping from Pyro's syntax (`...` is the string `'...'`, `:` the string `':'`):
 *
 * | Pyro / NumPyro                   | deepprob                                  |
 * | -------------------------------- | ----------------------------------------- |
 * | `Vindex(p)[..., x, y, :]`        | `vindex(p, ['...', x, y, ':'])`           |
 * | `Vindex(p)[i, :, j]`             | `vindex(p, [i, ':', j])`                  |
 * | `vindex(p, (Ellipsis, x, slice(None)))` | `new Vindex(p).get('...', x, ':')` |
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../utils/errors.js';
import { broadcastShapes, peekValues } from '../utils/tensor.js';
import { isValidationEnabled } from './site_validation.js';

/**
 * One index of {@link vindex}: `'...'` (the batch dims of `x`, only first), `':'` (a whole dim,
 * kept), an integer (one position, the dim dropped) or an integer-valued tensor of positions
 * (int32, or float32 as the values of discrete sites; its dims broadcast with the other tensor
 * indices and the batch dims of `x`).
 */
export type VindexArg = '...' | ':' | number | tf.Tensor;

/** A normalized index: a kept dim or positions (a number or an int32 tensor). */
type Norm = { kind: 'slice' } | { kind: 'index'; value: number | tf.Tensor; batched: boolean };

function describe(a: unknown): string {
  if (a instanceof tf.Tensor) return `a ${a.dtype} tensor of shape [${a.shape.join(',')}]`;
  if (typeof a === 'string') return `'${a}'`;
  return String(a);
}

/**
 * Check `args` against `x` (before any work): the kinds, the place of `'...'`, the count, the
 * integers' range and, with validation on, the tensor indices' values.
 */
function checkArgs(x: tf.Tensor, args: readonly VindexArg[]): void {
  args.forEach((a, i) => {
    const name = `args[${i}]`;
    if (a === '...') {
      if (i !== 0) {
        throw new ArgumentError(
          name,
          "'...' may only come first (it stands for the batch dims of x, left of the indexed ones)",
        );
      }
    } else if (a === ':') {
      return;
    } else if (typeof a === 'number') {
      if (!Number.isInteger(a)) throw new ArgumentError(name, `expected an integer, got ${a}`);
    } else if (a instanceof tf.Tensor) {
      if (a.isDisposed) throw new ArgumentError(name, 'the index tensor is disposed');
      if (a.dtype !== 'int32' && a.dtype !== 'float32') {
        throw new ArgumentError(
          name,
          `expected an int32 or integer-valued float32 tensor, got ${describe(a)}`,
        );
      }
    } else {
      throw new ArgumentError(
        name,
        `expected '...', ':', an integer or an integer-valued tensor, got ${describe(a)}`,
      );
    }
  });
  const event = args[0] === '...' ? args.length - 1 : args.length;
  if (event > x.rank) {
    throw new ArgumentError(
      'args',
      `${event} indexed dim(s) but x has shape [${x.shape.join(',')}] (rank ${x.rank})`,
    );
  }
  const offset = x.rank - event - (args[0] === '...' ? 1 : 0);
  args.forEach((a, i) => {
    if (a === '...' || a === ':') return;
    const dim = args[0] === '...' ? offset + i : i;
    const n = x.shape[dim] as number;
    const name = `args[${i}]`;
    if (typeof a === 'number') {
      if (a < -n || a >= n) {
        throw new ArgumentError(name, `index ${a} is out of range for dim ${dim} of size ${n}`);
      }
      return;
    }
    if (!isValidationEnabled() || a.size === 0) return;
    const vals = peekValues(a as tf.Tensor);
    for (let k = 0; k < vals.length; k++) {
      const v = vals[k] as number;
      if (!(Number.isInteger(v) && v >= -n && v < n)) {
        throw new ArgumentError(
          name,
          `expected integer positions in [${-n}, ${n}) for dim ${dim} of x (size ${n}), got ` +
            `${v}${vals.length > 1 ? ` at index ${k}` : ''}`,
        );
      }
    }
  });
}

/**
 * Vectorized advanced indexing (Pyro's `vindex(tensor, args)`): `x` indexed by `args` where the
 * tensor indices broadcast together (and with the batch dims of `x`) like any other operator.
 *
 * **Indexing rule.** Without `'...'`, `args` indexes the leftmost dims of `x` (the missing ones
 * on the right are `':'`) and `x` has no batch dims. With `'...'` first, `args.slice(1)` indexes
 * the rightmost `k = args.length - 1` dims of `x` (its *event* dims) and the dims left of them are
 * batch dims. Writing `B` for the batch shape of `x`, `I_j` for the shapes of the tensor indices
 * (integers have shape `[]`) and `S` for the sizes of the `':'` event dims in order,
 *
 * $$\text{out.shape} = \operatorname{broadcast}(B, I_1, \dots, I_m) \mathbin{+\!\!+} S,$$
 *
 * $$\text{out}[b, s] = x\big[b_B,\ \iota_1(b), \dots, s_1, \dots\big],$$
 *
 * each argument read at the broadcast batch index `b` (the `'...'` dims at their own positions,
 * `\iota_j(b)` the broadcast `j`-th tensor index) and each `':'` at its own output position
 * `s`. Negative positions count from the end, as in Python. When no index is a tensor of rank
 * > 0 this is plain indexing (`vindex(x, [0, ':', 2])` = `x[0, :, 2]`).
 *
 * Examples (Pyro's docstring): for `x` of event rank 3,
 * `vindex(x, ['...', i, ':', j])` has shape `broadcast(x.shape[:-3], i.shape, j.shape) ++
 * [x.shape[-2]]`; for a `Dirichlet` draw `p` of shape `[5, 4, 3]` in plates `(-2: 5, -1: 4)`,
 * the plate index `vdx` of shape `[5, 1]` and an enumerated `c` of shape `[4, 1, 1]` (data plate
 * of size 6 at -1), `vindex(p, [vdx, c, ':'])` has shape `[4, 5, 1, 3]`.
 *
 * The result is `gather(flatten(x), \sum_d \iota_d \cdot \text{stride}_d)`: differentiable in
 * `x` (the gradient scatters back to the positions read); the indices get no gradient.
 *
 * @param x the tensor to index (any dtype).
 * @param args the index, see {@link VindexArg}; tensor indices must hold integers in
 *   `[-n, n)` for a dim of size `n` (checked while `enableValidation` is on, the default).
 * @returns a new tensor of the shape above.
 * @example
 * ```ts
 * // Pyro: p_xy = Vindex(p)[..., x, y, :] with x, y enumerated
 * // (the enumeration tutorial: plate of 5 at dim -1, so x at dim -2 and y at dim -3)
 * const p = tf.ones([5, 4, 3, 2]).div(2);
 * const x = tf.tensor([0, 1, 2, 3]).reshape([4, 1]);
 * const y = tf.tensor([0, 1, 2]).reshape([3, 1, 1]);
 * vindex(p, ['...', x, y, ':']).shape; // [3, 4, 5, 2]
 * ```
 */
export function vindex(x: tf.Tensor, args: readonly VindexArg[]): tf.Tensor {
  if (!(x instanceof tf.Tensor)) {
    throw new ArgumentError('x', `expected a tensor, got ${describe(x)}`);
  }
  if (x.isDisposed) throw new ArgumentError('x', 'the tensor is disposed');
  if (!Array.isArray(args)) {
    throw new ArgumentError('args', `expected an array of indices, got ${describe(args)}`);
  }
  checkArgs(x, args);
  if (args.length === 0 || (args.length === 1 && args[0] === '...')) return x.clone();

  // the full index over every dim of x: the batch dims (left of '...') and missing right dims
  // are whole dims; `eventDims` counts the dims args names explicitly (Pyro's old_event_dim)
  let full: ('...' | ':' | number | tf.Tensor)[];
  let eventDims: number;
  if (args[0] === '...') {
    const rest = args.slice(1);
    eventDims = rest.length;
    full = [...new Array<':'>(x.rank - rest.length).fill(':'), ...rest];
  } else {
    full = [...args, ...new Array<':'>(x.rank - args.length).fill(':')];
    eventDims = x.rank;
  }
  const norm: Norm[] = full.map((a) =>
    a === ':' || a === '...'
      ? { kind: 'slice' }
      : { kind: 'index', value: a, batched: a instanceof tf.Tensor && a.rank > 0 },
  );
  const eventStart = x.rank - eventDims;
  const newEventDims = norm.slice(eventStart).filter((a) => a.kind === 'slice').length;

  // shapes each argument takes (Pyro's reshape): a whole dim an arange at its own place among
  // the slices (counted from the right), a tensor index its shape with `newEventDims` ones
  const shapes: Record<string, number[]> = {};
  const slicePos: number[] = new Array<number>(x.rank).fill(-1);
  let sliceCount = 0;
  for (let d = x.rank - 1; d >= 0; d--) {
    const a = norm[d] as Norm;
    if (a.kind === 'slice') {
      slicePos[d] = sliceCount;
      shapes[`x dim ${d}`] = [x.shape[d] as number, ...new Array<number>(sliceCount).fill(1)];
      sliceCount++;
    } else if (a.batched) {
      const t = a.value as tf.Tensor;
      const argIndex = args[0] === '...' ? d - eventStart + 1 : d;
      shapes[`args[${argIndex}]`] = [...t.shape, ...new Array<number>(newEventDims).fill(1)];
    }
  }
  const outShape = broadcastShapes(shapes);

  return tf.tidy(() => {
    const strides: number[] = new Array<number>(x.rank).fill(1);
    for (let d = x.rank - 2; d >= 0; d--) {
      strides[d] = (strides[d + 1] as number) * (x.shape[d + 1] as number);
    }
    let flat: tf.Tensor = tf.zeros(outShape, 'int32');
    for (let d = 0; d < x.rank; d++) {
      const a = norm[d] as Norm;
      const n = x.shape[d] as number;
      const stride = strides[d] as number;
      let idx: tf.Tensor;
      if (a.kind === 'slice') {
        const pos = slicePos[d] as number;
        idx = tf.reshape(tf.range(0, n, 1, 'int32'), [n, ...new Array<number>(pos).fill(1)]);
      } else if (typeof a.value === 'number') {
        idx = tf.scalar(a.value < 0 ? a.value + n : a.value, 'int32');
      } else {
        const t = a.value.dtype === 'int32' ? a.value : tf.cast(tf.round(a.value), 'int32');
        const wrapped = tf.where(tf.less(t, 0), tf.add(t, tf.scalar(n, 'int32')), t);
        idx = a.batched
          ? tf.reshape(wrapped, [...t.shape, ...new Array<number>(newEventDims).fill(1)])
          : wrapped;
      }
      flat = tf.add(flat, stride === 1 ? idx : tf.mul(idx, tf.scalar(stride, 'int32')));
    }
    return tf.gather(tf.reshape(x, [-1]), flat);
  });
}

/**
 * Pyro's `Vindex(x)[...]` wrapper: `new Vindex(x).get('...', i, j, ':')` is
 * `vindex(x, ['...', i, j, ':'])` (see {@link vindex} for the indexing rule).
 */
export class Vindex {
  /** @param tensor the tensor to index (the caller's; not owned). */
  constructor(readonly tensor: tf.Tensor) {
    if (!(tensor instanceof tf.Tensor)) {
      throw new ArgumentError('tensor', `expected a tensor, got ${describe(tensor)}`);
    }
  }

  /** The tensor indexed by `args` (a new tensor; see {@link vindex}). */
  get(...args: VindexArg[]): tf.Tensor {
    return vindex(this.tensor, args);
  }
}

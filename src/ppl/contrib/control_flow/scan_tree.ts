/**
 * The tensor trees (JAX's pytrees) that {@link scan} slices and stacks: a tensor, `null` /
 * `undefined`, or an array or plain object of trees.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../../../utils/errors.js';

/** A tree of tensors (JAX's pytree): leaves are tensors; arrays and plain objects nest. */
export type ScanTree =
  tf.Tensor | null | undefined | readonly ScanTree[] | { readonly [key: string]: ScanTree };

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object') return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/**
 * The leaves of `tree` with their paths (`xs`, `xs[0]`, `xs.a`), in a fixed order.
 * @throws ArgumentError naming `arg` for a leaf that is not a live tensor.
 */
export function treeLeaves(tree: unknown, arg: string): { path: string; leaf: tf.Tensor }[] {
  const out: { path: string; leaf: tf.Tensor }[] = [];
  const walk = (v: unknown, path: string): void => {
    if (v === null || v === undefined) return;
    if (v instanceof tf.Tensor) {
      if (v.isDisposed)
        throw new ArgumentError(arg, `${path}: expected a live tensor, got a disposed one`);
      out.push({ path, leaf: v });
    } else if (Array.isArray(v)) {
      v.forEach((c, i) => walk(c, `${path}[${i}]`));
    } else if (isPlainObject(v)) {
      for (const k of Object.keys(v)) walk(v[k], `${path}.${k}`);
    } else {
      throw new ArgumentError(
        arg,
        `${path}: expected a tensor, null, or an array or plain object of them, got ${typeof v}`,
      );
    }
  };
  walk(tree, arg);
  return out;
}

/** `tree` with each leaf `l` replaced by `f(l)` (same structure). */
export function mapTree(tree: unknown, f: (leaf: tf.Tensor) => tf.Tensor): unknown {
  if (tree === null || tree === undefined) return tree;
  if (tree instanceof tf.Tensor) return f(tree);
  if (Array.isArray(tree)) return tree.map((c) => mapTree(c, f));
  const o = tree as Record<string, unknown>;
  return Object.fromEntries(Object.keys(o).map((k) => [k, mapTree(o[k], f)]));
}

/**
 * Stack the trees `ys[0..T-1]` (one structure) leaf by leaf along a new leading axis:
 * `out.leaf[t] = ys[t].leaf`.
 * @throws ArgumentError naming `arg` when the steps' structures or leaf shapes differ.
 */
export function stackTrees(ys: readonly unknown[], arg: string): unknown {
  const first = ys[0];
  const leaves = ys.map((y) => treeLeaves(y, arg));
  const ref = leaves[0] ?? [];
  for (const [t, ls] of leaves.entries()) {
    const same =
      ls.length === ref.length &&
      ls.every(
        (l, i) =>
          l.path === (ref[i] as { path: string }).path &&
          l.leaf.shape.length === (ref[i] as { leaf: tf.Tensor }).leaf.shape.length &&
          l.leaf.shape.every((d, j) => d === (ref[i] as { leaf: tf.Tensor }).leaf.shape[j]),
      );
    if (!same) {
      throw new ArgumentError(
        arg,
        `step ${t} returned y with leaves ${ls.map((l) => `${l.path}[${l.leaf.shape.join(',')}]`).join(' ')}` +
          `; step 0: ${ref.map((l) => `${l.path}[${l.leaf.shape.join(',')}]`).join(' ')} ` +
          '(every step must return y of one structure and shapes)',
      );
    }
  }
  let k = 0;
  return mapTree(first, () => {
    const i = k++;
    return tf.stack(leaves.map((ls) => (ls[i] as { leaf: tf.Tensor }).leaf));
  });
}

/**
 * The gradient of `Einsum` (tfjs 4.22 has none: `tf.grad` through `tf.einsum`, a NumPyro port's
 * `jnp.einsum`, threw "gradient function not found for Einsum"). For `y = einsum('A,B->C', a, b)`
 * (index strings `A`, `B`, `C`, no index repeated within one operand: tfjs's own restriction):
 *
 * $$\bar a = \operatorname{einsum}(\texttt{C,B->A'}, \bar y, b)\ \text{broadcast to } A,\qquad
 *   \bar b = \operatorname{einsum}(\texttt{C,A->B'}, \bar y, a)\ \text{broadcast to } B$$
 *
 * where `A'` keeps the indices of `A` found in `C` or `B` (an index only in `A` was summed out: its
 * cotangent is constant along it; an index only in `B` is summed out of `b` first); one operand
 * likewise with `einsum('C->A'', ȳ)`.
 */
import * as tf from '@tensorflow/tfjs';

/**
 * The cotangent of one operand: `einsum(others -> kept)` then broadcast over the dropped indices.
 *
 * @param dy the output's cotangent. @param out the output's indices.
 * @param own the operand's indices. @param ownShape the operand's shape.
 * @param other the other operand and its indices, or null for a one-operand einsum.
 * @returns the operand's cotangent, shape `ownShape`.
 * @example
 * ```ts
 * einsumOperandGradient(tf.ones([2, 4]), 'ik', 'ij', [2, 3], { t: tf.ones([3, 4]), idx: 'jk' });
 * ```
 */
export function einsumOperandGradient(
  dy: tf.Tensor,
  out: string,
  own: string,
  ownShape: readonly number[],
  other: { t: tf.Tensor; idx: string } | null,
): tf.Tensor {
  return tf.tidy(() => {
    // an index of the other operand found nowhere else is summed out first (tfjs's einsum gives
    // a wrong shape for an index that only one operand has); an operand left without indices is
    // a scalar factor
    let o = other;
    let factor: tf.Tensor | null = null;
    if (o !== null) {
      const only = [...o.idx].filter((c) => !out.includes(c) && !own.includes(c));
      if (only.length > 0) {
        const t = tf.sum(
          o.t,
          only.map((c) => o!.idx.indexOf(c)),
        );
        o = { t, idx: [...o.idx].filter((c) => !only.includes(c)).join('') };
      }
      if (o.idx.length === 0) {
        factor = o.t;
        o = null;
      }
    }
    const present = new Set([...out, ...(o?.idx ?? '')]);
    const kept = [...own].filter((c) => present.has(c)).join('');
    let g: tf.Tensor;
    if (kept.length === 0) {
      g = o === null ? tf.sum(dy) : tf.sum(tf.einsum(`${out},${o.idx}->${out}`, dy, o.t));
    } else if (o === null) {
      g = kept === out ? dy : tf.einsum(`${out}->${kept}`, dy);
    } else {
      g = tf.einsum(`${out},${o.idx}->${kept}`, dy, o.t);
    }
    if (factor !== null) g = tf.mul(g, factor);
    // put back the dropped indices as size-1 axes, then broadcast to the operand's shape
    const withOnes = [...own].map((c, i) => (present.has(c) ? (ownShape[i] as number) : 1));
    g = tf.reshape(g, withOnes);
    return withOnes.every((d, i) => d === ownShape[i]) ? g : tf.broadcastTo(g, [...ownShape]);
  });
}

/** Register the gradient of `Einsum` where tfjs has none (idempotent). */
export function installEinsumGrad(): void {
  if (tf.getGradient('Einsum') !== undefined) return;
  tf.registerGradient({
    kernelName: 'Einsum',
    saveAllInputs: true,
    gradFunc: (dy, saved, attrs) => {
      const equation = (attrs as unknown as { equation: string }).equation.replace(/\s/g, '');
      const [lhs, out = ''] = equation.split('->') as [string, string | undefined];
      const idx = lhs.split(',');
      const ts = saved as tf.Tensor[];
      const g = dy as tf.Tensor;
      const map: Record<string, () => tf.Tensor> = {};
      if (ts.length === 1) {
        map[0] = () => einsumOperandGradient(g, out, idx[0]!, ts[0]!.shape, null);
        return map;
      }
      return {
        0: () => einsumOperandGradient(g, out, idx[0]!, ts[0]!.shape, { t: ts[1]!, idx: idx[1]! }),
        1: () => einsumOperandGradient(g, out, idx[1]!, ts[1]!.shape, { t: ts[0]!, idx: idx[0]! }),
      };
    },
  });
}

/**
 * tfjs 4.22's `Einsum` kernels give a wrong result when an index held by one operand only is
 * absent from the output: `einsum('ij,k->i', a, b)` came out of shape `[1, 2]` instead of `[2]`,
 * and `einsum('i,k->i', x, y)` of shape `[1]`. Such an index is a plain sum over its operand,
 *
 * $$\sum_{j,k} a_{ij} b_k = \Big(\sum_j a_{ij}\Big)\Big(\sum_k b_k\Big),$$
 *
 * so the wrapper sums it out of that operand first (a `Sum` kernel) and runs the stock kernel on
 * the reduced equation; an operand left without indices is a scalar factor (the backend's
 * `Multiply` on the other operand's own contraction). Equations it does not parse (ellipses, one
 * or three operands, repeated indices) go to the stock kernel unchanged.
 */
import * as tf from '@tensorflow/tfjs';
import { wrapKernelOnce } from './wrap_kernel.js';

type KernelFunc = tf.KernelConfig['kernelFunc'];

/**
 * The operands' and output's index strings of a two-operand `equation`, or null.
 * @param equation e.g. `'ij,jk->ik'`.
 * @returns `{ins, out}`, or null for an equation the wrapper leaves to the stock kernel.
 * @example
 * ```ts
 * parseTwoOperandEquation('ij,k->i'); // { ins: ['ij', 'k'], out: 'i' }
 * ```
 */
export function parseTwoOperandEquation(
  equation: string,
): { ins: [string, string]; out: string } | null {
  const eq = equation.replace(/\s/g, '');
  if (eq.includes('.')) return null;
  const [lhs, out] = eq.split('->') as [string, string | undefined];
  if (out === undefined) return null;
  const ins = lhs.split(',');
  if (ins.length !== 2) return null;
  const ok = (s: string): boolean => /^[a-zA-Z]*$/.test(s) && new Set(s).size === s.length;
  if (!ins.every(ok) || !ok(out)) return null;
  return { ins: [ins[0]!, ins[1]!], out };
}

/**
 * `previous` (the `Einsum` kernel of `backendName`), with the indices only one operand holds and
 * the output lacks summed out first.
 * @param backendName the backend whose `Multiply` kernel scales by a scalar operand.
 * @returns the wrapping kernel function.
 */
export function summingSingleIndices(backendName: string): (previous: KernelFunc) => KernelFunc {
  return (previous) => (args) => {
    const equation = (args.attrs as { equation?: string } | undefined)?.equation;
    const inputs = Object.values(args.inputs) as tf.TensorInfo[];
    const parsed = equation === undefined ? null : parseTwoOperandEquation(equation);
    if (parsed === null || inputs.length !== 2) return previous(args);
    const { ins, out } = parsed;
    const single = (o: 0 | 1): string[] =>
      [...ins[o]].filter((c) => !out.includes(c) && !ins[o === 0 ? 1 : 0].includes(c));
    const s0 = single(0);
    const s1 = single(1);
    if (s0.length === 0 && s1.length === 0) return previous(args);
    const multiply = tf.getKernel('Multiply', backendName);
    const engine = tf.engine();
    const temps: tf.Tensor[] = [];
    try {
      const reduce = (o: 0 | 1, only: string[]): { t: tf.TensorInfo; idx: string } => {
        if (only.length === 0) return { t: inputs[o]!, idx: ins[o] };
        const axis = only.map((c) => ins[o].indexOf(c));
        const x = inputs[o] as unknown as tf.Tensor; // a kernel's input, read only
        const t = engine.runKernel('Sum', { x }, { axis, keepDims: false }) as tf.Tensor;
        temps.push(t);
        return { t, idx: [...ins[o]].filter((c) => !only.includes(c)).join('') };
      };
      const r0 = reduce(0, s0);
      const r1 = reduce(1, s1);
      const rest = [r0, r1].filter((r) => r.idx.length > 0);
      if (rest.length === 2) {
        return previous({
          ...args,
          inputs: [r0.t, r1.t] as unknown as tf.NamedTensorInfoMap, // tfjs's einsum reads a list
          attrs: { ...args.attrs, equation: `${r0.idx},${r1.idx}->${out}` },
        });
      }
      if (multiply === undefined) return previous(args);
      const scalars = [r0, r1].filter((r) => r.idx.length === 0);
      if (rest.length === 0) {
        return multiply.kernelFunc({
          inputs: { a: scalars[0]!.t, b: scalars[1]!.t },
          backend: args.backend,
          attrs: {},
        });
      }
      // one operand reduced to a scalar: the other's own contraction (none when it is the output
      // already: the stock kernel hands back its input's data for 'i->i') times it
      let part: tf.TensorInfo = rest[0]!.t;
      if (rest[0]!.idx !== out) {
        const t = engine.runKernel('Einsum', [part] as unknown as tf.NamedTensorMap, {
          equation: `${rest[0]!.idx}->${out}`,
        }) as tf.Tensor;
        temps.push(t);
        part = t;
      }
      return multiply.kernelFunc({
        inputs: { a: part, b: scalars[0]!.t },
        backend: args.backend,
        attrs: {},
      });
    } finally {
      tf.dispose(temps);
    }
  };
}

/** Wrap `backendName`'s `Einsum` kernel with {@link summingSingleIndices} (idempotent). */
export function installEinsumSingleIndexFix(backendName: string): void {
  wrapKernelOnce('Einsum', backendName, summingSingleIndices(backendName));
}

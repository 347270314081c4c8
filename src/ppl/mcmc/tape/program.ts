/**
 * The recorded form of a tensor function ("tape program"): the tfjs kernels one evaluation ran on
 * the path from its inputs to its outputs, as plain data (structured-clonable, so worker threads
 * can replay it without the model's closure).
 *
 * A program is a list of nodes in execution order. Node `k` holds one tensor: an input, a
 * constant captured at recording time (any tensor not computed from the inputs: data, parameters,
 * constants built inside the model), or the output `outputIndex` of a kernel applied to earlier
 * nodes with its attributes. Kernels that only move elements (reshape, transpose, slice, concat,
 * gather with constant indices, tile, pad, ...) are recorded with their element map instead of
 * their attributes: `src[j]` and `idx[j]` say which input and which element output element `j`
 * copies (`src[j] = -1`: the recorded constant `value[j]`), found by running the kernel once on
 * inputs holding their own element numbers.
 */

/** One node of a {@link TapeProgram}. */
export interface TapeNode {
  /** `'Input'`, `'Const'`, `'Gather'` (an element map) or a tfjs kernel name. */
  op: string;
  /** Node ids of the kernel's inputs, in the kernel's input order. */
  inputs: number[];
  /** The kernel's input names (same order as `inputs`). */
  inputNames: string[];
  /** The kernel's attributes (plain data). */
  attrs: Record<string, unknown>;
  /** Shape of this node's tensor. */
  shape: number[];
  /** Dtype of this node's tensor. */
  dtype: string;
  /** `Const`: the values; `Gather`: the fill values of elements no input provides. */
  value?: Float64Array;
  /** `Gather`: per output element, the input (position in `inputs`) it copies, or -1. */
  src?: Int32Array;
  /** `Gather`: per output element, the element of that input. */
  idx?: Int32Array;
  /** `Input`: the position of the input. */
  input?: number;
}

/** A recorded tensor function of `inputs.length` tensors. */
export interface TapeProgram {
  nodes: TapeNode[];
  /** Node ids of the inputs. */
  inputs: number[];
  /** Node ids of the outputs. */
  outputs: number[];
}

/** Number of elements of a shape. */
export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

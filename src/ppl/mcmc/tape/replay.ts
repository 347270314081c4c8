/**
 * Replay of a {@link TapeProgram} in float64 without tfjs: the value of its outputs and the
 * reverse-mode gradient of its first (scalar) output with respect to its inputs,
 *
 * `g_out = 1`, then for nodes in reverse order `g_in += (d out / d in)^T g_out`,
 *
 * over one preallocated arena for values and one for gradients (a call allocates nothing).
 * Element maps that keep every element in place (reshape, identity) share their input's buffers;
 * nodes no output depends on are not computed.
 */
import { UnsupportedKernelError } from './errors.js';
import { nodeSteps, type Slot } from './kernels.js';
import { sizeOf, type TapeNode, type TapeProgram } from './program.js';

/** Whether a `Gather` node copies its only input unchanged. */
function isInPlace(node: TapeNode, inputSize: number): boolean {
  const src = node.src;
  const idx = node.idx;
  if (node.op !== 'Gather' || src === undefined || idx === undefined) return false;
  if (src.length !== inputSize) return false;
  for (let j = 0; j < src.length; j++) if (src[j] !== 0 || idx[j] !== j) return false;
  return true;
}

/** A compiled, allocation-free evaluator of a tape program. */
export class TapeReplay {
  /** Total number of input elements (the length of the flat input vector). */
  readonly inputSize: number;
  /** Number of executed kernel steps per forward pass. */
  readonly steps: number;
  private readonly vals: Float64Array;
  private readonly grads: Float64Array;
  private readonly slots: Slot[];
  private readonly fwd: (() => void)[] = [];
  private readonly bwd: (() => void)[] = [];
  private readonly inputs: Slot[];

  /** @param program the recorded program; throws {@link UnsupportedKernelError} if unknown. */
  constructor(readonly program: TapeProgram) {
    const nodes = program.nodes;
    const live = new Uint8Array(nodes.length);
    for (const o of program.outputs) live[o] = 1;
    for (let k = nodes.length - 1; k >= 0; k--) {
      if (live[k] === 1) for (const i of (nodes[k] as TapeNode).inputs) live[i] = 1;
    }
    // buffer offsets (in-place element maps alias their input)
    const offset = new Int32Array(nodes.length);
    const alias = new Int32Array(nodes.length).fill(-1);
    let total = 0;
    nodes.forEach((n, k) => {
      const size = sizeOf(n.shape);
      const in0 = n.inputs[0];
      if (
        in0 !== undefined &&
        n.inputs.length === 1 &&
        isInPlace(n, sizeOf((nodes[in0] as TapeNode).shape))
      ) {
        alias[k] = in0;
        offset[k] = offset[in0] as number;
        return;
      }
      offset[k] = total;
      total += size;
    });
    this.vals = new Float64Array(total);
    this.grads = new Float64Array(total);
    const rg = nodes.map((n) => n.op === 'Input');
    nodes.forEach((n, k) => {
      if (n.op !== 'Input' && n.op !== 'Const') rg[k] = n.inputs.some((i) => rg[i] === true);
    });
    this.slots = nodes.map((n, k) => {
      const o = offset[k] as number;
      const size = sizeOf(n.shape);
      return {
        v: this.vals.subarray(o, o + size),
        g: this.grads.subarray(o, o + size),
        rg: rg[k] === true,
      };
    });
    nodes.forEach((n, k) => {
      if (n.op === 'Const' && n.value !== undefined) (this.slots[k] as Slot).v.set(n.value);
    });
    const bwd: (() => void)[] = [];
    nodes.forEach((n, k) => {
      if (live[k] !== 1 || n.op === 'Input' || n.op === 'Const' || alias[k] !== -1) return;
      const ins = n.inputs.map((i) => this.slots[i] as Slot);
      const shapes = n.inputs.map((i) => (nodes[i] as TapeNode).shape);
      const s = nodeSteps(n, this.slots[k] as Slot, ins, shapes);
      this.fwd.push(s.fwd);
      if (s.bwd !== undefined && rg[k] === true) bwd.push(s.bwd);
    });
    this.bwd = bwd.reverse();
    this.steps = this.fwd.length;
    this.inputs = program.inputs.map((i) => this.slots[i] as Slot);
    this.inputSize = this.inputs.reduce((a, s) => a + s.v.length, 0);
    if (program.outputs.length === 0) throw new UnsupportedKernelError('a program without outputs');
  }

  private load(z: Float64Array): void {
    let o = 0;
    for (const s of this.inputs) {
      s.v.set(z.subarray(o, o + s.v.length));
      o += s.v.length;
    }
  }

  /** Evaluate every output at the flat input `z`. */
  forward(z: Float64Array): void {
    this.load(z);
    for (const f of this.fwd) f();
  }

  /** The values of output `k` after {@link TapeReplay.forward} (a view, overwritten next call). */
  output(k: number): Float64Array {
    return (this.slots[this.program.outputs[k] as number] as Slot).v;
  }

  /**
   * The first output (a scalar) at `z` and its gradient with respect to `z`, written to `grad`.
   */
  valueAndGrad(z: Float64Array, grad: Float64Array): number {
    this.forward(z);
    const out = this.slots[this.program.outputs[0] as number] as Slot;
    if (out.v.length !== 1) throw new UnsupportedKernelError('a gradient of a non-scalar output');
    this.grads.fill(0);
    out.g[0] = 1;
    for (const b of this.bwd) b();
    let o = 0;
    for (const s of this.inputs) {
      grad.set(s.g, o);
      o += s.g.length;
    }
    return out.v[0] as number;
  }
}

export { UnsupportedKernelError };

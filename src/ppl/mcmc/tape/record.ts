/**
 * Recording a tensor function into a {@link TapeProgram} (the way JAX traces a function for
 * `jit`, here by watching the tfjs engine): while `fn(inputs)` runs once, every kernel the engine
 * dispatches at the top level (not the kernels a kernel runs inside itself) is seen with its
 * inputs, attributes and outputs. A kernel with an input computed from the function's inputs
 * becomes a node; every other tensor it reads becomes a constant node holding its values at
 * recording time; kernels on constants only are not recorded (their results are constants).
 * `customGrad` scopes are transparent: the kernels inside them are recorded, so the replayed
 * gradient is the true derivative of the recorded forward computation.
 *
 * Element-moving kernels (reshape, transpose, slice, concat, pack/unpack, split, tile, broadcast,
 * reverse, pad, gather and scatter-update with constant indices) are recorded as element maps by
 * running the same kernel again on inputs that hold their element numbers (exact in float32 below
 * 2^24 elements).
 * A `GatherV2` whose indices are computed from the inputs (a discrete value held as an input, as
 * the Gibbs kernels record it) is recorded as a kernel node, replayed by `structural.ts`.
 *
 * The contract is NumPyro's for `jit`: the kernels the function runs and their shapes must not
 * depend on the input values (no host reads of them that steer control flow). The caller checks
 * the replay against tfjs at several points.
 */
import * as tf from '@tensorflow/tfjs';
import { sizeOf, type TapeNode, type TapeProgram } from './program.js';

/** Kernels recorded as element maps; the input named `indices` stays a constant operand. */
export const ELEMENT_MAP_KERNELS: ReadonlySet<string> = new Set([
  'Reshape',
  'ExpandDims',
  'Squeeze',
  'Identity',
  'Transpose',
  'Tile',
  'BroadcastTo',
  'Slice',
  'StridedSlice',
  'Reverse',
  'Concat',
  'Pack',
  'Unpack',
  'SplitV',
  'GatherV2',
  'GatherNd',
  'TensorScatterUpdate',
  'PadV2',
  'MirrorPad',
]);

/** Kernels whose output depends only on the input's shape: recorded as constants. */
const SHAPE_ONLY_KERNELS: ReadonlySet<string> = new Set(['ZerosLike', 'OnesLike', 'Fill']);

interface KernelParams {
  kernelName?: string;
  inputs: Record<string, tf.Tensor | null | undefined>;
  attrs?: Record<string, unknown>;
}

interface EngineLike {
  runKernelFunc(params: KernelParams): tf.Tensor | tf.Tensor[];
}

/** Why a function could not be recorded. */
export class TapeRecordError extends Error {}

/** A plain-data copy of kernel attributes (numbers, strings, booleans and arrays of them). */
function plainAttrs(attrs: Record<string, unknown> | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (attrs === undefined) return out;
  const ok = (v: unknown): boolean =>
    v === null ||
    typeof v === 'number' ||
    typeof v === 'string' ||
    typeof v === 'boolean' ||
    (Array.isArray(v) && v.every(ok));
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined) continue;
    if (ArrayBuffer.isView(v)) out[k] = Array.from(v as unknown as ArrayLike<number>);
    else if (ok(v)) out[k] = structuredClone(v);
    else throw new TapeRecordError(`kernel attribute '${k}' is not plain data`);
  }
  return out;
}

/** Records the kernels of one run of a function. */
class Recorder {
  readonly nodes: TapeNode[] = [];
  /** tensor id -> node id, for tensors computed from the inputs and captured constants. */
  private readonly traced = new Map<number, number>();
  private readonly consts = new Map<number, number>();

  constructor(private readonly run: (p: KernelParams) => tf.Tensor | tf.Tensor[]) {}

  input(t: tf.Tensor, k: number): number {
    const id = this.push({ op: 'Input', input: k, shape: [...t.shape], dtype: t.dtype });
    this.traced.set(t.id, id);
    return id;
  }

  isTraced(t: tf.Tensor): boolean {
    return this.traced.has(t.id);
  }

  /** The node of `t`: traced, or a constant captured now. */
  nodeOf(t: tf.Tensor): number {
    const n = this.traced.get(t.id) ?? this.consts.get(t.id);
    if (n !== undefined) return n;
    const id = this.push({
      op: 'Const',
      shape: [...t.shape],
      dtype: t.dtype,
      value: Float64Array.from(t.dataSync() as ArrayLike<number>),
    });
    this.consts.set(t.id, id);
    return id;
  }

  private push(n: Partial<TapeNode> & { op: string; shape: number[]; dtype: string }): number {
    this.nodes.push({ inputs: [], inputNames: [], attrs: {}, ...n });
    return this.nodes.length - 1;
  }

  /** Record one kernel call that reads a traced tensor. */
  kernel(p: KernelParams, outs: tf.Tensor[]): void {
    const name = p.kernelName as string;
    const names = Object.keys(p.inputs).filter((k) => p.inputs[k] != null);
    const ins = names.map((k) => p.inputs[k] as tf.Tensor);
    if (SHAPE_ONLY_KERNELS.has(name)) {
      for (const o of outs) this.traced.set(o.id, this.nodeOfConstant(o));
      return;
    }
    const inputs = ins.map((t) => this.nodeOf(t));
    const tracedIndices = ins.some((t, i) => names[i] === 'indices' && this.isTraced(t));
    if (ELEMENT_MAP_KERNELS.has(name) && !(tracedIndices && name === 'GatherV2')) {
      if (tracedIndices) {
        throw new TapeRecordError(`${name} with indices computed from the latents`);
      }
      this.elementMap(p, names, ins, inputs, outs);
      return;
    }
    const attrs = plainAttrs(p.attrs);
    outs.forEach((o, k) => {
      const id = this.push({
        op: name,
        inputs,
        inputNames: names,
        attrs: outs.length > 1 ? { ...attrs, outputIndex: k } : attrs,
        shape: [...o.shape],
        dtype: o.dtype,
      });
      this.traced.set(o.id, id);
    });
  }

  private nodeOfConstant(t: tf.Tensor): number {
    return this.push({
      op: 'Const',
      shape: [...t.shape],
      dtype: t.dtype,
      value: Float64Array.from(t.dataSync() as ArrayLike<number>),
    });
  }

  /** Record an element-moving kernel by running it on element numbers. */
  private elementMap(
    p: KernelParams,
    names: string[],
    ins: tf.Tensor[],
    inputs: number[],
    outs: tf.Tensor[],
  ): void {
    const data = names.map((k) => k !== 'indices');
    const bases: number[] = [];
    let total = 0;
    ins.forEach((t, i) => {
      bases.push(total);
      if (data[i] === true) total += t.size;
    });
    if (total >= 1 << 24) throw new TapeRecordError('an element-moving kernel over 2^24 elements');
    const enc: Record<string, tf.Tensor> = {};
    const made: tf.Tensor[] = [];
    ins.forEach((t, i) => {
      if (data[i] !== true) {
        enc[names[i] as string] = t;
        return;
      }
      const codes = new Float32Array(t.size);
      for (let j = 0; j < t.size; j++) codes[j] = (bases[i] as number) + j + 1;
      const c = tf.tensor(codes, t.shape, 'float32');
      made.push(c);
      enc[names[i] as string] = c;
    });
    const attrs = { ...(p.attrs ?? {}) };
    if ('constantValue' in attrs) attrs.constantValue = 0;
    let coded: tf.Tensor | tf.Tensor[];
    // kernels of a list of tensors (Concat, Pack, AddN) take the list itself as inputs
    const encoded = Array.isArray(p.inputs) ? names.map((k) => enc[k] as tf.Tensor) : enc;
    try {
      coded = this.run({
        kernelName: p.kernelName,
        inputs: encoded as unknown as Record<string, tf.Tensor>,
        attrs,
      });
    } finally {
      tf.dispose(made);
    }
    const codedOuts = Array.isArray(coded) ? coded : [coded];
    outs.forEach((o, k) => {
      const c = codedOuts[k] as tf.Tensor;
      const codes = c.dataSync();
      const fill = o.dataSync();
      const n = o.size;
      const src = new Int32Array(n);
      const idx = new Int32Array(n);
      const value = new Float64Array(n);
      for (let j = 0; j < n; j++) {
        const code = Math.round(codes[j] as number);
        if (code <= 0) {
          src[j] = -1;
          value[j] = fill[j] as number;
          continue;
        }
        let i = ins.length - 1;
        while (i > 0 && (data[i] !== true || (bases[i] as number) >= code)) i--;
        src[j] = i;
        idx[j] = code - 1 - (bases[i] as number);
      }
      const id = this.push({
        op: 'Gather',
        inputs,
        inputNames: names,
        attrs: { kernel: p.kernelName as string },
        shape: [...o.shape],
        dtype: o.dtype,
        src,
        idx,
        value,
      });
      this.traced.set(o.id, id);
    });
    tf.dispose(codedOuts);
  }

  /** Output node of `t`. */
  output(t: tf.Tensor): number {
    return this.nodeOf(t);
  }
}

/**
 * Run `fn(inputs)` once and record it (see the module docs). The result tensors of `fn` are
 * disposed. Throws a {@link TapeRecordError} when a kernel cannot be recorded.
 *
 * @param fn a function of the input tensors returning one or several tensors.
 * @param inputs the input tensors (recorded as program inputs, in order).
 */
export function recordTape(
  fn: (...xs: tf.Tensor[]) => tf.Tensor | tf.Tensor[],
  inputs: tf.Tensor[],
): TapeProgram {
  const engine = tf.engine() as unknown as EngineLike;
  const own = Object.prototype.hasOwnProperty.call(engine, 'runKernelFunc');
  const original = engine.runKernelFunc;
  const run = (p: KernelParams): tf.Tensor | tf.Tensor[] => original.call(engine, p);
  const rec = new Recorder(run);
  const inputIds = inputs.map((t, k) => rec.input(t, k));
  let depth = 0;
  let failure: unknown;
  engine.runKernelFunc = (p: KernelParams): tf.Tensor | tf.Tensor[] => {
    if (depth > 0 || p.kernelName === undefined) return run(p);
    depth += 1;
    let out: tf.Tensor | tf.Tensor[];
    try {
      out = run(p);
    } finally {
      depth -= 1;
    }
    if (failure === undefined) {
      const outs = Array.isArray(out) ? out : [out];
      const ins = Object.values(p.inputs).filter((t): t is tf.Tensor => t != null);
      if (ins.some((t) => rec.isTraced(t))) {
        depth += 1;
        try {
          rec.kernel(p, outs);
        } catch (e) {
          failure = e;
        } finally {
          depth -= 1;
        }
      }
    }
    return out;
  };
  let outputs: number[];
  try {
    outputs = tf.tidy(() => {
      const r = fn(...inputs);
      const rs = Array.isArray(r) ? r : [r];
      return rs.map((t) => rec.output(t));
    });
  } finally {
    if (own) engine.runKernelFunc = original;
    else delete (engine as Partial<EngineLike>).runKernelFunc;
  }
  if (failure !== undefined) throw failure;
  for (const n of rec.nodes) {
    if (n.op !== 'Input' && n.op !== 'Const' && n.op !== 'Gather') continue;
    if (n.value !== undefined && n.value.length !== sizeOf(n.shape) && n.op === 'Const') {
      throw new TapeRecordError('a constant with a size that does not match its shape');
    }
  }
  return { nodes: rec.nodes, inputs: inputIds, outputs };
}

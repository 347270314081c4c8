/**
 * Lazy gradients for tfjs's fused ops (`tf.fused.conv2d`, `tf.fused.matMul`), which every
 * `tf.layers.conv2d` / `tf.layers.dense` uses.
 *
 * Under a gradient tape with a linear activation, tfjs runs these ops through `customGrad`, whose
 * gradient function computes all input gradients eagerly; the tape's pruning (which skips inputs
 * that do not lead to the variables) only sees the results. So the first layer of every network
 * computes the gradient with respect to the data batch and throws it away: for a conv layer on
 * images that is a full transposed convolution (`dx = conv2d_transpose(dy, W)`), for a dense layer
 * `dx = dy Wᵀ`, as much work as the weight gradient itself. PyTorch skips it (`needs_input_grad`).
 *
 * This module returns the same gradients as tfjs, as thunks, so the tape computes only those it
 * needs. With `dy' = dy` (linear) or `dy ⊙ 1[y > 0]` (ReLU):
 *
 * - conv: `∂x = conv2DBackpropInput(x.shape, dy', W)`, `∂W = conv2DBackpropFilter(x, dy', W.shape)`,
 *   `∂b = Σ_{broadcast axes} dy'`;
 * - matmul `y = op(a) op(b)` on the 3-D views: `∂a`, `∂b` as `tf.matMul` of `dy'` with the other
 *   operand (the four transpose cases of tfjs), `∂bias = Σ_{broadcast axes} dy'`.
 *
 * How: the tape node of a fused op is named after its op scope (`fusedConv2d__op`,
 * `fusedMatMul__op`) and a gradient registered under that name replaces the `customGrad`
 * closure. The closure's arguments (strides, pads, transposes) are not passed to a registered
 * gradient, so the engine's `runKernel` is wrapped to remember the attributes of each
 * `FusedConv2D` / `_FusedMatMul` call by its output's data id, and to carry them over the
 * `Identity` copy the engine saves for the backward pass. Pinned to tfjs 4.22.0 (the op
 * structure above); `DEEPPROB_KERNELS=stock` or `DEEPPROB_FUSED_GRADS=0` leaves tfjs as it is.
 *
 * Fused ReLU under a tape: tfjs's fused ops fall back to `conv2d`/`matMul` + `add` + `relu` when a
 * gradient is being recorded with a non-linear activation (three kernels forward, three
 * gradients back). `tf.fused.conv2d` / `tf.fused.matMul` are wrapped so that a ReLU call on 4-D
 * NHWC (conv, dilation 1) or 2-D (matmul) float32 operands with a 1-D bias (or none) runs the one
 * `FusedConv2D` / `_FusedMatMul` kernel on the tape, differentiated by gradients registered for
 * those kernels: `dy' = dy ⊙ 1[y > 0]` (one `DeepprobReluGrad`), then the conv/matmul gradients
 * above and `∂b = Σ_{all but last axis} dy'`. Other calls go to tfjs unchanged.
 */
import * as tf from '@tensorflow/tfjs';
import { RELU_GRAD } from './activation_grad.js';

/** Tape-node name of `tf.fused.conv2d` (its op scope). */
export const FUSED_CONV2D_OP = 'fusedConv2d__op';
/** Tape-node name of `tf.fused.matMul` (its op scope). */
export const FUSED_MATMUL_OP = 'fusedMatMul__op';

type Attrs = Record<string, unknown>;
/** The attribute map `runKernel` takes. */
type KernelAttrs = Parameters<ReturnType<typeof tf.engine>['runKernel']>[2];
type RunKernel = (kernelName: string, inputs: tf.NamedTensorMap, attrs?: Attrs) => unknown;
interface PatchableEngine {
  runKernel: RunKernel;
  state: { gradientDepth: number };
}

/** Attributes of the fused kernel calls recorded on the tape, by output data id. */
const recorded = new WeakMap<object, Attrs>();

/** The attributes recorded for `t` (a fused kernel's output or the engine's saved copy). */
function attrsOf(t: tf.Tensor | undefined, op: string): Attrs {
  const a = t === undefined ? undefined : recorded.get(t.dataId);
  if (a === undefined) {
    throw new Error(
      `deepprob: no attributes recorded for the ${op} output; set DEEPPROB_KERNELS=stock and ` +
        'report this (tfjs internals differ from 4.22.0)',
    );
  }
  return a;
}

/** The first output of a kernel call, when it is a tensor whose data id can key a WeakMap. */
function firstOutput(out: unknown): tf.Tensor | undefined {
  const t = Array.isArray(out) ? (out[0] as unknown) : out;
  return t instanceof tf.Tensor && typeof t.dataId === 'object' && t.dataId !== null
    ? t
    : undefined;
}

/**
 * `dy` through the fused activation, as tfjs's `getFusedDyActivation`: `dy ⊙ 1[y > 0]` for ReLU
 * (`y > 0` exactly where the pre-activation is), in one pass with the pack's `DeepprobReluGrad`
 * where the backend has it.
 */
function dyActivation(dy: tf.Tensor, y: tf.Tensor, activation: unknown): tf.Tensor {
  if (activation === undefined || activation === null || activation === 'linear') return dy;
  if (activation === 'relu') {
    if (
      tf.getKernel(RELU_GRAD, tf.getBackend()) !== undefined &&
      dy.dtype === 'float32' &&
      y.dtype === 'float32'
    ) {
      return tf.engine().runKernel(RELU_GRAD, { dy, x: y }) as tf.Tensor;
    }
    return tf.mul(dy, tf.step(y));
  }
  throw new Error(`Cannot compute gradient for fused activation ${String(activation)}.`);
}

/** Gradient of a broadcast bias, as tfjs's `getFusedBiasGradient`. */
function biasGrad(bias: tf.Tensor, dy: tf.Tensor): tf.Tensor {
  const axes = tf.backend_util.getReductionAxes(bias.shape, dy.shape);
  return tf.reshape(axes.length > 0 ? tf.sum(dy, axes) : dy, bias.shape);
}

/**
 * `dy'` computed once, when the gradient function runs, and shared by its thunks: the tape runs
 * each thunk in its own `tidy`, so a tensor made inside one would be gone for the next; one made
 * here lives until the backward pass's `tidy` ends.
 */
function eager<T>(f: () => T): () => T {
  const v = f();
  return () => v;
}

const thunks = (fns: (() => tf.Tensor)[]): Record<string, () => tf.Tensor> =>
  Object.fromEntries(fns.map((f, i) => [String(i), f]));

function registerConvGrad(): void {
  tf.registerGradient({
    kernelName: FUSED_CONV2D_OP,
    gradFunc: (dy, saved) => {
      const [filter, x4D, y, bias] = saved as [tf.Tensor4D, tf.Tensor4D, tf.Tensor, tf.Tensor?];
      const a = attrsOf(y, FUSED_CONV2D_OP);
      if (a.dataFormat !== undefined && a.dataFormat !== 'NHWC') {
        throw new Error(
          `Error in gradient of fused conv2D: got dataFormat of ${String(a.dataFormat)} but only NHWC is currently supported.`,
        );
      }
      const dil = a.dilations as number | [number, number] | undefined;
      if (dil !== undefined && (Array.isArray(dil) ? dil.some((d) => d !== 1) : dil !== 1)) {
        throw new Error(
          'Error in gradient of fused conv2D: dilation rates greater than 1 are not yet ' +
            `supported in gradients. Got dilations '${String(dil)}'`,
        );
      }
      // dy has the op's output shape (3-D for a 3-D x); the saved y is the kernel's 4-D output
      const g = eager(
        (): tf.Tensor4D =>
          dyActivation(tf.reshape(dy as tf.Tensor, y.shape), y, a.activation) as tf.Tensor4D,
      );
      // tfjs's gradient passes strides and pad only (NHWC, no dimRoundingMode).
      const conv = { strides: a.strides, pad: a.pad, dataFormat: 'NHWC' };
      const fns = [
        () =>
          tf.engine().runKernel('Conv2DBackpropInput', { dy: g(), filter }, {
            ...conv,
            inputShape: x4D.shape,
          } as KernelAttrs) as tf.Tensor,
        () =>
          tf.engine().runKernel('Conv2DBackpropFilter', { x: x4D, dy: g() }, {
            ...conv,
            filterShape: filter.shape,
          } as KernelAttrs) as tf.Tensor,
      ];
      if (bias !== undefined) fns.push(() => biasGrad(bias, g()));
      return thunks(fns);
    },
  });
}

function registerMatMulGrad(): void {
  tf.registerGradient({
    kernelName: FUSED_MATMUL_OP,
    gradFunc: (dy, saved) => {
      const [a3D, b3D, y, bias] = saved as [tf.Tensor3D, tf.Tensor3D, tf.Tensor3D, tf.Tensor?];
      const at = attrsOf(y, FUSED_MATMUL_OP);
      const tA = at.transposeA === true;
      const tB = at.transposeB === true;
      const g = eager(
        (): tf.Tensor3D =>
          dyActivation(tf.reshape(dy as tf.Tensor, y.shape), y, at.activation) as tf.Tensor3D,
      );
      const mm = tf.matMul;
      let da: () => tf.Tensor;
      let db: () => tf.Tensor;
      if (!tA && !tB) {
        da = () => mm(g(), b3D, false, true);
        db = () => mm(a3D, g(), true, false);
      } else if (!tA && tB) {
        da = () => mm(g(), b3D, false, false);
        db = () => mm(g(), a3D, true, false);
      } else if (tA && !tB) {
        da = () => mm(b3D, g(), false, true);
        db = () => mm(a3D, g(), false, false);
      } else {
        da = () => mm(b3D, g(), true, true);
        db = () => mm(g(), a3D, true, true);
      }
      const fns = [da, db];
      if (bias !== undefined) fns.push(() => biasGrad(bias, g()));
      return thunks(fns);
    },
  });
}

/** Arguments of `tf.fused.conv2d` (tfjs 4.22.0). */
interface FusedConvArgs {
  x: tf.Tensor | tf.TensorLike;
  filter: tf.Tensor | tf.TensorLike;
  strides: number | [number, number];
  pad: unknown;
  dataFormat?: string;
  dilations?: number | [number, number];
  dimRoundingMode?: string;
  bias?: tf.Tensor | tf.TensorLike | null;
  activation?: string;
  preluActivationWeights?: tf.Tensor;
  leakyreluAlpha?: number;
}

/** Arguments of `tf.fused.matMul` (tfjs 4.22.0). */
interface FusedMatMulArgs {
  a: tf.Tensor | tf.TensorLike;
  b: tf.Tensor | tf.TensorLike;
  transposeA?: boolean;
  transposeB?: boolean;
  bias?: tf.Tensor | tf.TensorLike | null;
  activation?: string;
  preluActivationWeights?: tf.Tensor;
  leakyreluAlpha?: number;
}

const isF32 = (t: unknown, rank: number): t is tf.Tensor =>
  t instanceof tf.Tensor && t.dtype === 'float32' && t.rank === rank;
const isOne = (d: number | [number, number] | undefined): boolean =>
  d === undefined || (Array.isArray(d) ? d.every((v) => v === 1) : d === 1);

/**
 * Whether a fused ReLU call under a gradient tape can run as the one fused kernel: tfjs falls back
 * to `conv2d`/`matMul` + `add` + `relu` there (three kernels and three gradients) because its
 * `customGrad` cannot differentiate the activation lazily; the kernel-level gradients below can.
 */
function fusibleRelu(activation: string | undefined, prelu: unknown, kernel: string): boolean {
  const engine = tf.engine() as unknown as PatchableEngine;
  return (
    activation === 'relu' &&
    prelu === undefined &&
    engine.state.gradientDepth > 0 &&
    tf.getKernel(kernel, tf.getBackend()) !== undefined &&
    tf.getKernel(RELU_GRAD, tf.getBackend()) !== undefined
  );
}

/** `tf.fused.conv2d` that keeps a ReLU fused under a gradient tape (see {@link fusibleRelu}). */
function fusedConv2dRelu(original: (args: FusedConvArgs) => tf.Tensor) {
  return (args: FusedConvArgs): tf.Tensor => {
    const { x, filter, bias } = args;
    const ok =
      fusibleRelu(args.activation, args.preluActivationWeights, 'FusedConv2D') &&
      isF32(x, 4) &&
      isF32(filter, 4) &&
      x.shape[3] === filter.shape[2] &&
      (args.dataFormat ?? 'NHWC') === 'NHWC' &&
      isOne(args.dilations) &&
      (bias == null || (isF32(bias, 1) && bias.shape[0] === filter.shape[3]));
    if (!ok) return original(args);
    const inputs: tf.NamedTensorMap = { x: x as tf.Tensor, filter: filter as tf.Tensor };
    if (bias != null) inputs.bias = bias as tf.Tensor;
    return tf.engine().runKernel('FusedConv2D', inputs, {
      strides: args.strides,
      pad: args.pad,
      dataFormat: 'NHWC',
      dilations: args.dilations ?? [1, 1],
      dimRoundingMode: args.dimRoundingMode,
      activation: 'relu',
    } as KernelAttrs) as tf.Tensor;
  };
}

/** `tf.fused.matMul` that keeps a ReLU fused under a gradient tape (see {@link fusibleRelu}). */
function fusedMatMulRelu(original: (args: FusedMatMulArgs) => tf.Tensor) {
  return (args: FusedMatMulArgs): tf.Tensor => {
    const { a, b, bias } = args;
    const tA = args.transposeA === true;
    const tB = args.transposeB === true;
    const ok =
      fusibleRelu(args.activation, args.preluActivationWeights, '_FusedMatMul') &&
      isF32(a, 2) &&
      isF32(b, 2) &&
      a.shape[tA ? 0 : 1] === b.shape[tB ? 1 : 0] &&
      (bias == null || (isF32(bias, 1) && bias.shape[0] === b.shape[tB ? 0 : 1]));
    if (!ok) return original(args);
    return tf.tidy(() => {
      const a3 = tf.reshape(a as tf.Tensor, [1, ...(a as tf.Tensor).shape]);
      const b3 = tf.reshape(b as tf.Tensor, [1, ...(b as tf.Tensor).shape]);
      const inputs: tf.NamedTensorMap = { a: a3, b: b3 };
      if (bias != null) inputs.bias = bias as tf.Tensor;
      const y = tf.engine().runKernel('_FusedMatMul', inputs, {
        transposeA: tA,
        transposeB: tB,
        activation: 'relu',
      } as KernelAttrs) as tf.Tensor;
      return tf.reshape(y, y.shape.slice(1));
    });
  };
}

/** Kernel-level gradients of `FusedConv2D` / `_FusedMatMul` (the calls made above). */
function registerKernelGrads(): void {
  tf.registerGradient({
    kernelName: 'FusedConv2D',
    inputsToSave: ['x', 'filter'],
    outputsToSave: [true],
    gradFunc: (dy, saved, attrs) => {
      const [x4D, filter, y] = saved as [tf.Tensor4D, tf.Tensor4D, tf.Tensor];
      const a = attrs as Attrs;
      const g = eager(() => dyActivation(dy as tf.Tensor, y, a.activation) as tf.Tensor4D);
      const conv = { strides: a.strides, pad: a.pad, dataFormat: 'NHWC' };
      const grads = {
        x: () =>
          tf.engine().runKernel('Conv2DBackpropInput', { dy: g(), filter }, {
            ...conv,
            dimRoundingMode: a.dimRoundingMode,
            inputShape: x4D.shape,
          } as KernelAttrs) as tf.Tensor,
        filter: () =>
          tf.engine().runKernel('Conv2DBackpropFilter', { x: x4D, dy: g() }, {
            ...conv,
            dimRoundingMode: a.dimRoundingMode,
            filterShape: filter.shape,
          } as KernelAttrs) as tf.Tensor,
      };
      // the 1-D bias (when there is one) is broadcast over all but the last axis
      return { ...grads, bias: () => tf.sum(g(), [...Array(y.rank - 1).keys()]) };
    },
  });
  tf.registerGradient({
    kernelName: '_FusedMatMul',
    inputsToSave: ['a', 'b'],
    outputsToSave: [true],
    gradFunc: (dy, saved, attrs) => {
      const [a3D, b3D, y] = saved as [tf.Tensor3D, tf.Tensor3D, tf.Tensor];
      const at = attrs as Attrs;
      const tA = at.transposeA === true;
      const tB = at.transposeB === true;
      const g = eager(() => dyActivation(dy as tf.Tensor, y, at.activation) as tf.Tensor3D);
      const mm = tf.matMul;
      const grads = {
        a: () => (tA ? mm(b3D, g(), tB, true) : mm(g(), b3D, false, !tB)),
        b: () => (tB ? mm(g(), a3D, true, tA) : mm(a3D, g(), !tA, false)),
      };
      // the 1-D bias (when there is one) is broadcast over all but the last axis
      return { ...grads, bias: () => tf.sum(g(), [...Array(y.rank - 1).keys()]) };
    },
  });
}

const RECORDED_KERNELS = new Set(['FusedConv2D', '_FusedMatMul']);
let installed = false;

/** Set `obj[key] = value` when the property is writable; false (nothing changed) when not. */
function tryReplace<T extends object, K extends keyof T>(obj: T, key: K, value: T[K]): boolean {
  try {
    obj[key] = value;
  } catch {
    return false;
  }
  return obj[key] === value;
}

/**
 * Install the lazy fused-op gradients (idempotent; global: the gradient registry and the engine
 * are shared by all backends). Skipped on a tfjs other than `pinnedVersion`.
 *
 * @param pinnedVersion the tfjs version whose fused-op structure this mirrors.
 * @returns whether the gradients are installed.
 */
export function installFusedOpGrads(pinnedVersion: string): boolean {
  if (installed) return true;
  if (tf.version.tfjs !== pinnedVersion) return false;
  const engine = tf.engine() as unknown as PatchableEngine;
  const run = engine.runKernel.bind(engine) as RunKernel;
  engine.runKernel = (kernelName, inputs, attrs) => {
    const out = run(kernelName, inputs, attrs);
    if (engine.state.gradientDepth > 0) {
      if (RECORDED_KERNELS.has(kernelName) && attrs !== undefined) {
        const t = firstOutput(out);
        if (t !== undefined) recorded.set(t.dataId, attrs);
      } else if (kernelName === 'Identity') {
        // the engine saves a copy (clone -> Identity) of the output for the backward pass
        const x = inputs.x;
        const a = x === undefined ? undefined : recorded.get(x.dataId);
        const t = a === undefined ? undefined : firstOutput(out);
        if (a !== undefined && t !== undefined) recorded.set(t.dataId, a);
      }
    }
    return out;
  };
  registerConvGrad();
  registerMatMulGrad();
  registerKernelGrads();
  const fused = tf.fused as unknown as {
    conv2d: (args: FusedConvArgs) => tf.Tensor;
    matMul: (args: FusedMatMulArgs) => tf.Tensor;
  };
  // CommonJS builds (Node) expose `tf.fused` as a plain object; ES module namespaces (bundled
  // browser builds) are read-only, and there the ReLU stays split under a tape as in stock tfjs
  tryReplace(fused, 'conv2d', fusedConv2dRelu(fused.conv2d));
  tryReplace(fused, 'matMul', fusedMatMulRelu(fused.matMul));
  installed = true;
  return true;
}

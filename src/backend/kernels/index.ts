/**
 * deepprob's kernel pack: fast replacements for backend kernels that are slow or missing.
 * `DEEPPROB_KERNELS=stock` turns it off for comparison.
 *
 * The pack composes the wasm backend's own kernels through its internals (data map, heap), so it
 * is pinned to one tfjs version: installing it on another version throws instead of running
 * silently slow or wrong.
 */
import * as tf from '@tensorflow/tfjs';
import { version_wasm } from '@tensorflow/tfjs-backend-wasm';
import { getEnv } from '../env.js';
import { tfjsCompatibility } from '../tfjs_version.js';
import { captureStock } from './wasm_util.js';
import { conv2dBackpropFilterKernel } from './conv2d_backprop_filter.js';
import { conv2dBackpropInputKernel } from './conv2d_backprop_input.js';
import { batchMatMulKernel, fusedMatMulKernel } from './batch_matmul.js';
import { avgPoolGradCpu, avgPoolGradKernel, maxPoolGradKernel } from './pool_grad.js';
import { wrapKernelOnce } from './wrap_kernel.js';
import { ADAM_KERNEL, adamWasm, installFusedAdam } from './adam.js';
import { installExactAdamRestore } from '../adam_restore.js';
import { RANDOM_NORMAL_KERNEL, randomNormalCpu, randomNormalWasm } from './random_normal.js';
import {
  klSoftplusNormalKernels,
  localReparamKernels,
  softplusReparamKernels,
  softplusSquareKernels,
} from './variational.js';
import { normalKernels } from './normal.js';
import type { HostKernel } from './host.js';
import { activationGradKernels, installActivationGrads } from './activation_grad.js';
import { installFusedOpGrads } from './fused_op_grads.js';
import { installScatterGrads } from './scatter_grads.js';
import { installTileGrad } from './tile_grad.js';
import { installEinsumGrad } from './einsum_grad.js';
import { maxPoolKernel, reluKernel, sigmoidKernel, softplusKernel } from './simd_forward.js';
import { identityKernel } from './identity.js';
import { conv2dSimdKernel } from './conv2d_simd.js';
import { padKernel } from './pad.js';
import { EMPTY_REDUCE_IDENTITY, emptyReduceKernel } from './empty_reduce.js';
import { preciseReduceKernel } from './precise_reduce.js';
import {
  depthwiseBackpropFilterKernel,
  depthwiseBackpropInputKernel,
} from './depthwise_backprop.js';

/** The exact tfjs version the kernel pack was written and tested against. */
export const PINNED_TFJS_VERSION = '4.22.0';

type KernelFunc = tf.KernelConfig['kernelFunc'];

/** A kernel of the pack: its name and a factory given the kernel it replaces (if any). */
interface PackKernel {
  kernelName: string;
  make(previous: KernelFunc | undefined): KernelFunc;
}

/** The kernels the pack installs on the wasm backend. */
const WASM_PACK: PackKernel[] = [
  { kernelName: 'Conv2D', make: conv2dSimdKernel(false) },
  { kernelName: 'FusedConv2D', make: conv2dSimdKernel(true) },
  { kernelName: 'Conv2DBackpropFilter', make: conv2dBackpropFilterKernel },
  { kernelName: 'Conv2DBackpropInput', make: conv2dBackpropInputKernel },
  { kernelName: 'BatchMatMul', make: batchMatMulKernel },
  { kernelName: '_FusedMatMul', make: fusedMatMulKernel },
  { kernelName: 'MaxPoolGrad', make: maxPoolGradKernel },
  { kernelName: 'Relu', make: reluKernel },
  { kernelName: 'Softplus', make: softplusKernel },
  { kernelName: 'Sigmoid', make: sigmoidKernel },
  { kernelName: 'Identity', make: identityKernel },
  { kernelName: 'MaxPool', make: maxPoolKernel },
  { kernelName: 'PadV2', make: padKernel },
  { kernelName: 'AvgPoolGrad', make: avgPoolGradKernel },
  { kernelName: 'DepthwiseConv2dNativeBackpropFilter', make: depthwiseBackpropFilterKernel },
  { kernelName: 'DepthwiseConv2dNativeBackpropInput', make: depthwiseBackpropInputKernel },
  { kernelName: RANDOM_NORMAL_KERNEL, make: () => randomNormalWasm },
  { kernelName: ADAM_KERNEL, make: () => adamWasm },
  ...Object.keys(EMPTY_REDUCE_IDENTITY).map((kernelName) => ({
    kernelName,
    // long float32 sums in float64 (precise_reduce.ts), empty ones by the identity
    make:
      kernelName === 'Sum'
        ? (previous: KernelFunc | undefined) =>
            preciseReduceKernel('Sum')(emptyReduceKernel('Sum')(previous))
        : emptyReduceKernel(kernelName),
  })),
  { kernelName: 'Mean', make: preciseReduceKernel('Mean') },
];

/** Host-loop kernels of the pack, installed on both the wasm and the cpu backend. */
const HOST_KERNELS: Record<string, HostKernel> = {
  ...softplusReparamKernels,
  ...klSoftplusNormalKernels,
  ...localReparamKernels,
  ...softplusSquareKernels,
  ...normalKernels,
  ...activationGradKernels,
};

const installed = new Set<string>();

/** Register the host-loop kernels on `backendName` (`'wasm'` or `'cpu'`) where missing. */
function installHostKernels(backendName: 'wasm' | 'cpu'): void {
  for (const [kernelName, k] of Object.entries(HOST_KERNELS)) {
    if (tf.getKernel(kernelName, backendName) !== undefined) continue;
    tf.registerKernel({ kernelName, backendName, kernelFunc: k[backendName] });
  }
}

/**
 * Throw unless the installed tfjs and tfjs-backend-wasm are the pinned version.
 *
 * @param versions the versions to check (defaults to the installed ones).
 */
export function checkPinnedVersion(
  versions: { tfjs: string; wasm: string } = { tfjs: tf.version.tfjs, wasm: version_wasm },
): void {
  if (versions.tfjs !== PINNED_TFJS_VERSION || versions.wasm !== PINNED_TFJS_VERSION) {
    throw new Error(
      `deepprob: the fast kernel pack is pinned to @tensorflow/tfjs ${PINNED_TFJS_VERSION} ` +
        `(found tfjs ${versions.tfjs}, tfjs-backend-wasm ${versions.wasm}). Install ` +
        `@tensorflow/tfjs@${PINNED_TFJS_VERSION} and @tensorflow/tfjs-backend-wasm@${PINNED_TFJS_VERSION}, ` +
        `or set DEEPPROB_KERNELS=stock to run without the pack.`,
    );
  }
}

/** The names of the kernels the pack replaces on `backendName`. */
export function packKernelNames(backendName = 'wasm'): string[] {
  if (backendName === 'cpu') return [RANDOM_NORMAL_KERNEL, ...Object.keys(HOST_KERNELS)];
  return backendName === 'wasm'
    ? [...WASM_PACK.map((k) => k.kernelName), ...Object.keys(HOST_KERNELS)]
    : [];
}

/**
 * Install the kernel pack on `backendName` (idempotent). Returns which kernels are active.
 *
 * @param backendName the tfjs backend just initialised (the pack targets `wasm`).
 * @returns `'fast'` when the pack is active, `'stock'` otherwise (with `DEEPPROB_KERNELS=stock`, or
 *   when the installed tfjs is outside the tested range: see `tfjs_version.ts`).
 * @example
 * ```ts
 * await tf.setBackend('wasm');
 * installKernelPack('wasm'); // 'fast'
 * ```
 */
export function installKernelPack(backendName: string): 'fast' | 'stock' {
  // gradients tfjs lacks (correctness, not speed: installed whatever the pack)
  installScatterGrads();
  installTileGrad();
  installEinsumGrad();
  if (getEnv('DEEPPROB_KERNELS') === 'stock' || !tfjsCompatibility().supported) return 'stock';
  if (tf.getKernel(RANDOM_NORMAL_KERNEL, 'cpu') === undefined) {
    tf.registerKernel({
      kernelName: RANDOM_NORMAL_KERNEL,
      backendName: 'cpu',
      kernelFunc: randomNormalCpu,
    });
  }
  installHostKernels('cpu');
  wrapKernelOnce('AvgPoolGrad', 'cpu', () => avgPoolGradCpu);
  installActivationGrads();
  installExactAdamRestore();
  if (getEnv('DEEPPROB_FUSED_GRADS') !== '0') installFusedOpGrads(PINNED_TFJS_VERSION);
  if (backendName !== 'wasm') return 'stock';
  checkPinnedVersion();
  installHostKernels('wasm');
  for (const k of WASM_PACK) {
    if (installed.has(k.kernelName)) continue;
    const previous = captureStock(k.kernelName);
    if (previous !== undefined) tf.unregisterKernel(k.kernelName, 'wasm');
    tf.registerKernel({
      kernelName: k.kernelName,
      backendName: 'wasm',
      kernelFunc: k.make(previous),
    });
    installed.add(k.kernelName);
  }
  installFusedAdam();
  return 'fast';
}

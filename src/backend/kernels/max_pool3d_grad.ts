/**
 * `MaxPool3DGrad` (the gradient of `tf.maxPool3d`) as a host loop for the cpu and wasm backends.
 *
 * tfjs 4.22's cpu kernel flattens the position of each window's maximum as
 * `d·h_f·w_f + r·h_f + c` (the filter *height* where the width belongs), so for every window
 * whose height and width differ the gradient goes to the wrong input (errors ~2 on unit-normal
 * inputs with a `1x2x1` window); the wasm kernel is wrong in most configurations (112 of 131
 * random windows, strides and paddings). This kernel routes each output's incoming gradient to
 * the input at its window's maximum:
 *
 * $$\frac{\partial L}{\partial x_p} = \sum_{o\,:\,p = \arg\max_{q \in W(o)} x_q}
 * \frac{\partial L}{\partial y_o},$$
 *
 * `W(o)` the window of output `o` (clipped to the input; the last maximum in depth, row, column
 * order on ties, as tfjs's forward position search).
 */
import * as tf from '@tensorflow/tfjs';
import { hostKernel } from './host.js';

type KernelFunc = tf.KernelConfig['kernelFunc'];

interface Pool3DAttrs {
  filterSize: number | [number, number, number];
  strides: number | [number, number, number];
  pad: 'valid' | 'same' | number;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/** Fill `dx` (`[N, D, H, W, C]`) with the routed gradient of `dy` for the pooling `info`. */
export function maxPool3dGradLoop(
  dy: Float32Array,
  x: Float32Array,
  dx: Float32Array,
  info: tf.backend_util.Conv3DInfo,
): void {
  dx.fill(0);
  const { inDepth: D, inHeight: H, inWidth: W, inChannels: C } = info;
  const { outDepth: OD, outHeight: OH, outWidth: OW } = info;
  const { front, top, left } = info.padInfo;
  let o = 0;
  for (let b = 0; b < info.batchSize; b++)
    for (let od = 0; od < OD; od++)
      for (let oh = 0; oh < OH; oh++)
        for (let ow = 0; ow < OW; ow++)
          for (let c = 0; c < C; c++, o++) {
            let best = -Infinity;
            let at = -1;
            const d0 = od * info.strideDepth - front;
            const h0 = oh * info.strideHeight - top;
            const w0 = ow * info.strideWidth - left;
            for (let i = 0; i < info.effectiveFilterDepth; i += info.dilationDepth) {
              const d = d0 + i;
              if (d < 0 || d >= D) continue;
              for (let j = 0; j < info.effectiveFilterHeight; j += info.dilationHeight) {
                const h = h0 + j;
                if (h < 0 || h >= H) continue;
                for (let k = 0; k < info.effectiveFilterWidth; k += info.dilationWidth) {
                  const w = w0 + k;
                  if (w < 0 || w >= W) continue;
                  const p = (((b * D + d) * H + h) * W + w) * C + c;
                  const v = x[p] as number;
                  if (v >= best) {
                    best = v;
                    at = p;
                  }
                }
              }
            }
            if (at >= 0) dx[at] = (dx[at] as number) + (dy[o] as number);
          }
}

/** The kernel function of {@link maxPool3dGradLoop} on `backendName` (`'wasm'` or `'cpu'`). */
export function maxPool3dGradKernel(backendName: 'wasm' | 'cpu'): KernelFunc {
  return (args) => {
    const { input } = args.inputs as { input: tf.TensorInfo };
    const a = args.attrs as unknown as Pool3DAttrs;
    const info = tf.backend_util.computePool3DInfo(
      input.shape as [number, number, number, number, number],
      a.filterSize,
      a.strides,
      1,
      a.pad,
      a.dimRoundingMode,
    );
    const k = hostKernel<Pool3DAttrs>({
      inputs: ['dy', 'input'],
      outputShapes: () => [input.shape],
      loop: ([dy, x], [dx]) => maxPool3dGradLoop(dy!, x!, dx!, info),
    });
    return k[backendName](args);
  };
}

const installed = new Set<string>();

/** Register {@link maxPool3dGradKernel} as `backendName`'s `MaxPool3DGrad` (cpu and wasm). */
export function installMaxPool3DGrad(backendName: string): void {
  if (backendName !== 'wasm' && backendName !== 'cpu') return;
  if (installed.has(backendName) || tf.findBackend(backendName) === null) return;
  installed.add(backendName);
  if (tf.getKernel('MaxPool3DGrad', backendName) !== undefined) {
    tf.unregisterKernel('MaxPool3DGrad', backendName);
  }
  tf.registerKernel({
    kernelName: 'MaxPool3DGrad',
    backendName,
    kernelFunc: maxPool3dGradKernel(backendName),
  });
}

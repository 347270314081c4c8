/**
 * Gradients of `tf.image.resizeBilinear` and `tf.image.resizeNearestNeighbor` (tfjs 4.22 gets
 * them wrong).
 *
 * Measured against the exact adjoint of the forward kernels (float64, every flag combination):
 * the wasm `ResizeBilinearGrad` and `ResizeNearestNeighborGrad` ignore `halfPixelCenters` (wrong
 * in every such case: PyTorch's `interpolate(align_corners=False)` is this mode), the wasm
 * nearest-neighbour gradient is zero with `alignCorners` and a dimension of size 1; the cpu
 * bilinear gradient has its height and width swapped for non-square images (it throws) and the
 * cpu nearest-neighbour gradient is wrong in most configurations and never returns for an input
 * dimension of size 1 with `alignCorners`.
 *
 * Both resizes are separable linear maps, `y[n, i, j, c] = Σ_{h, w} R[i, h] C[j, w] x[n, h, w, c]`,
 * with `R` (`[out_h, in_h]`) and `C` (`[out_w, in_w]`) the row and column interpolation weights
 * (one 1 per row for nearest neighbour, two weights summing to 1 for bilinear). The gradient is
 * the adjoint
 *
 * $$\frac{\partial L}{\partial x[n, h, w, c]} = \sum_{i, j} R[i, h]\, \frac{\partial L}{\partial
 * y[n, i, j, c]}\, C[j, w],\qquad \mathrm{d}x = R^\top\, \mathrm{d}y\, C \text{ per image and
 * channel,}$$
 *
 * and `R`, `C` are read off the forward kernel itself (resizing the identity: `in_h` images of
 * height `in_h` and width 1 give `Rᵀ`, likewise `Cᵀ`), so the gradient is the adjoint of what the
 * forward computes on every backend, for every flag.
 */
import * as tf from '@tensorflow/tfjs';

interface ResizeAttrs {
  alignCorners: boolean;
  halfPixelCenters: boolean;
  size: [number, number];
}

type Resize = (
  images: tf.Tensor4D,
  size: [number, number],
  alignCorners: boolean,
  halfPixelCenters: boolean,
) => tf.Tensor4D;

/**
 * `Mᵀ` (`[n, out]`) of a resize along one axis: the forward applied to the `n` unit images of
 * length `n` along that axis (length 1 along the other).
 */
function axisWeightsT(
  resize: Resize,
  n: number,
  out: number,
  axis: 'rows' | 'cols',
  a: ResizeAttrs,
): tf.Tensor2D {
  return tf.tidy(() => {
    const eye = tf.eye(n);
    const images = axis === 'rows' ? tf.reshape(eye, [n, n, 1, 1]) : tf.reshape(eye, [n, 1, n, 1]);
    const size: [number, number] = axis === 'rows' ? [out, 1] : [1, out];
    return tf.reshape(resize(images as tf.Tensor4D, size, a.alignCorners, a.halfPixelCenters), [
      n,
      out,
    ]) as tf.Tensor2D;
  });
}

/**
 * `dx = Rᵀ dy C` for a separable resize of `images` (`[N, H, W, C]`) to `dy`'s `[N, H', W', C]`
 * (`resize` is the forward op, probed for `R` and `C`).
 */
export function separableResizeAdjoint(
  resize: Resize,
  dy: tf.Tensor4D,
  imagesShape: readonly number[],
  attrs: ResizeAttrs,
): tf.Tensor4D {
  return tf.tidy(() => {
    const [, h, w] = imagesShape as [number, number, number, number];
    const [, oh, ow] = dy.shape;
    const rT = axisWeightsT(resize, h, oh, 'rows', attrs); // [H, H']
    const cT = axisWeightsT(resize, w, ow, 'cols', attrs); // [W, W']
    const t = tf.transpose(dy, [0, 3, 1, 2]); // [N, C, H', W']
    const rows = tf.matMul(rT, t); // [N, C, H, W']
    const both = tf.matMul(rows, cT, false, true); // [N, C, H, W]
    return tf.transpose(both, [0, 2, 3, 1]) as tf.Tensor4D;
  });
}

let installed = false;

/**
 * Register the adjoint gradients of `ResizeBilinear` and `ResizeNearestNeighbor` (idempotent; any
 * backend), replacing tfjs's.
 */
export function installResizeGradients(): void {
  if (installed) return;
  installed = true;
  const ops: [string, Resize][] = [
    ['ResizeBilinear', (x, s, a, h) => tf.image.resizeBilinear(x, s, a, h)],
    ['ResizeNearestNeighbor', (x, s, a, h) => tf.image.resizeNearestNeighbor(x, s, a, h)],
  ];
  for (const [kernelName, resize] of ops) {
    tf.registerGradient({
      kernelName,
      inputsToSave: ['images'],
      gradFunc: (dy, saved, attrs) => {
        const [images] = saved as [tf.Tensor];
        const a = attrs as unknown as ResizeAttrs;
        const d = dy as tf.Tensor;
        return {
          // the ops hand the kernels 4-D images (a 3-D image is reshaped to a batch of one)
          images: () => separableResizeAdjoint(resize, d as tf.Tensor4D, images.shape, a),
        };
      },
    });
  }
}

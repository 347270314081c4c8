import * as tf from '@tensorflow/tfjs';
import { ready } from '../src/index.js';
await ready();
function time(f: () => tf.Tensor, n = 10): number {
  for (let i = 0; i < 3; i++) f().dispose();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const t = f();
    t.dataSync();
    t.dispose();
  }
  return (performance.now() - t0) / n;
}
const run = (name: string, inputs: Record<string, tf.Tensor>, attrs: object) => () =>
  tf.engine().runKernel(name, inputs, attrs as tf.NamedAttrMap) as tf.Tensor;
const B = 256;
for (const [H, cin, cout, pad] of [
  [28, 1, 6, 'same'],
  [14, 6, 16, 'valid'],
] as const) {
  const x = tf.randomNormal([B, H, H, cin]);
  const w = tf.randomNormal([5, 5, cin, cout]);
  const y = tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, pad);
  const dy = tf.randomNormal(y.shape);
  console.log(
    `conv ${H} ${cin}->${cout}`,
    'fwd',
    time(
      run('Conv2D', { x, filter: w }, { strides: 1, pad, dilations: 1, dataFormat: 'NHWC' }),
    ).toFixed(2),
    'bpF',
    time(
      run(
        'Conv2DBackpropFilter',
        { x, dy },
        { strides: 1, pad, dataFormat: 'NHWC', filterShape: w.shape },
      ),
    ).toFixed(2),
    'bpI',
    time(
      run(
        'Conv2DBackpropInput',
        { dy, filter: w },
        { strides: 1, pad, dataFormat: 'NHWC', inputShape: x.shape },
      ),
    ).toFixed(2),
    'xT',
    time(() => tf.transpose(x, [3, 1, 2, 0])).toFixed(2),
    'dyT',
    time(() => tf.transpose(dy, [1, 2, 0, 3])).toFixed(2),
    'maxpool',
    time(() => tf.maxPool(y as tf.Tensor4D, 2, 2, 'valid')).toFixed(2),
    'relu',
    time(() => tf.relu(y)).toFixed(2),
    'biasadd',
    time(() => tf.add(y, tf.ones([cout]))).toFixed(2),
  );
  const yp = tf.maxPool(y as tf.Tensor4D, 2, 2, 'valid');
  const dyp = tf.randomNormal(yp.shape);
  console.log(
    '  maxpoolgrad',
    time(
      run(
        'MaxPoolGrad',
        { dy: dyp, input: y, output: yp },
        { filterSize: 2, strides: 2, pad: 'valid' },
      ),
    ).toFixed(2),
    'sum over batch (bias grad)',
    time(() => tf.sum(dy, [0, 1, 2])).toFixed(2),
  );
}

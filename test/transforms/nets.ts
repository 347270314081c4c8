/**
 * Small DNNs of the four families the transform is validated on (as MindSpore's: LeNet, VGG,
 * ResNet, MobileNet), with non-trivial batch-norm statistics so that weight copying is tested.
 */
import * as tf from '@tensorflow/tfjs';
import { lenet5 } from '../../src/models/index.js';

/** Give every batch-norm layer random gamma, beta, moving mean and (positive) moving variance. */
export function randomizeBatchNorm(model: tf.LayersModel): void {
  for (const l of model.layers) {
    if (l.getClassName() !== 'BatchNormalization') continue;
    const ws = l.getWeights();
    const fresh = ws.map((w, i) =>
      i === 3 ? tf.randomUniform(w.shape, 0.5, 2) : tf.randomNormal(w.shape, i === 0 ? 1 : 0, 0.3),
    );
    l.setWeights(fresh);
    tf.dispose(fresh);
  }
}

/** MindSpore's LeNet5 from the model zoo (32x32x1 input, 10 classes). */
export function lenetNet(): tf.LayersModel {
  return lenet5();
}

/** A VGG-style stack: conv-conv-pool twice (one dilated, one strided), dense head with dropout. */
export function vggNet(): tf.LayersModel {
  return tf.sequential({
    name: 'vgg_small',
    layers: [
      tf.layers.conv2d({
        inputShape: [16, 16, 3],
        filters: 8,
        kernelSize: 3,
        padding: 'same',
        activation: 'relu',
        name: 'block1_conv1',
      }),
      tf.layers.conv2d({
        filters: 8,
        kernelSize: 3,
        padding: 'same',
        activation: 'relu',
        name: 'block1_conv2',
      }),
      tf.layers.maxPooling2d({ poolSize: 2, name: 'block1_pool' }),
      tf.layers.conv2d({
        filters: 12,
        kernelSize: 3,
        padding: 'same',
        dilationRate: 2,
        activation: 'relu',
        name: 'block2_conv1',
      }),
      tf.layers.conv2d({
        filters: 12,
        kernelSize: 3,
        strides: 2,
        padding: 'valid',
        activation: 'relu',
        name: 'block2_conv2',
      }),
      tf.layers.flatten({ name: 'flatten' }),
      tf.layers.dense({ units: 32, activation: 'relu', name: 'fc1' }),
      tf.layers.dropout({ rate: 0.3, name: 'drop1' }),
      tf.layers.dense({ units: 10, name: 'predictions' }),
    ],
  });
}

/** A small functional ResNet: stem, an identity block, a projection block, GAP, dropout, dense. */
export function resnetNet(): tf.LayersModel {
  const input = tf.input({ shape: [16, 16, 3], name: 'image' });
  const conv = (filters: number, k: number, strides: number, name: string) =>
    tf.layers.conv2d({ filters, kernelSize: k, strides, padding: 'same', useBias: false, name });
  const bn = (name: string) => tf.layers.batchNormalization({ name });
  const relu = (name: string) => tf.layers.activation({ activation: 'relu', name });
  const apply = (l: tf.layers.Layer, x: tf.SymbolicTensor | tf.SymbolicTensor[]) =>
    l.apply(x) as tf.SymbolicTensor;

  let x = apply(relu('stem_relu'), apply(bn('stem_bn'), apply(conv(8, 3, 1, 'stem_conv'), input)));
  // identity block
  let y = apply(relu('b1_relu1'), apply(bn('b1_bn1'), apply(conv(8, 3, 1, 'b1_conv1'), x)));
  y = apply(bn('b1_bn2'), apply(conv(8, 3, 1, 'b1_conv2'), y));
  x = apply(relu('b1_out'), apply(tf.layers.add({ name: 'b1_add' }), [x, y]));
  // projection block (stride 2)
  y = apply(relu('b2_relu1'), apply(bn('b2_bn1'), apply(conv(16, 3, 2, 'b2_conv1'), x)));
  y = apply(bn('b2_bn2'), apply(conv(16, 3, 1, 'b2_conv2'), y));
  const s = apply(bn('b2_proj_bn'), apply(conv(16, 1, 2, 'b2_proj'), x));
  x = apply(relu('b2_out'), apply(tf.layers.add({ name: 'b2_add' }), [s, y]));
  x = apply(tf.layers.averagePooling2d({ poolSize: 2, name: 'pool' }), x);
  x = apply(tf.layers.globalAveragePooling2d({ name: 'gap' }), x);
  x = apply(tf.layers.dropout({ rate: 0.2, name: 'drop' }), x);
  const out = apply(tf.layers.dense({ units: 10, name: 'logits' }), x);
  const model = tf.model({ inputs: input, outputs: out, name: 'resnet_small' });
  randomizeBatchNorm(model);
  return model;
}

/** A MobileNet-style block: depthwise 3x3 + BN + ReLU6, pointwise 1x1 + BN + ReLU6, a
 * concatenation skip, GAP and a dense classifier (functional). */
export function mobilenetNet(): tf.LayersModel {
  const input = tf.input({ shape: [16, 16, 8], name: 'image' });
  const apply = (l: tf.layers.Layer, x: tf.SymbolicTensor | tf.SymbolicTensor[]) =>
    l.apply(x) as tf.SymbolicTensor;
  let x = apply(
    tf.layers.depthwiseConv2d({ kernelSize: 3, padding: 'same', useBias: false, name: 'dw' }),
    input,
  );
  x = apply(tf.layers.batchNormalization({ name: 'dw_bn' }), x);
  x = apply(tf.layers.reLU({ maxValue: 6, name: 'dw_relu' }), x);
  x = apply(tf.layers.conv2d({ filters: 16, kernelSize: 1, useBias: false, name: 'pw' }), x);
  x = apply(tf.layers.batchNormalization({ name: 'pw_bn' }), x);
  x = apply(tf.layers.reLU({ maxValue: 6, name: 'pw_relu' }), x);
  x = apply(tf.layers.concatenate({ name: 'concat' }), [x, input]);
  x = apply(tf.layers.globalAveragePooling2d({ name: 'gap' }), x);
  const out = apply(tf.layers.dense({ units: 5, activation: 'softmax', name: 'probs' }), x);
  const model = tf.model({ inputs: input, outputs: out, name: 'mobilenet_block' });
  randomizeBatchNorm(model);
  return model;
}

/**
 * A temporal convolution net on `[length, channels]` sequences: a dilated 'same' Conv1D, a
 * strided valid Conv1D with a bias, pooling and a classifier (tfjs 4.22's own Conv1D cannot run
 * `padding: 'causal'`: "not implemented yet"; the Bayesian Conv1D can, test/layers/conv1d).
 */
export function temporalNet(): tf.LayersModel {
  const input = tf.input({ shape: [20, 3], name: 'series' });
  const apply = (l: tf.layers.Layer, x: tf.SymbolicTensor) => l.apply(x) as tf.SymbolicTensor;
  let x = apply(
    tf.layers.conv1d({
      filters: 6,
      kernelSize: 3,
      dilationRate: 2,
      padding: 'same',
      activation: 'relu',
      name: 'dilated',
    }),
    input,
  );
  x = apply(tf.layers.conv1d({ filters: 4, kernelSize: 3, strides: 2, name: 'strided' }), x);
  x = apply(tf.layers.globalAveragePooling1d({ name: 'gap' }), x);
  const out = apply(tf.layers.dense({ units: 3, name: 'logits' }), x);
  return tf.model({ inputs: input, outputs: out, name: 'tcn_small' });
}

/**
 * A small U-Net (segmentation): a strided Conv2D encoder, a Conv2DTranspose decoder ('same',
 * stride 2) concatenated with the encoder's skip, a 'valid' Conv2DTranspose without bias and a
 * per-pixel Dense head (a Dense on the channel axis of an image, a 1x1 convolution; functional).
 */
export function unetNet(): tf.LayersModel {
  const input = tf.input({ shape: [8, 8, 2], name: 'image' });
  const apply = (l: tf.layers.Layer, x: tf.SymbolicTensor | tf.SymbolicTensor[]) =>
    l.apply(x) as tf.SymbolicTensor;
  const e1 = apply(
    tf.layers.conv2d({
      filters: 4,
      kernelSize: 3,
      padding: 'same',
      activation: 'relu',
      name: 'e1',
    }),
    input,
  );
  const e2 = apply(
    tf.layers.conv2d({ filters: 6, kernelSize: 3, strides: 2, padding: 'same', name: 'e2' }),
    e1,
  );
  let x = apply(
    tf.layers.conv2dTranspose({
      filters: 4,
      kernelSize: 3,
      strides: 2,
      padding: 'same',
      activation: 'relu',
      name: 'up',
    }),
    e2,
  );
  x = apply(tf.layers.concatenate({ name: 'skip' }), [x, e1]);
  x = apply(
    tf.layers.conv2dTranspose({
      filters: 3,
      kernelSize: 2,
      padding: 'valid',
      useBias: false,
      name: 'grow',
    }),
    x,
  );
  const out = apply(tf.layers.dense({ units: 2, name: 'head' }), x);
  return tf.model({ inputs: input, outputs: out, name: 'unet_small' });
}

/** The test networks with their input shapes. */
export const NETS: {
  name: string;
  build: () => tf.LayersModel;
  input: number[];
  /**
   * Whether mean mode reproduces the DNN bit for bit (a dilated Conv1D runs as a spread 2-D
   * kernel where tfjs dilates natively: the same sums in another order, within 1 float32 ulp).
   */
  exactMean?: false;
}[] = [
  { name: 'LeNet5', build: lenetNet, input: [32, 32, 1] },
  { name: 'VGG-style', build: vggNet, input: [16, 16, 3] },
  { name: 'ResNet (functional)', build: resnetNet, input: [16, 16, 3] },
  { name: 'MobileNet block', build: mobilenetNet, input: [16, 16, 8] },
  { name: 'temporal Conv1D net', build: temporalNet, input: [20, 3], exactMean: false },
  { name: 'U-Net (Conv2DTranspose)', build: unetNet, input: [8, 8, 2] },
];

/** The graph of a model: per layer, its name, class and the names of its inbound layers. */
export function layerGraph(
  model: tf.LayersModel,
): { name: string; cls: string; inbound: string[][] }[] {
  return model.layers.map((l) => ({
    name: l.name,
    cls: l.getClassName(),
    inbound: l.inboundNodes.map((n) => n.inboundLayers.map((p) => p.name)),
  }));
}

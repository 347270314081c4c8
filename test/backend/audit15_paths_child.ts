/**
 * Child process of `audit15_engine_paths.test.ts`: runs a fixed, seeded workload (convolutions and
 * both gradients, fused and transposed products, pooling, three SGD steps of a small conv net) on
 * the backend `ready()` picks under this process's environment and prints the results as JSON.
 */
import * as tf from '@tensorflow/tfjs';
import { backendInfo, ready } from '../../src/index.js';
import { engineWorkload } from './audit15_workload.js';

await ready();
const out = await engineWorkload();
process.stdout.write(
  JSON.stringify({ info: backendInfo(), tensors: tf.memory().numTensors, out }) + '\n',
);

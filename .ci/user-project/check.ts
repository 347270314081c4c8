// Run by .ci/user-project.sh in a fresh project after the README tour (a new process): loads the
// model the tour saved with file:// and checks what a user relies on, with numbers.
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { layers, ready, toolbox, version } from 'deepprob/node';

const info = await ready();
assert.equal(info.backend, 'wasm');
assert.equal(info.kernels, 'fast', 'the kernel pack runs on the tested tfjs');
const model = await tf.loadLayersModel('file://bnn-model/model.json');
assert.deepEqual(
  model.layers.map((l) => l.getClassName()),
  ['DenseFlipout', 'DenseFlipout'],
);
const bayes = layers.bayesianLayers(model);
assert.equal(bayes.length, 2);
assert.ok(
  Math.abs((bayes[0]?.klScale ?? 0) - 1 / 1000) < 1e-12,
  'compileBayesian set klScale = 1/N',
);

// Accuracy of the MC predictive on a fresh grid (the XOR-like rule of the tour).
const g: number[][] = [];
for (let i = 0; i < 20; i++) {
  for (let j = 0; j < 20; j++) g.push([-1.9 + 0.2 * i, -1.9 + 0.2 * j]);
}
const grid = tf.tensor2d(g);
const before = tf.memory().numTensors;
const probs = toolbox.stochasticPredictor(model).predictSamples(grid, 30);
const d = toolbox.decompose(probs);
const mean = (await d.meanProbs.array()) as number[][];
let correct = 0;
g.forEach(([a, b], i) => {
  const label = (a ?? 0) * (b ?? 0) > 0 ? 1 : 0;
  const p1 = mean[i]?.[1] ?? NaN;
  if ((p1 > 0.5 ? 1 : 0) === label) correct++;
});
const acc = correct / g.length;
assert.ok(acc > 0.85, `MC predictive accuracy on a grid ${acc}`);
// Probabilities (no double softmax): rows sum to 1 and confident points are confident.
const sumT = tf.sum(probs, -1);
const sums = (await sumT.array()) as number[][];
sumT.dispose();
for (const row of sums) for (const s of row) assert.ok(Math.abs(s - 1) < 1e-5);
const ent = (await d.predictiveEntropy.array()) as number[];
const far = g.findIndex(
  ([a, b]) => Math.abs((a ?? 0) - 1.5) < 1e-9 && Math.abs((b ?? 0) - 1.5) < 1e-9,
);
assert.ok((ent[far] ?? 1) < 0.3, `entropy far from the boundary ${ent[far]}`);
tf.dispose([probs, ...Object.values(d)]);
assert.equal(tf.memory().numTensors, before, 'no tensors leaked');
console.log(
  `check: deepprob ${version}, grid accuracy ${acc.toFixed(3)}, entropy at (1.5, 1.5) ${ent[far]?.toFixed(3)}: OK`,
);

/**
 * MindSpore's `UncertaintyEvaluation` on a regression task: a 1-D heteroscedastic problem
 * `y = sin(3x) + eps`, `sd(eps) = 0.05 + 0.3 |x|`, trained on `x in [-1.5, 1.5]` and queried on
 * `[-3, 3]`. A plain MLP is fitted first; the toolbox then
 *
 * - fine-tunes an MC-dropout copy (dropout inserted after the first dense layer) and reports the
 *   variance over 30 passes (epistemic: grows outside the training range), and
 * - trains a heteroscedastic copy with the Kendall–Gal loss and reports its predicted variance
 *   (aleatoric: follows the true noise level `sd(x)^2` inside the training range).
 *
 * Both auxiliary models are saved to `--out` (default examples/out/uncertainty_regression) and
 * reused on the next run (`saveModel: false` loads them when the paths exist).
 *
 *   npx tsx examples/uncertainty_regression.ts [--epochs 60] [--out DIR] [--retrain]
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { makeRng, ready, setSeed, toolbox } from 'deepprob';
import { fileModelStore } from 'deepprob/node';

const { UncertaintyEvaluation } = toolbox;

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? (process.argv[i + 1] as string) : fallback;
}

await ready();
setSeed(1);
const epochs = Number(flag('epochs', '60'));
const out = flag('out', 'examples/out/uncertainty_regression');
const retrain = process.argv.includes('--retrain');

const noiseSd = (x: number): number => 0.05 + 0.3 * Math.abs(x);
const rng = makeRng(3);
const n = 1024;
const xs: number[] = [];
const ys: number[] = [];
for (let i = 0; i < n; i++) {
  const x = -1.5 + 3 * rng();
  const g = Math.sqrt(-2 * Math.log(Math.max(rng(), 1e-12))) * Math.cos(2 * Math.PI * rng());
  xs.push(x);
  ys.push(Math.sin(3 * x) + noiseSd(x) * g);
}
const x = tf.tensor2d(xs, [n, 1]);
const y = tf.tensor2d(ys, [n, 1]);

const model = tf.sequential({
  layers: [
    tf.layers.dense({ inputShape: [1], units: 64, activation: 'relu' }),
    tf.layers.dense({ units: 64, activation: 'relu' }),
    tf.layers.dense({ units: 1 }),
  ],
});
model.compile({ optimizer: tf.train.adam(0.01), loss: 'meanSquaredError' });
await model.fit(x, y, { epochs, batchSize: 64, verbose: 0 });

const epiPath = join(out, 'epistemic');
const alePath = join(out, 'aleatoric');
const haveSaved =
  existsSync(join(epiPath, 'model.json')) && existsSync(join(alePath, 'model.json'));
const evaluation = new UncertaintyEvaluation({
  model,
  trainDataset: { x, y },
  taskType: 'regression',
  epochs,
  epiUncerModelPath: epiPath,
  aleUncerModelPath: alePath,
  saveModel: retrain || !haveSaved,
  store: fileModelStore,
  mcSamples: 30,
  batchSize: 64,
  learningRate: 0.005,
  onEpoch: (which, e, loss) => {
    if ((e + 1) % 20 === 0)
      console.error(`${which} model: epoch ${e + 1}/${epochs}, loss ${loss.toFixed(4)}`);
  },
});
console.error(
  haveSaved && !retrain
    ? `loading auxiliary models from ${out}`
    : `training auxiliary models, saving to ${out}`,
);

const grid = [-3, -2.5, -2, -1.5, -1, -0.5, 0, 0.5, 1, 1.5, 2, 2.5, 3];
const q = tf.tensor2d(grid, [grid.length, 1]);
const epi = await evaluation.evalEpistemicUncertainty(q);
const ale = await evaluation.evalAleatoricUncertainty(q);
const mean = model.predict(q) as tf.Tensor;
const [e, a, m] = [epi.dataSync(), ale.dataSync(), mean.dataSync()];
console.log(
  '    x    mean  epistemic var  aleatoric var  true noise var  (training range |x| <= 1.5)',
);
grid.forEach((g, i) => {
  const inRange = Math.abs(g) <= 1.5 ? '' : '  (extrapolation)';
  console.log(
    `${g.toFixed(2).padStart(5)} ${(m[i] as number).toFixed(3).padStart(7)} ${(e[i] as number).toExponential(3).padStart(14)} ${(a[i] as number).toExponential(3).padStart(14)} ${(noiseSd(g) ** 2).toExponential(3).padStart(15)}${inRange}`,
  );
});
tf.dispose([x, y, q, epi, ale, mean]);
evaluation.dispose();
model.dispose();

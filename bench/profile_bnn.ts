/**
 * Per-kernel profile of one SVI step of the Pyro-seed BNN (examples/bnn.ts: MLP 784-1024-10,
 * Normal(0, 1) priors lifted by `randomModule`, mean-field guide `Normal(mu, softplus(rho))`,
 * `TraceELBO`, Adam(0.01), batch 128) on real MNIST batches:
 *
 *   npx tsx bench/profile_bnn.ts [profiledSteps=3] [timedSteps=20]
 *
 * Prints the wall time of unprofiled steps (mean and median ms/step, images/s), the process CPU
 * time per step (all threads: steadier than wall time on a shared machine) and a markdown table
 * of the kernels by total time (tf.profile). `BNN_TRACE=1` also lists, in order, every kernel of
 * one step that touches >= 1000 elements, with its shapes.
 */
import * as tf from '@tensorflow/tfjs';
import { ready } from '../src/index.js';
import { Categorical } from '../src/distributions/categorical.js';
import { Normal } from '../src/distributions/normal.js';
import { param, sample } from '../src/ppl/runtime.js';
import { randomModule, type LiftedNetwork } from '../src/ppl/nn/module.js';
import { SVI } from '../src/ppl/infer/svi.js';
import { TraceELBO } from '../src/ppl/infer/elbo.js';
import { clearParamStore } from '../src/ppl/param_store.js';
import { nextSeed, setSeed } from '../src/utils/seed.js';
import { batches, loadMnist } from '../examples/lib/mnist.js';

const info = await ready();
setSeed(0);
const profiled = Number(process.argv[2] ?? 3);
const timed = Number(process.argv[3] ?? 20);

const net = tf.sequential({
  layers: [
    tf.layers.dense({ inputShape: [784], units: 1024, activation: 'relu', name: 'fc1' }),
    tf.layers.dense({ units: 10, name: 'out' }),
  ],
});
const shapes: Record<string, number[]> = {
  'fc1.kernel': [784, 1024],
  'fc1.bias': [1024],
  'out.kernel': [1024, 10],
  'out.bias': [10],
};
function model(x: tf.Tensor, y: tf.Tensor): void {
  const priors = Object.fromEntries(
    Object.entries(shapes).map(([k, s]) => [k, new Normal(tf.fill(s, 0), tf.fill(s, 1))]),
  );
  const lifted = randomModule('module', net, priors)();
  const lhat = tf.logSoftmax(lifted(x));
  sample('obs', new Categorical({ logits: lhat }, { validateArgs: false }), { obs: y });
}
function guide(): LiftedNetwork {
  const dists: Record<string, Normal> = {};
  for (const [k, s] of Object.entries(shapes)) {
    const mu = param(`${k}.mu`, () => tf.randomNormal(s, 0, 1, 'float32', nextSeed()));
    const sigma = tf.softplus(
      param(`${k}.sigma`, () => tf.randomNormal(s, 0, 1, 'float32', nextSeed())),
    );
    dists[k] = new Normal(mu, sigma, { validateArgs: false });
  }
  return randomModule('module', net, dists)();
}

clearParamStore();
const svi = new SVI(model, guide, tf.train.adam(0.01, 0.9, 0.999, 1e-8), new TraceELBO());
const train = loadMnist('train', 28, 128 * (timed + profiled + 2));
const all = [...batches(train, 128, [784], { seed: 1 })()];
let next = 0;
const step = (): number => {
  const b = all[next++ % all.length]!;
  return svi.step(b.x, b.y);
};
step();
step();
const startTensors = tf.memory().numTensors;
const times: number[] = [];
const cpu0 = process.cpuUsage();
for (let i = 0; i < timed; i++) {
  const t0 = performance.now();
  step();
  times.push(performance.now() - t0);
}
const cpu1 = process.cpuUsage(cpu0);
const cpuMs = (cpu1.user + cpu1.system) / 1000 / timed;
const msStep = times.reduce((a, t) => a + t, 0) / timed;
const median = [...times].sort((a, b) => a - b)[Math.floor(timed / 2)] as number;

const totals = new Map<string, { ms: number; n: number }>();
let wall = 0;
for (let i = 0; i < profiled; i++) {
  const t1 = performance.now();
  const prof = await tf.profile(() => {
    step();
  });
  wall += performance.now() - t1;
  for (const k of prof.kernels) {
    const e = totals.get(k.name) ?? { ms: 0, n: 0 };
    e.ms += k.kernelTimeMs as number;
    e.n += 1;
    totals.set(k.name, e);
  }
}
if (process.env.BNN_TRACE === '1') {
  // the kernels of one step touching >= 1000 elements, in order, with shapes
  const prof = await tf.profile(() => {
    step();
  });
  for (const k of prof.kernels) {
    const size = Math.max(...k.outputShapes.map((s) => (s ?? []).reduce((a, d) => a * d, 1)), 0);
    if (size >= 1000) {
      console.log(
        `${k.name} ${(k.kernelTimeMs as number).toFixed(2)}ms in ${JSON.stringify(k.inputShapes)} out ${JSON.stringify(k.outputShapes)}`,
      );
    }
  }
}
const rows = [...totals.entries()].sort((a, b) => b[1].ms - a[1].ms);
const sum = rows.reduce((a, [, e]) => a + e.ms, 0);
const calls = rows.reduce((a, [, e]) => a + e.n, 0);
console.log(
  [
    `## BNN SVI step (backend ${info.backend}, batch 128)`,
    '',
    `Unprofiled: mean ${msStep.toFixed(1)} ms/step (median ${median.toFixed(1)}) over ${timed} steps = ` +
      `${((128 * 1000) / msStep).toFixed(0)} images/s (median ${((128 * 1000) / median).toFixed(0)}); ` +
      `process CPU time ${cpuMs.toFixed(1)} ms/step (all threads); ` +
      `live tensors ${tf.memory().numTensors} (was ${startTensors}).`,
    `Profiled step ${(wall / profiled).toFixed(1)} ms; kernel time ${(sum / profiled).toFixed(1)} ms in ` +
      `${(calls / profiled).toFixed(0)} kernel calls.`,
    '',
    '| kernel | ms/step | share | calls/step |',
    '|---|---|---|---|',
    ...rows.map(
      ([k, e]) =>
        `| ${k} | ${(e.ms / profiled).toFixed(2)} | ${((100 * e.ms) / sum).toFixed(0)}% | ${(e.n / profiled).toFixed(0)} |`,
    ),
  ].join('\n'),
);
for (const b of all) tf.dispose([b.x, b.y]);
process.exit(0);

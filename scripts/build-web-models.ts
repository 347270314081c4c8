/**
 * Build the browser demo's models: train the Bayesian LeNet5, its plain twin and the evidential
 * LeNet briefly with the deepprob CLI, copy their checkpoints (`model.json` + `weights.bin`) to
 * `web/public/models/<id>/`, then calibrate the "I don't know" thresholds and measure the models
 * in Node, with the page's own prediction code (`web/src/predict.ts`), and write
 * `web/public/models/manifest.json`.
 *
 * Thresholds: the 95th percentile of each score on MNIST test images 5000..5000+N (5 % of
 * in-distribution digits are answered "I don't know"); the page's sample set uses other images.
 *
 * Usage:
 *   npx tsx scripts/build-web-models.ts [--epochs 3] [--limit 20000] [--calib 2000] [--mc 20]
 *                                       [--skip-train] [--no-build] [--only bayes-lenet5,...]
 * Training runs `npm run build`, then `node bin/deepprob.js train ...` into `runs/web/<id>`;
 * `--skip-train` only recalibrates the checkpoints already in `runs/web/`.
 */
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { ready, describeBackend, setSeed, toolbox } from '../src/index.js';
import { transformOf, type TrainConfig } from '../src/app/run_config.js';
import type { Manifest, ModelEntry } from '../web/src/manifest.js';
import { predictBatch, type Prediction } from '../web/src/predict.js';
import type { data } from '../src/index.js';
import { fashionTail, loadModelDir, mnistTest, quantile } from './web-node.js';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const OUT = path.join(ROOT, 'web/public/models');

/** A model of the demo and how the CLI trains it. */
interface Spec {
  id: string;
  title: string;
  kind: ModelEntry['kind'];
  /** `deepprob train` arguments after `--model <id>`. */
  trainArgs: string[];
}

function option(args: string[], name: string, dflt: string): string {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? (args[i + 1] as string) : dflt;
}

function positiveInt(value: string, name: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0)
    throw new Error(`${name}: expected a positive integer, got ${value}`);
  return n;
}

function atomicWrite(file: string, text: string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

/** The run configuration `deepprob train` saved in the checkpoint's `state.json`. */
function readRunConfig(checkpoint: string): TrainConfig {
  const file = path.join(checkpoint, 'state.json');
  if (!existsSync(file)) throw new Error(`${file} missing: not a deepprob train checkpoint`);
  const state = JSON.parse(readFileSync(file, 'utf8')) as { config?: TrainConfig };
  if (state.config === undefined) throw new Error(`${file}: no config`);
  return state.config;
}

/** Whether the last layer of a saved model applies a softmax (else it outputs logits). */
function endsInSoftmax(modelJson: string): boolean {
  const json = JSON.parse(readFileSync(modelJson, 'utf8')) as {
    modelTopology: { model_config?: { config: { layers: { config: { activation?: string } }[] } } };
  };
  const layers = json.modelTopology.model_config?.config.layers ?? [];
  return layers[layers.length - 1]?.config.activation === 'softmax';
}

function train(spec: Spec, epochs: number, limit: number): string {
  const runDir = path.join(ROOT, 'runs/web', spec.id);
  const args = [
    'bin/deepprob.js',
    'train',
    '--model',
    spec.id,
    '--dataset',
    'mnist',
    '--epochs',
    String(epochs),
    '--limit',
    String(limit),
    '--test-limit',
    '2000',
    '--quiet',
    '--seed',
    '1',
    '--out',
    runDir,
    ...spec.trainArgs,
  ];
  console.log(`$ node ${args.join(' ')}`);
  const r = spawnSync(process.execPath, args, { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`training ${spec.id} failed (exit ${r.status})`);
  return `node ${args.join(' ').replace(ROOT + '/', '')}`;
}

function findCheckpoint(runDir: string): string {
  for (const c of [path.join(runDir, 'checkpoint'), runDir]) {
    if (existsSync(path.join(c, 'model.json'))) return c;
  }
  throw new Error(`${runDir}: no model.json (train first or drop --skip-train)`);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const epochs = positiveInt(option(args, '--epochs', '3'), '--epochs');
  const limit = positiveInt(option(args, '--limit', '20000'), '--limit');
  const calib = positiveInt(option(args, '--calib', '2000'), '--calib');
  const mc = positiveInt(option(args, '--mc', '20'), '--mc');
  const skipTrain = args.includes('--skip-train');
  const only = option(args, '--only', '');

  const specs: Spec[] = [
    { id: 'bayes-lenet5', title: 'Bayesian LeNet5', kind: 'bayes', trainArgs: [] },
    { id: 'lenet5', title: 'Plain LeNet5', kind: 'plain', trainArgs: [] },
    { id: 'evidential-lenet', title: 'Evidential LeNet', kind: 'evidential', trainArgs: [] },
  ].filter((s) => only === '' || only.split(',').includes(s.id)) as Spec[];

  if (!skipTrain && !args.includes('--no-build')) {
    // The CLI runs from dist/: compile the current sources first.
    console.log('$ npm run build');
    const b = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
    if (b.status !== 0) throw new Error(`npm run build failed (exit ${b.status})`);
  }

  const info = await ready();
  console.log(describeBackend(info));
  setSeed(1);

  const manifestFile = path.join(OUT, 'manifest.json');
  const previous: Manifest | undefined = existsSync(manifestFile)
    ? (JSON.parse(readFileSync(manifestFile, 'utf8')) as Manifest)
    : undefined;
  const entries = new Map<string, ModelEntry>((previous?.models ?? []).map((m) => [m.id, m]));

  const calibSet = mnistTest(5000, calib);
  const fashion = fashionTail(Math.ceil(calib / 10));
  for (const spec of specs) {
    const runDir = path.join(ROOT, 'runs/web', spec.id);
    const trainedWith = skipTrain
      ? (entries.get(spec.id)?.trainedWith ?? '(unknown)')
      : train(spec, epochs, limit);
    const checkpoint = findCheckpoint(runDir);
    const dest = path.join(OUT, spec.id);
    mkdirSync(dest, { recursive: true });
    const modelJson = JSON.parse(readFileSync(path.join(checkpoint, 'model.json'), 'utf8')) as {
      weightsManifest: { paths: string[] }[];
    };
    for (const f of ['model.json', ...modelJson.weightsManifest.flatMap((g) => g.paths)]) {
      copyFileSync(path.join(checkpoint, f), path.join(dest, `${f}.tmp-${process.pid}`));
      renameSync(path.join(dest, `${f}.tmp-${process.pid}`), path.join(dest, f));
    }

    // The input transform the trainer used (normalisation, padding to 32x32 for LeNet5).
    const cfg = readRunConfig(checkpoint);
    const t = transformOf(cfg, { height: 28, width: 28, channels: 1 } as data.ImageSet);
    const transform: ModelEntry['transform'] = {};
    if (typeof t.normalize === 'string') transform.normalize = t.normalize;
    else if (t.normalize !== undefined)
      throw new Error(`${spec.id}: explicit mean/std not supported`);
    if (t.size !== undefined) transform.size = t.size;
    if (t.resize !== undefined) transform.resize = t.resize;
    const model = await loadModelDir(dest);
    const entry: ModelEntry = {
      id: spec.id,
      title: spec.title,
      kind: spec.kind,
      path: `${spec.id}/model.json`,
      transform,
      outputs: endsInSoftmax(path.join(dest, 'model.json')) ? 'probs' : 'logits',
      thresholds: { entropy: NaN, note: '' },
      trainedWith,
    };
    // deepprob's evidential objective uses softplus evidence (toolbox EvidentialLoss default).
    if (spec.kind === 'evidential') entry.evidence = 'softplus';

    // Scores on in-distribution (MNIST) and out-of-distribution (Fashion-MNIST) images.
    const run = async (images: Float32Array[]): Promise<Prediction[]> => {
      const out: Prediction[] = [];
      for (let i = 0; i < images.length; i += 250) {
        out.push(...(await predictBatch(model, entry, images.slice(i, i + 250), mc)));
      }
      return out;
    };
    const before = tf.memory().numTensors;
    const inD = await run(calibSet.images);
    const ood = await run(fashion);
    if (tf.memory().numTensors !== before) {
      throw new Error(
        `${spec.id}: tensor leak in predictBatch (${before} -> ${tf.memory().numTensors})`,
      );
    }
    const acc = inD.filter((p, i) => p.top === calibSet.labels[i]).length / inD.length;
    const scores: Record<string, (p: Prediction) => number> = { entropy: (p) => p.entropy };
    if (spec.kind === 'bayes') scores.epistemic = (p) => p.epistemic ?? NaN;
    if (spec.kind === 'evidential') scores.u = (p) => p.u ?? NaN;
    const thresholds: ModelEntry['thresholds'] = {
      entropy: quantile(inD.map(scores.entropy as (p: Prediction) => number), 0.95),
      note: `95th percentile on ${calib} MNIST test images (#5000…), ${mc} MC samples`,
    };
    const measured: Record<string, number> = { mnistAccuracy: acc, calibrationImages: calib };
    for (const [name, f] of Object.entries(scores)) {
      const t = quantile(inD.map(f), 0.95);
      if (name === 'epistemic') thresholds.epistemic = t;
      if (name === 'u') thresholds.u = t;
      measured[`auroc_${name}`] = toolbox.auroc(inD.map(f), ood.map(f));
      measured[`fashionFlagged_${name}`] = ood.filter((p) => f(p) > t).length / ood.length;
    }
    if (spec.kind !== 'bayes') thresholds.note = thresholds.note.replace(`, ${mc} MC samples`, '');
    entry.thresholds = thresholds;
    entry.measured = measured;
    entries.set(spec.id, entry);
    console.log(`${spec.id}: ${JSON.stringify({ transform, thresholds, measured })}`);
    model.dispose();
  }

  const order = ['bayes-lenet5', 'lenet5', 'evidential-lenet'];
  const manifest: Manifest = {
    mcSamples: mc,
    models: [...entries.values()].sort((a, b) => order.indexOf(a.id) - order.indexOf(b.id)),
  };
  mkdirSync(OUT, { recursive: true });
  atomicWrite(manifestFile, JSON.stringify(manifest, null, 2) + '\n');
  // Keep the repository's `prettier --check .` green on the copied checkpoint JSON files.
  spawnSync('npx', ['prettier', '--log-level', 'warn', '--write', OUT], {
    cwd: ROOT,
    stdio: 'inherit',
  });
  console.log(`wrote ${path.relative(ROOT, manifestFile)}`);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : e);
  process.exit(1);
});

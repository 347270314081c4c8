/**
 * `deepprob demo` (what `npm start` runs): train MindSpore's Bayesian LeNet-5 on MNIST for one
 * epoch (a few minutes on 2 cores), evaluate it with 10-sample MC prediction and summarise its
 * uncertainty: on correct vs wrong test predictions, and on MNIST vs Fashion-MNIST images it has
 * never seen a class of (out-of-distribution), with the AUROC of the mutual information as an
 * OOD detector.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { auroc } from '../toolbox/ood.js';
import { runEvaluation, runTraining, TRAIN_DEFAULTS } from '../app/index.js';
import type { PerExample } from '../train/evaluate.js';
import { cliReady } from './main.js';
import type { Estimator } from '../layers/estimator_registry.js';
import { estimatorOption, help, pct, ranged } from './options.js';
import { disposeModel } from '../layers/dispose_model.js';

interface DemoOptions {
  epochs: number;
  limit?: number;
  estimator: Estimator;
  out?: string;
  oodLimit: number;
  mcSamples: number;
  quiet?: boolean;
}

function mean(xs: Float32Array, mask?: (i: number) => boolean): number {
  let s = 0;
  let n = 0;
  for (let i = 0; i < xs.length; i++) {
    if (mask !== undefined && !mask(i)) continue;
    s += xs[i] as number;
    n++;
  }
  return n === 0 ? NaN : s / n;
}

/** Mean uncertainties of correct and wrong predictions. */
function splitByCorrect(p: PerExample): {
  right: [number, number];
  wrong: [number, number];
  nWrong: number;
} {
  const ok = (i: number): boolean => p.correct[i] === 1;
  const bad = (i: number): boolean => p.correct[i] === 0;
  let nWrong = 0;
  for (let i = 0; i < p.correct.length; i++) if (p.correct[i] === 0) nWrong++;
  return {
    right: [mean(p.entropy, ok), mean(p.epistemic, ok)],
    wrong: [mean(p.entropy, bad), mean(p.epistemic, bad)],
    nWrong,
  };
}

/** Register `demo` on `program`. */
export function register(program: Command): void {
  program
    .command('demo')
    .description(
      'train a Bayesian LeNet-5 on MNIST (1 epoch), evaluate it and summarise its uncertainty (npm start)',
    )
    .option('--epochs <n>', help('epochs', 'epochs'), ranged('epochs'), 1)
    .option('--limit <n>', help('use only the first N training images', 'limit'), ranged('limit'))
    .option(...estimatorOption('estimator'))
    .option('--mc-samples <n>', help('MC samples', 'mc-samples'), ranged('mc-samples'), 10)
    .option(
      '--ood-limit <n>',
      help('MNIST and Fashion-MNIST test images for the OOD check', 'ood-limit'),
      ranged('ood-limit'),
      2000,
    )
    .option('--out <dir>', 'run directory (default: a new temporary directory)')
    .option('--quiet', 'no progress bar')
    .action(async (o: DemoOptions) => {
      await cliReady(program);
      const out = o.out ?? mkdtempSync(join(tmpdir(), 'deepprob-demo-'));
      console.log(
        `Training a Bayesian LeNet-5 (${o.estimator} estimator, MindSpore's BNNLeNet5 on 32x32 MNIST) ` +
          `for ${o.epochs} epoch(s): Adam lr 1e-3, batch 64, N(0, 0.1) prior, posterior rho init -5, ` +
          'KL weight 1/M per batch (BayesianCNN)...',
      );
      const r = await runTraining(
        {
          ...TRAIN_DEFAULTS,
          model: 'bayes-lenet5',
          estimator: o.estimator,
          dataset: 'mnist',
          epochs: o.epochs,
          mcSamples: o.mcSamples,
          klWeight: 'uniform',
          rhoInit: -5,
          out,
          ...(o.limit !== undefined ? { limit: o.limit } : {}),
        },
        { quiet: o.quiet ?? false, force: true },
      );
      disposeModel(r.model);
      const last = r.records[r.records.length - 1];
      console.log(`\nTrained in ${r.seconds.toFixed(0)} s; checkpoint in ${r.checkpoint}`);
      if (last !== undefined) {
        console.log(`MNIST test accuracy, one weight sample:      ${pct(last.testAccuracy)}`);
        console.log(`MNIST test accuracy, posterior-mean weights: ${pct(last.testAccuracyMean)}`);
        console.log(
          `MNIST test accuracy, ${o.mcSamples}-sample MC predictive: ${pct(last.testAccuracyMc)}`,
        );
      }
      console.log(
        '\nUncertainty (MC predictive; entropy = total, mutual information = epistemic):',
      );
      const ind = await runEvaluation(
        { checkpoint: out, mcSamples: o.mcSamples, limit: o.oodLimit, perExample: true },
        { quiet: true },
      );
      const ood = await runEvaluation(
        {
          checkpoint: out,
          dataset: 'fashion-mnist',
          mcSamples: o.mcSamples,
          limit: o.oodLimit,
          perExample: true,
        },
        { quiet: true },
      );
      const pi = ind.perExample;
      const po = ood.perExample;
      if (pi !== undefined && po !== undefined) {
        const s = splitByCorrect(pi);
        const f = (v: number): string => v.toFixed(3).padStart(8);
        const row = (label: string, a: number, b: number): void =>
          console.log(`${label.padEnd(38)}${f(a)}  ${f(b)}`);
        console.log(`${''.padEnd(38)} entropy  mutual-info`);
        row('MNIST, correct predictions', s.right[0], s.right[1]);
        row(`MNIST, wrong predictions (${s.nWrong})`, s.wrong[0], s.wrong[1]);
        row('Fashion-MNIST (out of distribution)', mean(po.entropy), mean(po.epistemic));
        console.log(
          `OOD detection AUROC (MNIST vs Fashion-MNIST, ${o.oodLimit} each): ` +
            `entropy ${auroc(pi.entropy, po.entropy).toFixed(3)}, ` +
            `mutual information ${auroc(pi.epistemic, po.epistemic).toFixed(3)}`,
        );
      }
    });
}

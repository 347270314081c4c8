/**
 * `deepprob eval`: evaluate a checkpoint on a test set: accuracy with one pass, with the
 * posterior-mean weights and with the MC predictive; NLL, entropy and mutual information.
 */
import type { Command } from 'commander';
import { DATASETS } from '../data/files.js';
import { runEvaluation, type EvalConfig } from '../app/index.js';
import { ECE_BINS } from '../train/evaluate.js';
import { cellNumber } from '../utils/text_table.js';
import { cliReady } from './main.js';
import { help, oneOf, pct, ranged } from './options.js';

/** Options of `deepprob eval`: the evaluation configuration, `--json` and `--quiet`. */
type EvalCliOptions = EvalConfig & { json?: boolean; quiet?: boolean };

/** Register `eval` on `program`. */
export function register(program: Command): void {
  program
    .command('eval')
    .description('evaluate a trained checkpoint on a test set')
    .requiredOption(
      '--checkpoint <dir>',
      'run directory (from train --out) or checkpoint directory',
    )
    .option('--dataset <name>', `dataset (default: the training one): ${DATASETS.join(' | ')}`)
    .option('--data-dir <dir>', 'directory with the dataset files')
    .option(
      '--mc-samples <n>',
      help('MC samples (default: as in training, else 10)', 'mc-samples'),
      ranged('mc-samples'),
    )
    .option('--limit <n>', help('evaluate only the first N test images', 'limit'), ranged('limit'))
    .option(
      '--batch-size <n>',
      help('evaluation batch size', 'batch-size'),
      ranged('batch-size'),
      500,
    )
    .option(
      '--resize <how>',
      "reach the checkpoint's input size by pad | bilinear (default: as its run was trained)",
      oneOf(['pad', 'bilinear'] as const),
    )
    .option('--json', 'print the result as JSON on stdout')
    .option('--quiet', 'no progress lines on stderr (errors and stop messages still show)')
    .addHelpText('after', '\nExample:\n  deepprob eval --checkpoint runs/bnn --mc-samples 20')
    .action(async (o: EvalCliOptions) => {
      await cliReady(program);
      const { json, quiet, ...config } = o;
      void json;
      const r = await runEvaluation(config, { handleSignals: true, quiet: quiet === true });
      if (o.json === true) {
        console.log(JSON.stringify(r));
        return;
      }
      console.log(
        `model ${r.model} on ${r.dataset} (${r.count} images), ${cellNumber(r.seconds, 1)} s`,
      );
      console.log(`accuracy (1 pass): ${pct(r.accuracy)}`);
      if (r.accuracyMean !== undefined)
        console.log(`accuracy (posterior mean): ${pct(r.accuracyMean)}`);
      if (r.accuracyMc !== undefined) {
        console.log(`accuracy (MC, ${r.mcSamples} samples): ${pct(r.accuracyMc)}`);
      }
      console.log(`NLL: ${cellNumber(r.nll, 4)} nats/image`);
      console.log(`ECE (${ECE_BINS} bins): ${cellNumber(r.ece, 4)}`);
      console.log(`mean predictive entropy: ${cellNumber(r.entropy, 4)} nats`);
      if (r.mutualInformation !== undefined) {
        console.log(
          `mean mutual information (epistemic): ${cellNumber(r.mutualInformation, 4)} nats`,
        );
      }
      if (r.evidentialUncertainty !== undefined) {
        console.log(`mean evidential uncertainty K/S: ${cellNumber(r.evidentialUncertainty, 4)}`);
      }
    });
}

/**
 * `deepprob convert`: DNN -> BNN conversion of a model saved by TF.js's `model.save` (a
 * `model.json` with its weight files, e.g. from `tfjs-node`'s `file://` handler or the
 * `tensorflowjs` converter): every Dense and/or Conv2D layer becomes a Bayesian layer whose
 * posterior means are the DNN's weights, the summary is printed, and the Bayesian model is saved
 * (each file written atomically) into `--out`, loadable with `tf.loadLayersModel` once deepprob's
 * layers are imported.
 */
import type { Command } from 'commander';
import { convertFile, type ConvertCliOptions } from '../app/convert.js';
import { cliReady } from './main.js';
import { estimatorOption, help, oneOf, ranged } from './options.js';

/** Register `convert` on `program`. */
export function register(program: Command): void {
  program
    .command('convert')
    .description('convert a TF.js model (model.json from model.save) into a Bayesian one')
    .requiredOption('--model <path>', 'model.json written by model.save (weights next to it)')
    .requiredOption('--out <dir>', 'directory for the Bayesian model.json + weights.bin')
    .option(
      '--layers <which>',
      'layers to convert: dense | conv | all',
      oneOf(['dense', 'conv', 'all'] as const),
      'all',
    )
    .option(...estimatorOption('weight estimator'))
    .option(
      '--moped <delta>',
      help('MOPED posterior std delta*|w| (default 0.1)', 'moped'),
      ranged('moped'),
    )
    .option(
      '--posterior-sigma <s>',
      help('constant initial posterior std instead of MOPED', 'posterior-sigma'),
      ranged('posterior-sigma'),
    )
    .option(
      '--init <how>',
      "posterior means: 'dnn' (the DNN weights) | 'fresh' (random)",
      oneOf(['dnn', 'fresh'] as const),
      'dnn',
    )
    .option('--moped-prior', 'centre each weight prior on its DNN value (MOPED empirical Bayes)')
    .option(
      '--prior-sigma <s>',
      help('prior standard deviation of the Bayesian layers (default 0.1)', 'prior-sigma'),
      ranged('prior-sigma'),
    )
    .option(
      '--exclude <names>',
      'comma-separated names of layers to keep deterministic (e.g. the output layer)',
      (v: string) =>
        v
          .split(',')
          .map((n) => n.trim())
          .filter((n) => n !== ''),
    )
    .option('--quiet', 'no warnings from the conversion (e.g. the dropped DNN regularizers)')
    .addHelpText(
      'after',
      '\nExample:\n  deepprob convert --model runs/lenet/model.json --out runs/bnn --layers all ' +
        '--estimator flipout --moped 0.1',
    )
    .action(async (o: ConvertCliOptions) => {
      await cliReady(program);
      const r = await convertFile(o);
      console.log(r.summary);
      console.log(
        `converted ${r.converted.length} layer(s) (${r.converted.join(', ')}); saved to ${r.out}`,
      );
    });
}

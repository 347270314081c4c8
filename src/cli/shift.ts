/**
 * `deepprob shift`: the dataset-shift and OOD benchmark (rotated and corrupted test images,
 * Fashion-MNIST / uniform noise) of one or more methods built from checkpoints of
 * `deepprob train`: a table on stdout, `shift.json` and `shift.html` (charts) in `--out`.
 */
import type { Command } from 'commander';
import { parseMethodSpec, runShiftBenchmark, type ShiftRunOptions } from '../app/shift/run.js';
import { ArgumentError } from '../utils/errors.js';
import { cliReady } from './main.js';
import { decimal, help, oneOf, ranged } from './options.js';

/** Options of `deepprob shift` as commander parses them. */
interface ShiftCliOptions {
  checkpoint?: string;
  methods?: string[];
  out: string;
  limit: number;
  calibration: number;
  split: 'head' | 'random';
  mcSamples: number;
  families: string;
  angles: string;
  severities: string;
  ood?: string;
  alpha: number;
  score: 'lac' | 'aps' | 'raps';
  trainLimit?: number;
  swagEpochs: number;
  json?: boolean;
  quiet?: boolean;
}

function list(s: string): string[] {
  return s
    .split(',')
    .map((v) => v.trim())
    .filter((v) => v.length > 0);
}

/**
 * The numbers of a comma-separated list flag (`--angles 15,30`): every item a finite number
 * (`Number('ninety')` is NaN: refused, naming the flag and the item).
 */
function numberList(s: string, flag: string): number[] {
  return list(s).map((item) => {
    const v = decimal(item);
    if (item === '' || !Number.isFinite(v)) {
      throw new ArgumentError(flag, `expected comma-separated numbers, got '${item}' in '${s}'`);
    }
    return v;
  });
}

/** Register `shift` on `program`. */
export function register(program: Command): void {
  program
    .command('shift')
    .description(
      'accuracy / NLL / ECE under rotation and corruptions, OOD AUROC and conformal coverage of several methods',
    )
    .option(
      '--checkpoint <dir>',
      'run directory of one model: evaluated as plain (or bayes) when --methods is absent',
    )
    .option(
      '--methods <spec...>',
      'methods as [name=]kind[@scale]:dir[,dir...] (bayes@1.5: posterior std x1.5 at prediction); kinds: plain, temperature, mc-dropout, bayes, ensemble, laplace (KFAC last layer), laplace-diag, laplace-full, laplace-all (KFAC every Dense/Conv2D), laplace-all-diag, swag, multiswag, evidential',
    )
    .option('--out <dir>', 'output directory', 'runs/shift')
    .option('--limit <n>', help('test images per shifted set', 'limit'), ranged('limit'), 1000)
    .option(
      '--calibration <n>',
      help('held-out test images (from index --limit) for conformal / temperature', 'calibration'),
      ranged('calibration'),
      1000,
    )
    .option(
      '--split <how>',
      'test images: head (the first --limit, then --calibration) | random (the same after a seeded shuffle of the whole test split: exchangeable halves)',
      oneOf(['head', 'random'] as const),
      'head',
    )
    .option(
      '--mc-samples <n>',
      help('Monte Carlo samples of stochastic methods', 'mc-samples'),
      ranged('mc-samples'),
      20,
    )
    .option('--families <list>', 'shift families: rotation,corruption', 'rotation,corruption')
    .option(
      '--angles <list>',
      'rotation angles in degrees',
      '15,30,45,60,75,90,105,120,135,150,165,180',
    )
    .option('--severities <list>', 'corruption severities (1..5)', '1,3,5')
    .option(
      '--ood <list>',
      'OOD sets, each a dataset or name:DIR (e.g. kmnist:/data/kmnist) or uniform-noise ' +
        '(default: fashion-mnist, kmnist when its files are in $DEEPPROB_DATA_DIR/kmnist, uniform-noise)',
    )
    .option('--alpha <x>', help('conformal miscoverage level', 'alpha'), ranged('alpha'), 0.05)
    .option(
      '--score <name>',
      'conformal score: lac | aps | raps',
      oneOf(['lac', 'aps', 'raps'] as const),
      'aps',
    )
    .option(
      '--train-limit <n>',
      help('training images for Laplace / SWAG / MC-dropout fine-tuning', 'train-limit'),
      ranged('train-limit'),
    )
    .option(
      '--swag-epochs <n>',
      help('epochs of constant-lr SGD collected by SWAG', 'swag-epochs'),
      ranged('swag-epochs'),
      1,
    )
    .option('--json', 'print the summary as JSON on stdout')
    .option('--quiet', 'no progress lines on stderr (errors and stop messages still show)')
    .addHelpText(
      'after',
      '\nExample:\n  deepprob shift --methods plain:runs/plain laplace:runs/plain bayes:runs/bnn ens=ensemble:runs/p1,runs/p2 --out runs/shift',
    )
    .action(async (o: ShiftCliOptions) => {
      const angles = numberList(o.angles, '--angles');
      const severities = numberList(o.severities, '--severities');
      await cliReady(program);
      const specs =
        o.methods !== undefined
          ? o.methods.map(parseMethodSpec)
          : o.checkpoint !== undefined
            ? [parseMethodSpec(`plain:${o.checkpoint}`)]
            : [];
      const options: ShiftRunOptions = {
        methods: specs,
        out: o.out,
        limit: o.limit,
        calibrationSize: o.calibration,
        split: o.split,
        mcSamples: o.mcSamples,
        families: list(o.families) as ('rotation' | 'corruption')[],
        angles,
        severities,
        ...(o.ood !== undefined ? { ood: list(o.ood) } : {}),
        alpha: o.alpha,
        conformalScore: o.score,
        swagEpochs: o.swagEpochs,
        ...(o.trainLimit !== undefined ? { trainLimit: o.trainLimit } : {}),
        handleSignals: true,
        ...(o.quiet === true ? { log: () => {} } : {}),
      };
      const r = await runShiftBenchmark(options);
      if (o.json === true) console.log(JSON.stringify(r.result.summary));
      else console.log(r.table);
      console.error(`report: ${r.htmlPath}\njson: ${r.jsonPath}`);
    });
}

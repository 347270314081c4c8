/**
 * `deepprob uncertainty`: the uncertainty report of a trained checkpoint: calibration,
 * reliability diagram, uncertainty scores in- vs out-of-distribution with AUROC/AUPR/FPR@95, and
 * a gallery of the most and least certain test images, as `report.html` + `report.json`.
 */
import type { Command } from 'commander';
import { DATASETS } from '../data/files.js';
import { runUncertaintyReport, type UncertaintyRunOptions } from '../app/index.js';
import { cellNumber } from '../utils/text_table.js';
import { cliReady } from './main.js';
import { help, oneOf, pct, ranged } from './options.js';

/** Options of `deepprob uncertainty` as commander parses them: the runner's options, `--bins`, `--json`, `--quiet`. */
type UncertaintyCliOptions = Omit<UncertaintyRunOptions, 'numBins' | 'log'> & {
  bins: number;
  json?: boolean;
  quiet?: boolean;
};

/** Register `uncertainty` on `program`. */
export function register(program: Command): void {
  program
    .command('uncertainty')
    .description(
      'write an HTML + JSON uncertainty report (calibration, OOD detection, gallery) of a checkpoint',
    )
    .requiredOption(
      '--checkpoint <dir>',
      'run directory (from train --out) or checkpoint directory',
    )
    .option(
      '--ood <name>',
      `out-of-distribution test set: ${DATASETS.join(' | ')}, or name:DIR (e.g. kmnist:/data/kmnist)`,
      'fashion-mnist',
    )
    .option('--out <dir>', 'output directory (default <checkpoint>/uncertainty)')
    .option(
      '--mc-samples <n>',
      help('Monte Carlo samples (Bayesian / MC-dropout models)', 'mc-samples'),
      ranged('mc-samples'),
      20,
    )
    .option(
      '--limit <n>',
      help('use only the first N images of each test set', 'limit'),
      ranged('limit'),
    )
    .option(
      '--batch-size <n>',
      help('evaluation batch size', 'batch-size'),
      ranged('batch-size'),
      500,
    )
    .option(
      '--evidence <fn>',
      'evidence function of evidential models: relu | softplus | exp',
      'softplus',
    )
    .option('--bins <n>', help('calibration bins', 'bins'), ranged('bins'), 15)
    .option('--data-dir <dir>', 'directory with the in-distribution dataset files')
    .option(
      '--resize <how>',
      "reach the checkpoint's input size by pad | bilinear (default: as its run was trained)",
      oneOf(['pad', 'bilinear'] as const),
    )
    .option('--json', 'print the summary (metrics and OOD scores) as JSON on stdout')
    .option('--quiet', 'no progress lines on stderr (errors and stop messages still show)')
    .addHelpText(
      'after',
      '\nExample:\n  deepprob uncertainty --checkpoint runs/evidential-lenet --ood fashion-mnist --out runs/report',
    )
    .action(async (o: UncertaintyCliOptions) => {
      await cliReady(program);
      const { bins, json, quiet, ...options } = o;
      void json;
      const { report, htmlPath, jsonPath } = await runUncertaintyReport({
        ...options,
        ...(quiet === true ? { log: () => {} } : {}),
        numBins: bins,
        handleSignals: true,
      });
      const summary = {
        model: report.model.name,
        inDistribution: report.inDistribution,
        outOfDistribution: report.outOfDistribution,
        metrics: report.metrics,
        ood: Object.fromEntries(
          report.scores.map((s) => [s.key, { ...s.ood, meanIn: s.meanIn, meanOut: s.meanOut }]),
        ),
        html: htmlPath,
        json: jsonPath,
      };
      if (o.json === true) {
        console.log(JSON.stringify(summary));
        return;
      }
      const m = report.metrics;
      console.log(`report: ${htmlPath}`);
      console.log(`data:   ${jsonPath}`);
      console.log(
        `${report.inDistribution.name}: accuracy ${pct(m.accuracy)}, NLL ${cellNumber(m.nll, 4)}, Brier ${cellNumber(m.brier, 4)}, ECE ${cellNumber(m.ece, 4)}, MCE ${cellNumber(m.mce, 4)}`,
      );
      for (const s of report.scores) {
        console.log(
          `  ${s.key.padEnd(22)} in ${cellNumber(s.meanIn, 4)} out ${cellNumber(s.meanOut, 4)}  AUROC ${cellNumber(s.ood.auroc, 4)} AUPR ${cellNumber(s.ood.aupr, 4)} FPR@95 ${cellNumber(s.ood.fpr95, 4)}`,
        );
      }
    });
}

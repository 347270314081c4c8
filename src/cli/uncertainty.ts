/**
 * `deepprob uncertainty`: the uncertainty report of a trained checkpoint: calibration,
 * reliability diagram, uncertainty scores in- vs out-of-distribution with AUROC/AUPR/FPR@95, and
 * a gallery of the most and least certain test images, as `report.html` + `report.json`.
 */
import type { Command } from 'commander';
import { DATASETS } from '../data/files.js';
import { runUncertaintyReport, type UncertaintyRunOptions } from '../app/index.js';
import { cliReady } from './main.js';
import { help, oneOf, ranged } from './options.js';

/** Options of `deepprob uncertainty` as commander parses them: the runner's options, `--bins`, `--json`. */
type UncertaintyCliOptions = Omit<UncertaintyRunOptions, 'numBins' | 'log'> & {
  bins: number;
  json?: boolean;
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
    .addHelpText(
      'after',
      '\nExample:\n  deepprob uncertainty --checkpoint runs/evidential-lenet --ood fashion-mnist --out runs/report',
    )
    .action(async (o: UncertaintyCliOptions) => {
      await cliReady(program);
      const { bins, json, ...options } = o;
      void json;
      const { report, htmlPath, jsonPath } = await runUncertaintyReport({
        ...options,
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
        `${report.inDistribution.name}: accuracy ${(100 * m.accuracy).toFixed(2)}%, NLL ${m.nll.toFixed(4)}, Brier ${m.brier.toFixed(4)}, ECE ${m.ece.toFixed(4)}, MCE ${m.mce.toFixed(4)}`,
      );
      for (const s of report.scores) {
        console.log(
          `  ${s.key.padEnd(22)} in ${s.meanIn.toFixed(4)} out ${s.meanOut.toFixed(4)}  AUROC ${s.ood.auroc.toFixed(4)} AUPR ${s.ood.aupr.toFixed(4)} FPR@95 ${s.ood.fpr95.toFixed(4)}`,
        );
      }
    });
}

/**
 * `deepprob score`: Monte Carlo uncertainty scoring of a large image set, cut into `--shards`
 * jobs; the shards' sufficient statistics merge (in any order) into the metrics of one pass.
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { DATASETS, checkDataDir } from '../data/files.js';
import type { ScoreAggregate } from '../queue/aggregate.js';
import { scoreFlow } from '../queue/flows.js';
import { cellNumber } from '../utils/text_table.js';
import { cliReady } from './main.js';
import { help, oneOf, pct, positiveInt, ranged } from './options.js';
import { addQueueOptions, runFlowCli, type QueueCliOptions } from './queue_common.js';

/** Options of `deepprob score`. */
type ScoreCliOptions = QueueCliOptions & {
  checkpoint: string;
  data: string;
  split: 'train' | 'test';
  dataDir?: string;
  limit?: number;
  shards: number;
  mcSamples: number;
  blockSize: number;
  seed: number;
};

/** Register `score` on `program`. */
export function register(program: Command): void {
  const cmd = program
    .command('score')
    .description(
      'Monte Carlo uncertainty scoring of an image set in shards (queue jobs or in-process)',
    )
    .requiredOption('--checkpoint <dir>', 'run or checkpoint directory (from train --out)')
    .requiredOption('--data <name>', `dataset: ${DATASETS.join(' | ')}`)
    .option('--split <name>', 'train | test', oneOf(['train', 'test'] as const), 'test')
    .option('--data-dir <dir>', 'directory with the dataset files')
    .option('--limit <n>', help('score only the first N images', 'limit'), ranged('limit'))
    .option('--shards <n>', 'jobs (each a range of whole blocks)', positiveInt, 8)
    .option(
      '--mc-samples <n>',
      help('forward passes per image', 'mc-samples'),
      ranged('mc-samples'),
      20,
    )
    .option('--block-size <n>', 'images per seeded block', positiveInt, 500)
    .option('--seed <n>', help('base seed of the blocks', 'seed'), ranged('seed'), 0);
  addQueueOptions(cmd)
    .addHelpText(
      'after',
      '\nExample:\n  deepprob score --checkpoint runs/bnn --data mnist --split train --shards 8 --mc-samples 20',
    )
    .action(async (o: ScoreCliOptions) => {
      // before any job is queued: the folder exists, and a dataset that is not bundled has one
      checkDataDir(o.dataDir, o.data, 'data-dir');
      const flow = scoreFlow({
        checkpoint: o.checkpoint,
        dataset: o.data,
        split: o.split,
        // workers run in their own directory: a relative --data-dir is the submitter's
        ...(o.dataDir !== undefined ? { dataDir: resolve(o.dataDir) } : {}),
        ...(o.limit !== undefined ? { limit: o.limit } : {}),
        shards: o.shards,
        mcSamples: o.mcSamples,
        blockSize: o.blockSize,
        seed: o.seed,
        store: o.store,
      });
      await cliReady(program);
      const t0 = performance.now();
      const agg = (await runFlowCli(flow, o, `scoring in ${o.shards} shards`)) as ScoreAggregate;
      const seconds = (performance.now() - t0) / 1000;
      if (o.json === true) {
        console.log(JSON.stringify({ key: flow.key, seconds, ...agg }));
        return;
      }
      const m = agg.metrics;
      console.log(
        `${m.count} images, ${o.mcSamples} samples, ${agg.shards} shards, ${cellNumber(seconds, 1)} s (${(m.count / seconds).toFixed(0)} images/s)`,
      );
      console.log(
        `accuracy ${pct(m.accuracy)}, NLL ${cellNumber(m.nll, 4)}, ECE ${cellNumber(m.ece, 4)}, Brier ${cellNumber(m.brier, 4)}`,
      );
      console.log(
        `predictive entropy ${cellNumber(m.predictiveEntropy, 4)}, expected entropy ${cellNumber(m.expectedEntropy, 4)}, mutual information ${cellNumber(m.mutualInformation, 5)} nats`,
      );
    });
}

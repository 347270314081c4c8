/**
 * `deepprob ensemble`: train a deep ensemble, one job per member (member `i` seeded `seed + i`),
 * through the job queue (`--redis`) or in-process, and aggregate the ensemble predictive with its
 * uncertainty report (accuracy, NLL, ECE, entropy, mutual information, OOD AUROC).
 */
import { ArgumentError } from '../utils/errors.js';
import { parseDatasetSpec } from '../data/files.js';
import { checkKindOptions } from '../app/train_kinds.js';
import { atomicWriteFile } from '../utils/file_io.js';
import { checkWritableDir } from '../app/run_dir.js';
import { join } from 'node:path';
import type { Command } from 'commander';
import type { EnsembleAggregate } from '../queue/aggregate.js';
import { ensembleFlow } from '../queue/flows.js';
import { aggregateKey } from '../queue/jobs.js';
import { DirResultStore } from '../queue/result_store.js';
import { cellNumber } from '../utils/text_table.js';
import { cliReady } from './main.js';
import { help, pct, positiveInt, ranged } from './options.js';
import {
  addQueueOptions,
  addTrainingOptions,
  runFlowCli,
  trainingConfigOf,
  type QueueCliOptions,
} from './queue_common.js';

/** Options of `deepprob ensemble`. */
type EnsembleCliOptions = QueueCliOptions & {
  members: number;
  ood?: string;
  evalLimit?: number;
  out?: string;
} & Record<string, unknown>;

/**
 * Copy the ensemble's `report.html` and `report.json` from the result store into `out`, each
 * written atomically (a temporary file renamed over it): a crash or a full disk mid-copy leaves
 * the earlier report of `out`, never a truncated one.
 * @param store the result store of the flow.
 * @param key the aggregate's key.
 * @param out the folder (created if needed).
 */
export function copyEnsembleReport(store: DirResultStore, key: string, out: string): void {
  // both read first: a result without one of them changes nothing in `out`
  const files = ['report.json', 'report.html'].map(
    (name) => [name, store.blob(key, name)] as const,
  );
  for (const [name, data] of files) atomicWriteFile(join(out, name), data);
}

/** Register `ensemble` on `program`. */
export function register(program: Command): void {
  const cmd = program
    .command('ensemble')
    .description(
      'train a deep ensemble through the job queue (or in-process) and report its uncertainty',
    )
    .requiredOption(
      '--members <n>',
      help('ensemble members (jobs), member i seeded seed + i', 'ensemble'),
      ranged('ensemble'),
    )
    .option('--ood <name>', 'out-of-distribution test set of the report', 'fashion-mnist')
    .option('--eval-limit <n>', 'predict only the first N images of each test set', positiveInt)
    .option('--out <dir>', 'also copy report.html / report.json here');
  addQueueOptions(addTrainingOptions(cmd))
    .addHelpText(
      'after',
      '\nExample:\n  deepprob ensemble --members 5 --epochs 3 --redis redis://127.0.0.1:6379 --store /shared/queue',
    )
    .action(async (o: EnsembleCliOptions, c: Command) => {
      // checked at submit, not by each worker after training its member
      checkKindOptions(
        String(o.model),
        Object.keys(o).filter((k) => c.getOptionValueSource(k) === 'cli'),
      );
      if (o.ood !== undefined && parseDatasetSpec(o.ood, 'ood').dir !== undefined) {
        throw new ArgumentError(
          'ood',
          `expected a dataset name (the workers load it), got '${o.ood}'`,
        );
      }
      // the report is copied at the end: an unwritable --out is refused before any member trains
      if (o.out !== undefined) checkWritableDir(o.out, 'out');
      await cliReady(program);
      const flow = ensembleFlow({
        config: trainingConfigOf(o),
        members: o.members,
        store: o.store,
        ...(o.ood !== undefined ? { ood: o.ood } : {}),
        ...(o.evalLimit !== undefined ? { evalLimit: o.evalLimit } : {}),
      });
      const agg = (await runFlowCli(flow, o, `ensemble of ${o.members}`)) as EnsembleAggregate;
      const store = new DirResultStore(flow.store);
      const key = aggregateKey(flow);
      if (o.out !== undefined) copyEnsembleReport(store, key, o.out);
      if (o.json === true) {
        console.log(JSON.stringify({ key: flow.key, ...agg }));
        return;
      }
      const m = agg.metrics;
      console.log(
        `ensemble of ${agg.members}: accuracy ${pct(m.accuracy)}, NLL ${cellNumber(m.nll, 4)}, ECE ${cellNumber(m.ece, 4)}, Brier ${cellNumber(m.brier, 4)}`,
      );
      console.log(`members: ${agg.memberAccuracy.map((a) => pct(a)).join(', ')}`);
      console.log(
        `OOD AUROC: ${Object.entries(agg.auroc)
          .map(([k, v]) => `${k} ${cellNumber(v, 4)}`)
          .join(', ')}`,
      );
      console.log(`report: ${join(store.location, 'results', key, 'report.html')}`);
    });
}

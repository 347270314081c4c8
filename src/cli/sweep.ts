/**
 * `deepprob sweep`: train every point of a grid (`--grid spec.json`: prior scale, KL weight,
 * estimator, learning rate, ...) as one job each, through the job queue or in-process, and print
 * the table ranked by the metric with the best configuration.
 */
import type { Command } from 'commander';
import type { SweepAggregate } from '../queue/aggregate.js';
import { sweepFlow } from '../queue/flows.js';
import { readSweepGrid } from '../queue/sweep_grid.js';
import { cellNumber, formatColumns } from '../utils/text_table.js';
import { cliReady } from './main.js';
import { addQueueOptions, runFlowCli, type QueueCliOptions } from './queue_common.js';

/**
 * The sweep table as lines: rank, parameters, metrics (4 decimals; `n/a` where a run reported a
 * value that is not finite, `-` where it reported none), seconds; right-aligned columns measured
 * in terminal columns, control characters in parameter values escaped (`formatColumns`).
 */
export function formatSweepTable(agg: SweepAggregate): string[] {
  const cols = ['testNll', 'testAccuracy', 'testAccuracyMc', 'trainLoss'];
  const params = Object.keys(agg.rows[0]?.params ?? {});
  const head = ['#', ...params, ...cols, 's'];
  const body = agg.rows.map((r, i) => [
    String(i + 1),
    ...params.map((p) => String(r.params[p])),
    ...cols.map((c) => cellNumber(r.metrics[c], 4)),
    cellNumber(r.seconds, 1),
  ]);
  return formatColumns([head, ...body], { align: head.map(() => 'right'), gap: 2 });
}

/** Register `sweep` on `program`. */
export function register(program: Command): void {
  const cmd = program
    .command('sweep')
    .description(
      'train every point of a hyper-parameter grid as queue jobs; print the ranked table',
    )
    .requiredOption(
      '--grid <file>',
      'grid JSON: {"base": {...}, "grid": {"priorSigma": [...], ...}, "metric": "testNll"}',
    );
  addQueueOptions(cmd)
    .addHelpText(
      'after',
      '\nExample:\n  deepprob sweep --grid sweep.json --redis redis://127.0.0.1:6379',
    )
    .action(async (o: QueueCliOptions & { grid: string }) => {
      const grid = readSweepGrid(o.grid);
      await cliReady(program);
      const flow = sweepFlow(grid, o.store);
      const agg = (await runFlowCli(flow, o, `sweep of ${flow.jobs.length}`)) as SweepAggregate;
      if (o.json === true) {
        console.log(JSON.stringify({ key: flow.key, ...agg }));
        return;
      }
      for (const l of formatSweepTable(agg)) console.log(l);
      const v = agg.best.metrics[agg.metric.name];
      const have = agg.rows.filter((r) => Number.isFinite(r.metrics[agg.metric.name])).length;
      if (v === undefined || !Number.isFinite(v)) {
        // no run reported the metric: no ranking (rows without it sort last)
        console.log(
          `best (${agg.metric.goal} ${agg.metric.name}): none — no run reported ${agg.metric.name} (choose a metric every configuration records, e.g. testAccuracy or testNll)`,
        );
        return;
      }
      console.log(
        `best (${agg.metric.goal} ${agg.metric.name}): ${JSON.stringify(agg.best.params)}` +
          (have < agg.rows.length
            ? ` (${agg.rows.length - have} of ${agg.rows.length} runs did not report ${agg.metric.name} and are not ranked)`
            : ''),
      );
    });
}

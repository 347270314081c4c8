/**
 * The plain-text summary table of the shift/OOD benchmark: per method clean accuracy, NLL
 * `-mean log pbar_y` and ECE, their means over the levels of each shift family, OOD AUROC
 * (entropy / MI) and conformal coverage / set size.
 */
import { ArgumentError } from '../../utils/errors.js';
import { cellNumber, cellPercent, displayWidth, formatColumns } from '../../utils/text_table.js';
import type { ShiftBenchmarkResult } from './benchmark_types.js';

/**
 * A plain-text table of the summary: one line per method with clean accuracy/NLL/ECE, mean NLL
 * and ECE over the levels of each shift family, OOD AUROC (entropy / MI) and conformal coverage
 * and set size in distribution. Columns are as wide as their widest cell in terminal columns (a
 * CJK method name takes two per character), a value that is not finite reads `n/a`, one that a
 * method lacks `-`, control characters in names are escaped (`formatColumns`).
 */
export function formatShiftTable(result: ShiftBenchmarkResult): string {
  if (result === null || typeof result !== 'object' || !Array.isArray(result.summary)) {
    throw new ArgumentError('result', 'expected the result of shiftBenchmark');
  }
  const fams = [...new Set(result.summary.flatMap((s) => Object.keys(s.families)))];
  const oods = [...new Set(result.summary.flatMap((s) => Object.keys(s.ood)))];
  const pair = (a: number | undefined, b: number | undefined): string =>
    `${cellNumber(a, 3)} / ${cellNumber(b, 3)}`;
  const head = [
    'method',
    'acc%',
    'NLL',
    'ECE',
    ...fams.map((f) => `${f} NLL/ECE`),
    ...oods.map((o) => `${o} AUROC H/MI`),
    'cover/size',
  ];
  const body = result.summary.map((s) => {
    const c = s.clean;
    return [
      s.method,
      cellNumber(100 * c.accuracy, 2),
      cellNumber(c.nll, 3),
      cellNumber(c.ece, 3),
      ...fams.map((f) => pair(s.families[f]?.nll, s.families[f]?.ece)),
      ...oods.map((o) => pair(s.ood[o]?.entropy, s.ood[o]?.mi)),
      c.coverage !== undefined
        ? `${cellPercent(c.coverage, 1)} / ${cellNumber(c.setSize, 2)}`
        : '-',
    ];
  });
  const [first, ...rest] = formatColumns([head, ...body], { gap: 2 });
  const rule = '-'.repeat(Math.max(...[first as string, ...rest].map(displayWidth)));
  return [first as string, rule, ...rest].join('\n');
}

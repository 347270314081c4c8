/**
 * The plain-text summary table of the shift/OOD benchmark: per method clean accuracy, NLL
 * `-mean log pbar_y` and ECE, their means over the levels of each shift family, OOD AUROC
 * (entropy / MI) and conformal coverage / set size.
 */
import { ArgumentError } from '../../utils/errors.js';
import type { ShiftBenchmarkResult } from './benchmark_types.js';

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

/**
 * A plain-text table of the summary: one line per method with clean accuracy/NLL/ECE, mean NLL
 * and ECE over the levels of each shift family, OOD AUROC (entropy / MI) and conformal coverage
 * and set size in distribution.
 */
export function formatShiftTable(result: ShiftBenchmarkResult): string {
  if (result === null || typeof result !== 'object' || !Array.isArray(result.summary)) {
    throw new ArgumentError('result', 'expected the result of shiftBenchmark');
  }
  const fams = [...new Set(result.summary.flatMap((s) => Object.keys(s.families)))];
  const oods = [...new Set(result.summary.flatMap((s) => Object.keys(s.ood)))];
  const head = [
    pad('method', 22),
    'acc%  ',
    'NLL   ',
    'ECE   ',
    ...fams.map((f) => pad(`${f} NLL/ECE`, 20)),
    ...oods.map((o) => pad(`${o} AUROC H/MI`, 24)),
    'cover/size',
  ].join(' ');
  const lines = [head, '-'.repeat(head.length)];
  for (const s of result.summary) {
    const c = s.clean;
    lines.push(
      [
        pad(s.method, 22),
        pad((100 * c.accuracy).toFixed(2), 6),
        pad(c.nll.toFixed(3), 6),
        pad(c.ece.toFixed(3), 6),
        ...fams.map((f) =>
          pad(`${s.families[f]?.nll.toFixed(3)} / ${s.families[f]?.ece.toFixed(3)}`, 20),
        ),
        ...oods.map((o) => pad(`${s.ood[o]?.entropy.toFixed(3)} / ${s.ood[o]?.mi.toFixed(3)}`, 24)),
        c.coverage !== undefined
          ? `${(100 * c.coverage).toFixed(1)}% / ${c.setSize?.toFixed(2)}`
          : '-',
      ].join(' '),
    );
  }
  return lines.join('\n');
}

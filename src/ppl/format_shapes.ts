/**
 * `formatShapes`: the shape table of a trace (Pyro's `Trace.format_shapes`), one row per param
 * site and three per sample site, aligned at the boundary between batch and event dims:
 *
 * ```
 *  Trace Shapes:
 *   Param Sites:
 *  Sample Sites:
 *         a dist       |
 *          value       |
 *       log_prob       |
 *         b dist       | 2
 *          value       | 2
 *       log_prob       |
 * ```
 *
 * For a site with distribution `d` and value `v`: `d.batchShape | d.eventShape`, then `v.shape`
 * split `len(eventShape)` dims from the right, then the shape of its (masked, scaled) log-density.
 */
import type * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../utils/errors.js';
import { checkOptionKeys } from '../utils/options.js';
import type { Message } from './runtime.js';

/** Options of {@link formatShapes}. */
export interface FormatShapesOptions {
  /** The first line (default `'Trace Shapes:'`). */
  title?: string;
  /** Stop after this site (Pyro's `last_site`). */
  lastSite?: string;
  /**
   * Also the log-density shape of each sample site (default true; Pyro prints it after
   * `trace.compute_log_prob()`).
   */
  logProb?: boolean;
}

/** A table row: cells, `null` separating the three column groups (Pyro's `None`). */
type Row = (string | null)[];

/** Pyro's `_format_table`: right-justified cells, `null` separating column groups. */
export function formatShapeTable(rows: Row[]): string {
  const columnWidths = [0, 0, 0];
  for (const row of rows) {
    const widths = [0, 0, 0];
    let j = 0;
    for (const cell of row) {
      if (cell === null) j++;
      else widths[j] = (widths[j] as number) + 1;
    }
    for (let k = 0; k < 3; k++) {
      columnWidths[k] = Math.max(columnWidths[k] as number, widths[k] as number);
    }
  }
  const justified = rows.map((row) => {
    const cols: string[][] = [[], [], []];
    let j = 0;
    for (const cell of row) {
      if (cell === null) j++;
      else (cols[j] as string[]).push(cell);
    }
    return cols.flatMap((col, k) => {
      const pad = new Array<string>((columnWidths[k] as number) - col.length).fill('');
      return k < 2 ? [...pad, ...col] : [...col, ...pad];
    });
  });
  const cellWidths = new Array<number>(justified[0]?.length ?? 0).fill(0);
  for (const row of justified) {
    row.forEach((c, k) => (cellWidths[k] = Math.max(cellWidths[k] as number, c.length)));
  }
  return justified
    .map((row) => row.map((c, k) => c.padStart(cellWidths[k] as number)).join(' '))
    .join('\n');
}

/**
 * The shape table of the sites of one run (see the module docs).
 *
 * @param sites the trace's sites in execution order.
 * @param logProbShape the log-density shape of a sample site (computed by the caller).
 * @param options title, last site, whether to show log-density shapes.
 */
export function formatShapes(
  sites: readonly Message[],
  logProbShape: (site: Message) => number[],
  options: FormatShapesOptions = {},
): string {
  if (options === null || typeof options !== 'object') {
    throw new ArgumentError('options', `expected {title?, lastSite?, logProb?}, got ${options}`);
  }
  checkOptionKeys(options, ['title', 'lastSite', 'logProb'], 'formatShapes');
  const title = options.title ?? 'Trace Shapes:';
  if (sites.length === 0) return title;
  const str = (s: readonly number[]): string[] => s.map(String);
  const shape = (v: tf.Tensor | null): number[] => (v === null ? [] : [...v.shape]);
  const rows: Row[] = [[title], ['Param Sites:']];
  for (const s of sites) {
    if (s.type === 'param') rows.push([s.name, null, ...str(shape(s.value))]);
    if (s.name === options.lastSite) break;
  }
  rows.push(['Sample Sites:']);
  for (const s of sites) {
    if (s.type === 'sample' && s.fn !== null) {
      const ev = s.fn.eventShape;
      rows.push([`${s.name} dist`, null, ...str(s.fn.batchShape), '|', null, ...str(ev)]);
      const v = shape(s.value);
      const cut = v.length - ev.length;
      rows.push(['value', null, ...str(v.slice(0, cut)), '|', null, ...str(v.slice(cut))]);
      if (options.logProb ?? true)
        rows.push(['log_prob', null, ...str(logProbShape(s)), '|', null]);
    }
    if (s.name === options.lastSite) break;
  }
  return formatShapeTable(rows);
}

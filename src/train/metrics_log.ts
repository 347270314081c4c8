/**
 * Per-epoch metrics logs (Node): `metrics.jsonl` (one JSON object per epoch) and `metrics.csv`
 * (same fields, header from the union of keys). Both are rewritten atomically from the full
 * history each epoch, so a resumed run continues the same files.
 */
import { join } from 'node:path';
import { atomicWriteFile } from '../utils/file_io.js';

/** A flat record of numbers and strings. */
export type MetricRecord = Record<string, number | string | undefined>;

/** Render records as JSON Lines. */
export function toJsonl(records: MetricRecord[]): string {
  return records.map((r) => JSON.stringify(r)).join('\n') + (records.length > 0 ? '\n' : '');
}

/** Render records as CSV (RFC 4180 quoting; missing values empty). */
export function toCsv(records: MetricRecord[]): string {
  const keys: string[] = [];
  for (const r of records) for (const k of Object.keys(r)) if (!keys.includes(k)) keys.push(k);
  const cell = (v: number | string | undefined): string => {
    if (v === undefined) return '';
    const s = String(v);
    return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return (
    [keys.join(','), ...records.map((r) => keys.map((k) => cell(r[k])).join(','))].join('\n') + '\n'
  );
}

/**
 * Write `metrics.jsonl` and `metrics.csv` in `dir` atomically.
 *
 * @param dir the run directory.
 * @param records every epoch so far.
 */
export function writeMetricLogs(dir: string, records: MetricRecord[]): void {
  atomicWriteFile(join(dir, 'metrics.jsonl'), toJsonl(records));
  atomicWriteFile(join(dir, 'metrics.csv'), toCsv(records));
}

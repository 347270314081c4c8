/**
 * Audit 19: the terminal tables and summary lines. The shift table padded names by UTF-16 length
 * to fixed widths (a CJK or emoji method name, or one longer than 22 characters, shifted every
 * later column of its row), printed `NaN` for a diverged method and `undefined / undefined` for a
 * family a method lacks, and passed escape sequences in names to the terminal; the sweep table
 * printed `NaN`; `pct` printed `NaN%`. Columns are now measured in terminal columns
 * (`displayWidth`), non-finite numbers read `n/a`, absent ones `-`, control characters `\xNN`.
 */
import { describe, expect, it } from 'vitest';
import { formatSweepTable } from '../../src/cli/sweep.js';
import { pct } from '../../src/cli/options.js';
import { describeRecord } from '../../src/app/train.js';
import { toolbox } from '../../src/index.js';
import type { SweepAggregate } from '../../src/queue/aggregate.js';
import type {
  ShiftBenchmarkResult,
  ShiftRow,
  ShiftSummary,
} from '../../src/toolbox/shift/benchmark_types.js';
import {
  cellNumber,
  cellPercent,
  displayWidth,
  formatColumns,
  printable,
} from '../../src/utils/text_table.js';
import type { EpochRecord } from '../../src/train/fit.js';

const NAMES = [
  'plain',
  '漢字の方法',
  'e\u0301tude',
  '👨‍👩‍👧 family',
  'ＦＵＬＬ',
  'red\x1b[31mX',
  'a'.repeat(30),
];

/**
 * `line` starts with `name` padded to `w` terminal columns and a two-blank gap; returns the rest
 * and the display width of its first (right-aligned) cell, blanks before it included (gap 2).
 */
function afterFirstColumn(line: string, name: string, w: number): { rest: string; cell2: number } {
  const prefix = printable(name) + ' '.repeat(w - displayWidth(printable(name))) + '  ';
  expect(line.startsWith(prefix), `${line} starts with ${prefix}`).toBe(true);
  const rest = line.slice(prefix.length);
  return { rest, cell2: displayWidth(/^ *\S+/u.exec(rest)?.[0] ?? '') };
}

describe('audit19 displayWidth / printable / cells', () => {
  it('counts terminal columns per grapheme', () => {
    expect(displayWidth('abc')).toBe(3);
    expect(displayWidth('漢字')).toBe(4);
    expect(displayWidth('e\u0301')).toBe(1); // e + combining acute
    expect(displayWidth('👍')).toBe(2);
    expect(displayWidth('👨‍👩‍👧')).toBe(2); // one ZWJ sequence
    expect(displayWidth('🇫🇷')).toBe(2);
    expect(displayWidth('ＦＵ')).toBe(4); // fullwidth Latin
    expect(displayWidth('\u200b\u202e')).toBe(0); // zero-width space, bidi override
    expect(displayWidth('한국')).toBe(4);
    expect(displayWidth('')).toBe(0);
  });
  it('escapes control characters, keeps the rest', () => {
    expect(printable('a\x1b[31mb\r\n\x9b')).toBe('a\\x1b[31mb\\x0d\\x0a\\x9b');
    expect(printable('漢字 é')).toBe('漢字 é');
  });
  it('n/a for NaN, ±Infinity and null; - for absent', () => {
    expect([NaN, Infinity, -Infinity, null, undefined, 0.5].map((v) => cellNumber(v, 2))).toEqual([
      'n/a',
      'n/a',
      'n/a',
      'n/a',
      '-',
      '0.50',
    ]);
    expect([NaN, null, undefined, 0.98765].map((v) => cellPercent(v))).toEqual([
      'n/a',
      'n/a',
      '-',
      '98.77%',
    ]);
    expect(pct(NaN)).toBe('n/a');
    expect(pct(Infinity)).toBe('n/a');
    expect(pct(0.5)).toBe('50.00%');
  });
  it('formatColumns aligns by display width', () => {
    const lines = formatColumns([
      ['name', 'v'],
      ['漢字', '1.0'],
      ['ab', '22.5'],
    ]);
    expect(lines).toEqual(['name     v', '漢字   1.0', 'ab    22.5']);
    expect(new Set(lines.map(displayWidth)).size).toBe(1);
  });
});

describe('audit19 shift table', () => {
  const row = (method: string, v: number): ShiftRow => ({
    method,
    family: 'clean',
    level: 0,
    accuracy: v,
    nll: v,
    nllBestT: v,
    brier: v,
    ece: v,
    entropy: v,
  });
  const result: ShiftBenchmarkResult = {
    rows: [],
    ood: [],
    summary: NAMES.map((m, i) => ({
      method: m,
      clean: {
        ...row(m, i === 1 ? NaN : 0.25),
        ...(i === 2 ? { coverage: 0.95, setSize: 1.5 } : {}),
        ...(i === 5 ? { coverage: NaN, setSize: NaN } : {}),
      },
      // the first method has no rotation results
      families: (i === 0
        ? {}
        : {
            rotation: { nll: i === 3 ? Infinity : 0.5, nllBestT: 0.4, ece: 0.1, accuracy: 0.9 },
          }) as ShiftSummary['families'],
      ood: { 'fashion-mnist': { entropy: 0.8, mi: i === 4 ? NaN : 0.5 } },
    })),
  };
  const lines = toolbox.formatShiftTable(result).split('\n');

  it('every row has its columns where the header has them', () => {
    const [head, rule, ...body] = lines;
    expect(body).toHaveLength(NAMES.length);
    const width = displayWidth(head as string);
    expect(displayWidth(rule as string)).toBe(width);
    expect(rule).toMatch(/^-+$/);
    const w = Math.max(...['method', ...NAMES].map((n) => displayWidth(printable(n))));
    const h = afterFirstColumn(head as string, 'method', w);
    body.forEach((l, i) => {
      expect(displayWidth(l), l).toBe(width);
      const b = afterFirstColumn(l, NAMES[i] as string, w);
      expect(b.cell2, l).toBe(h.cell2);
      expect(displayWidth(b.rest)).toBe(displayWidth(h.rest));
    });
  });

  it('NaN / Infinity read n/a, a missing family -, names keep no control character', () => {
    const text = lines.join('\n');
    expect(text).not.toMatch(/NaN|Infinity|undefined/);
    expect(text).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f]/); // eslint-disable-line no-control-regex
    expect(lines[3]).toMatch(/^漢字の方法 +n\/a +n\/a +n\/a /);
    expect(lines[2]).toMatch(/ - \/ - /); // plain: no rotation
    expect(lines[5]).toMatch(/n\/a \/ 0\.100/); // Infinity NLL
    expect(lines[6]).toMatch(/0\.800 \/ n\/a/);
    expect(lines[4]).toMatch(/95\.0% \/ 1\.50$/);
    expect(lines[7]).toMatch(/ n\/a \/ n\/a$/); // NaN coverage: not 'n/a%'
    expect(text).toContain('red\\x1b[31mX');
  });
});

describe('audit19 sweep table and epoch line', () => {
  it('columns align with wide parameter values; NaN and a null (NaN through JSON) read n/a', () => {
    const rows = NAMES.slice(0, 5).map((name, i) => ({
      index: i,
      params: { estimator: name, lr: 0.001 * (i + 1) },
      metrics: {
        testNll: i === 1 ? NaN : 0.3 + i,
        testAccuracy: 0.9,
        ...(i === 2 ? { trainLoss: null as unknown as number } : {}),
      },
      seconds: 12.345,
    }));
    const agg: SweepAggregate = {
      kind: 'sweep',
      metric: { name: 'testNll', goal: 'min' },
      rows,
      best: rows[0] as SweepAggregate['best'],
    };
    const lines = formatSweepTable(agg);
    expect(lines).toHaveLength(6);
    expect(new Set(lines.map(displayWidth)).size).toBe(1);
    const text = lines.join('\n');
    expect(text).not.toMatch(/NaN|null|undefined/);
    expect(lines[2]).toMatch(/漢字の方法 +0\.002 +n\/a +0\.9000 +- +- +12\.3$/);
    expect(lines[3]).toMatch(/0\.9000 +- +n\/a +12\.3$/);
  });

  it('a diverged epoch reads n/a, not NaN', () => {
    const r = {
      epoch: 3,
      trainLoss: NaN,
      trainNll: NaN,
      trainKl: Infinity,
      trainAccuracy: 0.1,
      imagesPerSec: 100,
      testAccuracy: NaN,
      testNll: NaN,
    } as unknown as EpochRecord;
    const line = describeRecord(r);
    expect(line).toContain('loss n/a (nll n/a, kl n/a)');
    expect(line).toContain('test acc n/a');
    expect(line).not.toMatch(/NaN|Infinity/);
  });
});

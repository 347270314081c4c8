/**
 * Plain-text tables for terminals: cells measured in terminal columns (a CJK character or an
 * emoji takes two, a combining mark or a zero-width joiner none), control characters shown
 * escaped (a name cannot move the cursor or colour the terminal), numbers that are not finite
 * shown as `n/a`.
 */

/** Unicode code points of the East Asian Wide and Fullwidth blocks (two terminal columns). */
const WIDE: readonly [number, number][] = [
  [0x1100, 0x115f],
  [0x2e80, 0x303e],
  [0x3041, 0x33ff],
  [0x3400, 0x4dbf],
  [0x4e00, 0x9fff],
  [0xa000, 0xa4cf],
  [0xac00, 0xd7a3],
  [0xf900, 0xfaff],
  [0xfe30, 0xfe4f],
  [0xff00, 0xff60],
  [0xffe0, 0xffe6],
  [0x20000, 0x3fffd],
];

/** The C0 and C1 control characters. */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x1f\x7f-\x9f]/g;

const ZERO_WIDTH = /^[\p{Mn}\p{Me}\p{Cf}]$/u;
const EMOJI = /\p{Emoji_Presentation}/u;

let segmenter: Intl.Segmenter | undefined;

function isWide(cp: number): boolean {
  return WIDE.some(([a, b]) => cp >= a && cp <= b);
}

/**
 * The number of terminal columns `text` takes: per grapheme cluster 2 when it holds an East Asian
 * Wide/Fullwidth character, an emoji shown as an emoji (`Emoji_Presentation`) or a `U+FE0F`
 * variation selector, 0 when it is only combining marks and format characters (`Mn`, `Me`,
 * `Cf`: zero-width joiners, bidi controls), else 1:
 * $$w(s) = \sum_{g \in \mathrm{graphemes}(s)} w(g).$$
 *
 * @param text the text (control characters should be escaped first, see {@link printable}).
 * @returns its width in columns.
 * @example
 * ```ts
 * displayWidth('abc'); // 3
 * displayWidth('漢字'); // 4
 * displayWidth('e\u0301'); // 1
 * ```
 */
export function displayWidth(text: string): number {
  let w = 0;
  segmenter ??= new Intl.Segmenter(undefined, { granularity: 'grapheme' });
  for (const { segment } of segmenter.segment(text)) {
    const cps = [...segment].map((c) => c.codePointAt(0) as number);
    if (cps.some(isWide) || EMOJI.test(segment) || segment.includes('\ufe0f')) w += 2;
    else if (cps.every((cp) => ZERO_WIDTH.test(String.fromCodePoint(cp)))) w += 0;
    else w += 1;
  }
  return w;
}

/**
 * `text` with its C0/C1 control characters (`\x00`-`\x1f`, `\x7f`-`\x9f`: escape sequences,
 * carriage returns, new lines) written as `\xNN`, so that a name printed in a table stays on its
 * line and cannot drive the terminal.
 *
 * @param text any text.
 * @returns the text with the control characters escaped.
 * @example
 * ```ts
 * printable('a\x1b[31mb'); // 'a\\x1b[31mb'
 * ```
 */
export function printable(text: string): string {
  return text.replace(CONTROL, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/**
 * A number for a table cell: `v.toFixed(digits)` when finite, `n/a` when it is NaN or
 * `±Infinity` (or `null`, a NaN read back from JSON), `-` when absent.
 *
 * @param v the value.
 * @param digits decimals.
 * @example
 * ```ts
 * cellNumber(0.12345, 3); // '0.123'
 * cellNumber(NaN, 3); // 'n/a'
 * ```
 */
export function cellNumber(v: number | null | undefined, digits: number): string {
  if (v === undefined) return '-';
  // null: a NaN that went through JSON
  return v !== null && Number.isFinite(v) ? v.toFixed(digits) : 'n/a';
}

/**
 * A fraction as a percentage for a table cell: `(100 v).toFixed(digits)%` when finite, `n/a`
 * when not (or `null`, a NaN read back from JSON), `-` when absent.
 *
 * @param v the fraction.
 * @param digits decimals (default 2).
 * @example
 * ```ts
 * cellPercent(0.9876); // '98.76%'
 * cellPercent(NaN); // 'n/a'
 * ```
 */
export function cellPercent(v: number | null | undefined, digits = 2): string {
  const s = cellNumber(v === undefined || v === null ? v : 100 * v, digits);
  return s === '-' || s === 'n/a' ? s : `${s}%`;
}

/**
 * Lay out rows of cells as aligned columns: column `j` is as wide (in terminal columns, see
 * {@link displayWidth}) as its widest cell, cells are escaped with {@link printable} and padded
 * on the right (`align[j] = 'left'`, the default of the first column) or the left (`'right'`, the
 * default of the others), columns are separated by `gap` spaces; trailing blanks are trimmed.
 *
 * @param rows the header row first, then the body rows (rows may have fewer cells).
 * @param options `align` per column, `gap` (default 2).
 * @returns one string per row.
 * @example
 * ```ts
 * formatColumns([['method', 'NLL'], ['漢字', '0.123']]);
 * // ['method    NLL', '漢字    0.123']
 * ```
 */
export function formatColumns(
  rows: readonly (readonly string[])[],
  options: { align?: readonly ('left' | 'right')[]; gap?: number } = {},
): string[] {
  const cells = rows.map((r) => r.map((c) => printable(String(c))));
  const ncol = Math.max(0, ...cells.map((r) => r.length));
  const widths = Array.from({ length: ncol }, (_, j) =>
    Math.max(0, ...cells.map((r) => (r[j] !== undefined ? displayWidth(r[j]) : 0))),
  );
  const gap = ' '.repeat(options.gap ?? 2);
  return cells.map((r) =>
    r
      .map((c, j) => {
        const fill = ' '.repeat((widths[j] as number) - displayWidth(c));
        const align = options.align?.[j] ?? (j === 0 ? 'left' : 'right');
        return align === 'left' ? c + fill : fill + c;
      })
      .join(gap)
      .trimEnd(),
  );
}

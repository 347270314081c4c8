/**
 * Audit 19: no control characters in `src/` text files. TSDoc math written through a string
 * escape lost its backslashes (`\text` became a tab and `ext`, `\big` a backspace and `ig`,
 * `\alpha` a bell and `lpha`), leaving formulas no reader or renderer could recover. Newlines
 * and carriage returns are the only control characters a source file may hold (prettier indents
 * with spaces, so a tab is such a lost `\t`).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..', '..');
const TEXT = /\.(ts|js|mjs|cjs|c|h|md|json|wgsl|glsl)$/;

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

/** `file:line: the line with control characters shown as \xNN`, for each offending line. */
function controlChars(path: string): string[] {
  const rel = relative(root, path).split('\\').join('/');
  const out: string[] = [];
  readFileSync(path, 'utf8')
    .split('\n')
    .forEach((line, i) => {
      // eslint-disable-next-line no-control-regex
      const bad = /[\x00-\x09\x0b\x0c\x0e-\x1f\x7f]/;
      if (!bad.test(line)) return;
      const shown = line.replace(
        // eslint-disable-next-line no-control-regex
        /[\x00-\x09\x0b\x0c\x0e-\x1f\x7f]/g,
        (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
      );
      out.push(`${rel}:${i + 1}: ${shown.trim()}`);
    });
  return out;
}

describe('source text', () => {
  const files = filesUnder(join(root, 'src')).filter((p) => TEXT.test(p));

  it('finds the sources', () => {
    expect(files.length).toBeGreaterThan(500);
  });

  it('holds no control characters but newline and carriage return (TSDoc escapes intact)', () => {
    expect(files.flatMap(controlChars)).toEqual([]);
  });

  it('the check sees an escape that lost its backslash', () => {
    const line = ` * $$${String.fromCharCode(9)}ext{a} = ${String.fromCharCode(8)}igcup_r$$`;
    // eslint-disable-next-line no-control-regex
    expect(/[\x00-\x09\x0b\x0c\x0e-\x1f\x7f]/.test(line)).toBe(true);
  });
});

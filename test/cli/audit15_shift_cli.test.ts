/**
 * Audit (issue 17): `deepprob shift` and `runShiftBenchmark` refuse bad arguments by name before
 * any model is loaded or fitted — two methods of one name (their rows would merge), unknown kinds,
 * a missing run folder, out-of-range options — with no raw message or stack trace.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ArgumentError } from '../../src/index.js';
import { parseMethodSpec, runShiftBenchmark } from '../../src/app/shift/run.js';
import { runCli } from '../faults/cli_runner.js';

const tmp = (): string => mkdtempSync(join(tmpdir(), 'deepprob-audit15-shift-'));

async function refusedCli(args: string[], expected: RegExp): Promise<void> {
  const t0 = performance.now();
  const r = await runCli(args);
  const err = r.stderr.replace(/^deepprob: backend .*$/m, '').trim();
  expect(r.code, `${args.join(' ')}: exit code\n${err}`).not.toBe(0);
  expect(err, args.join(' ')).toMatch(expected);
  expect(err, 'stack trace').not.toMatch(/\n\s+at .*\(.*:\d+:\d+\)/);
  expect(performance.now() - t0).toBeLessThan(15_000);
}

describe('audit15 deepprob shift: refusals before any work', () => {
  it('runShiftBenchmark: two methods of one name are refused naming methods and the fix (nothing loaded)', async () => {
    const out = join(tmp(), 'o');
    const run = (specs: string[]): Promise<unknown> =>
      runShiftBenchmark({
        methods: specs.map(parseMethodSpec),
        out,
        log: () => undefined,
      });
    // the folders do not exist: the name check comes first, so no load is attempted
    await expect(run(['plain:/nonexistent/a', 'plain:/nonexistent/b'])).rejects.toThrow(
      /methods: .*both named 'plain'.*label=/,
    );
    await expect(run(['x=laplace:/nonexistent/a', 'x=swag:/nonexistent/a'])).rejects.toBeInstanceOf(
      ArgumentError,
    );
    // distinct labels pass the name check and fail on the missing folder instead
    await expect(run(['a=plain:/nonexistent/a', 'b=plain:/nonexistent/b'])).rejects.not.toThrow(
      /both named/,
    );
  });

  it('parseMethodSpec refuses unknown kinds, empty folders, @scale on the wrong kind', () => {
    for (const s of ['foo:runs/a', 'plain', 'plain:', 'laplace@2:runs/a', 'plain:a,b']) {
      expect(() => parseMethodSpec(s), s).toThrow(ArgumentError);
    }
    expect(parseMethodSpec('ens=ensemble:a,b').checkpoints).toEqual(['a', 'b']);
    expect(parseMethodSpec('bayes@1.5:r').kind).toBe('bayes');
  });

  it('the CLI: duplicate names, bad alpha / score / severities / limit are refused by name', async () => {
    const out = join(tmp(), 'o');
    await refusedCli(
      ['shift', '--methods', 'plain:/nonexistent/a', 'plain:/nonexistent/b', '--out', out],
      /both named 'plain'/,
    );
    await refusedCli(
      ['shift', '--checkpoint', '/nonexistent/a', '--alpha', '1', '--out', out],
      /alpha/,
    );
    await refusedCli(
      ['shift', '--checkpoint', '/nonexistent/a', '--alpha', '0', '--out', out],
      /alpha/,
    );
    await refusedCli(
      ['shift', '--checkpoint', '/nonexistent/a', '--score', 'thr', '--out', out],
      /score/,
    );
    await refusedCli(
      ['shift', '--checkpoint', '/nonexistent/a', '--severities', '0,6', '--out', out],
      /severit/,
    );
    await refusedCli(
      ['shift', '--checkpoint', '/nonexistent/a', '--limit', '0', '--out', out],
      /limit/,
    );
    await refusedCli(['shift', '--methods', 'wizard:/nonexistent/a', '--out', out], /wizard/);
  });
});

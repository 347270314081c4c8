/**
 * Audit 16: `deepprob train --ensemble N --json` printed the human lines (`member i: ...`,
 * `evaluate with: ...`) and no JSON. It now prints one JSON object on stdout, the single run's
 * fields per member: `{ensemble, out, seconds, members: [{member, seed, checkpoint, seconds,
 * ...metrics}], evaluate}`; the metrics are each member's last `metrics.jsonl` record.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../faults/cli_runner.js';

const root = mkdtempSync(join(tmpdir(), 'deepprob-a16-ensjson-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const tiny = [
  '--model',
  'lenet5',
  '--epochs',
  '1',
  '--limit',
  '32',
  '--test-limit',
  '8',
  '--batch-size',
  '16',
  '--quiet',
  '--json',
];

describe('audit16 deepprob train --ensemble --json', () => {
  it('prints one JSON object with every member (the single run schema per member)', async () => {
    const out = join(root, 'ens');
    const r = await runCli(['train', ...tiny, '--seed', '7', '--ensemble', '2', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines, r.stdout).toHaveLength(1); // nothing but the JSON on stdout
    const j = JSON.parse(lines[0] as string) as {
      ensemble: number;
      out: string;
      seconds: number;
      evaluate: string;
      members: Record<string, unknown>[];
    };
    expect(j.ensemble).toBe(2);
    expect(j.out).toBe(out);
    expect(j.evaluate).toBe(
      `deepprob shift --methods ens=ensemble:${out}/member-1,${out}/member-2`,
    );
    expect(j.members.map((m) => [m.member, m.seed])).toEqual([
      [1, 7],
      [2, 8],
    ]);
    let total = 0;
    for (const [i, m] of j.members.entries()) {
      const dir = join(out, `member-${i + 1}`);
      expect(String(m.checkpoint)).toContain(dir);
      total += m.seconds as number;
      // the metrics are the member's last epoch record, as written to its metrics.jsonl
      const recs = readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n');
      const last = JSON.parse(recs.at(-1) as string) as Record<string, unknown>;
      for (const [k, v] of Object.entries(last)) {
        if (k === 'seconds') continue; // the run's wall time, not the epoch's
        expect(m[k], `member ${i + 1} ${k}`).toEqual(v);
      }
      expect(typeof m.testAccuracy).toBe('number');
    }
    expect(j.seconds).toBeCloseTo(total, 9);

    // the same fields as a single `train --json` run, plus member and seed
    const single = await runCli(['train', ...tiny, '--seed', '7', '--out', join(root, 'one')]);
    expect(single.code, single.stderr).toBe(0);
    const s = JSON.parse(single.stdout.trim()) as Record<string, unknown>;
    expect(Object.keys(j.members[0] as object).sort()).toEqual(
      [...Object.keys(s), 'member', 'seed'].sort(),
    );
  }, 120_000);

  it('without --json the human lines are unchanged', async () => {
    const out = join(root, 'human');
    const args = tiny.filter((a) => a !== '--json');
    const r = await runCli(['train', ...args, '--ensemble', '2', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`member 1: `);
    expect(r.stdout).toContain(`evaluate with: deepprob shift --methods ens=ensemble:`);
    expect(() => JSON.parse(r.stdout.trim())).toThrow();
  }, 120_000);
});

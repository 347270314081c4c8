/**
 * Audit of the queue commands' exit codes (issue 21), off the seed paths: Redis unreachable (the
 * worker, `queue status`, `queue failed` and a submitter exit 1 naming the address), bad options
 * refused before Redis is contacted (duplicate grid keys, empty lists, --members 1,
 * --concurrency 0, no --redis), and the help of every queue command. No Redis server is needed.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { runCli } from '../faults/cli_runner.js';
import { deepprob, freePort, type CliProcess } from './procs.js';

const env = { DEEPPROB_BACKEND: 'wasm' };
const tinyBase = { model: 'lenet5', epochs: 1, limit: 32, testLimit: 16, batchSize: 32 };

describe('queue commands: exit codes and messages', () => {
  const procs: CliProcess[] = [];
  const dirs: string[] = [];
  const tmp = (): string => {
    const d = mkdtempSync(join(tmpdir(), 'deepprob-a15r-'));
    dirs.push(d);
    return d;
  };
  const run = (args: string[], e: NodeJS.ProcessEnv = env): CliProcess => {
    const p = deepprob(args, e);
    procs.push(p);
    return p;
  };
  afterAll(async () => {
    for (const p of procs) if (p.proc.exitCode === null) p.proc.kill('SIGKILL');
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  const gridFile = (grid: Record<string, unknown[]>, base = tinyBase): string => {
    const dir = tmp();
    const path = join(dir, 'grid.json');
    writeFileSync(path, JSON.stringify({ base, grid }));
    return path;
  };

  it('Redis unreachable: worker, submitters and queue commands fail naming the address', async () => {
    const port = await freePort();
    const url = `redis://127.0.0.1:${port}`;
    const grid = gridFile({ lr: [0.001] });
    const cmds = [
      ['worker', '--redis', url],
      ['queue', 'status', '--redis', url],
      ['queue', 'failed', '--redis', url],
      ['queue', 'retry', '--all', '--redis', url],
      ['sweep', '--grid', grid, '--redis', url, '--store', tmp(), '--quiet'],
    ];
    for (const c of cmds) {
      const t0 = Date.now();
      const r = await runCli(c);
      expect(Date.now() - t0, c.join(' ')).toBeLessThan(15_000);
      expect(r.code, `${c.join(' ')}: ${r.stderr}`).toBe(1);
      expect(r.stderr, c.join(' ')).toContain(`cannot reach Redis at redis://127.0.0.1:${port}`);
    }
    // the real process: exit code 1 and the address on stderr
    const w = run(['worker', '--redis', url], env);
    expect(await w.exited, w.output()).toBe(1);
    expect(w.output()).toContain(`127.0.0.1:${port}`);
  }, 90_000);

  it('bad submit options are refused before Redis is contacted (no server at the URL)', async () => {
    vi.stubEnv('DEEPPROB_REDIS_URL', '');
    try {
      const url = `redis://127.0.0.1:${await freePort()}`;
      const dir = tmp();
      const dup = join(dir, 'dup.json');
      writeFileSync(dup, '{"base": {"epochs": 1}, "grid": {"lr": [0.1], "lr": [0.2]}}');
      const cases: [string[], RegExp][] = [
        [['sweep', '--grid', dup, '--redis', url], /grid\.lr: written twice/],
        [
          ['sweep', '--grid', gridFile({ lr: [] }), '--redis', url],
          /grid\.lr: expected a non-empty/,
        ],
        [
          ['sweep', '--grid', gridFile({ lr: [0.1], seed: [1, 1] }), '--redis', url],
          /grid\.seed\[1\]: duplicate/,
        ],
        [['sweep', '--grid', join(dir, 'none.json'), '--redis', url], /--grid: cannot read/],
        [['ensemble', '--members', '1', '--redis', url], /--members/],
        [['ensemble', '--members', '2', '--ood', 'nope', '--redis', url], /ood/],
        [['worker', '--concurrency', '0', '--redis', url], /--concurrency/],
        [
          ['worker', '--redis', 'http://127.0.0.1:1'],
          /--redis: expected a redis:\/\/ or rediss:\/\/ URL/,
        ],
        [['worker', '--queue', 'a:b', '--redis', url], /--queue/],
        [['worker'], /--redis: a Redis URL is needed/],
        [['queue', 'status'], /--redis: a Redis URL is needed/],
        [['queue', 'retry', '--redis', url], /id: expected failed job ids, or --all/],
        [
          ['queue', 'retry', 'x', '--all', '--redis', url],
          /--all: expected either job ids or --all/,
        ],
        [['sweep', '--redis', url], /--grid/],
        [['score', '--data', 'mnist', '--redis', url], /--checkpoint/],
        [
          ['score', '--checkpoint', dir, '--data', 'mnist', '--shards', '0', '--redis', url],
          /--shards/,
        ],
        [
          ['score', '--checkpoint', dir, '--data', 'mnist', '--mc-samples', '0', '--redis', url],
          /--mc-samples/,
        ],
        [['ensemble', '--members', '2', '--seed', '4294967295', '--redis', url], /--seed/],
        [['ensemble', '--members', '2', '--attempts', '0', '--redis', url], /--attempts/],
      ];
      for (const [args, re] of cases) {
        const r = await runCli(args);
        const out = `${r.stdout}\n${r.stderr}`;
        expect(r.code, `${args.join(' ')}: ${out}`).not.toBe(0);
        expect(out, args.join(' ')).toMatch(re);
        expect(out, args.join(' ')).not.toMatch(/cannot reach Redis/);
      }
      // the real process: a bad grid exits 1 with the message, before Redis
      const p = run(['sweep', '--grid', dup, '--redis', url], { ...env, DEEPPROB_REDIS_URL: '' });
      expect(await p.exited, p.output()).toBe(1);
      expect(p.output()).toContain('grid.lr: written twice');
    } finally {
      vi.unstubAllEnvs();
    }
  }, 90_000);

  it('help of every queue command exits 0 and names its options', async () => {
    const cases: [string[], RegExp][] = [
      [['worker', '--help'], /--redis <url>[\s\S]*--concurrency[\s\S]*--lock-ms/],
      [['sweep', '--help'], /--grid[\s\S]*--store/],
      [['ensemble', '--help'], /--members[\s\S]*--redis/],
      [['score', '--help'], /--shards[\s\S]*--mc-samples/],
      [['queue', '--help'], /status[\s\S]*failed[\s\S]*retry/],
    ];
    for (const [args, re] of cases) {
      const r = await runCli(args);
      expect(r.code, args.join(' ')).toBe(0);
      expect(r.stdout, args.join(' ')).toMatch(re);
    }
  }, 60_000);
});

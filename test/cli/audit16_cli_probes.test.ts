/**
 * Audit 16: the CLI as a user reads `deepprob --help`. Every subcommand's flags do what the help
 * says on tiny runs (`--epochs 1`, small `--limit`), bad values fail naming the flag with a
 * non-zero exit code before any work (no raw tfjs/JS message, no stack trace). In-process (as
 * `bin/deepprob.js` runs it: `runCli`); `audit16_cli_bin.test.ts` checks the real binary.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRun } from '../../src/app/open_run.js';
import { disposeModel } from '../../src/layers/dispose_model.js';
import { runCli } from '../faults/cli_runner.js';
import { idxDataset } from '../idx_fixture.js';

const root = mkdtempSync(join(tmpdir(), 'deepprob-a16-cli-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const tmp = (): string => mkdtempSync(join(root, `d${n++}-`));

const RAW =
  /TypeError|RangeError|ReferenceError|Cannot read prop|undefined is not|is not a function|Invalid typed array/;
const STACK = /\n\s+at .*(\(|:\d+:\d+)/;

/** A bad command line fails fast, naming what `expected` matches. */
async function refused(args: string[], expected: RegExp, maxMs = 15_000): Promise<string> {
  const t0 = performance.now();
  const r = await runCli(args);
  const ms = performance.now() - t0;
  const err = r.stderr.replace(/^deepprob: backend .*$/m, '').trim();
  expect(r.code, `${args.join(' ')}: exit code\n${err}`).not.toBe(0);
  expect(err, args.join(' ')).toMatch(expected);
  expect(err, `${args.join(' ')}: raw message`).not.toMatch(RAW);
  expect(err, `${args.join(' ')}: stack trace`).not.toMatch(STACK);
  expect(ms, `${args.join(' ')} took ${ms} ms`).toBeLessThan(maxMs);
  return err;
}

let data: string;
let run: string;
let trained: Record<string, unknown>;

const tiny = ['--epochs', '1', '--batch-size', '16', '--quiet'];

beforeAll(async () => {
  data = idxDataset({ count: 48 }, { count: 24 });
  run = join(tmp(), 'run');
  const r = await runCli([
    'train',
    '--model',
    'lenet5',
    '--dataset',
    'mnist',
    '--data-dir',
    data,
    ...tiny,
    '--mc-samples',
    '2',
    '--out',
    run,
    '--json',
  ]);
  expect(r.code, r.stderr).toBe(0);
  trained = JSON.parse(r.stdout.trim()) as Record<string, unknown>;
}, 120_000);

describe('audit16 CLI: what the help says', () => {
  it('train --json prints only its JSON: the checkpoint in --out and the last epoch metrics', () => {
    expect(String(trained.checkpoint)).toContain(run);
    expect(trained.epoch).toBe(1);
    expect(typeof trained.testAccuracy).toBe('number');
    const recs = readFileSync(join(run, 'metrics.jsonl'), 'utf8').trim().split('\n');
    expect(recs).toHaveLength(1); // --epochs 1
    expect(readFileSync(join(run, 'metrics.csv'), 'utf8').split('\n')[0]).toContain('epoch');
  });

  it('train --resume of the finished run with --epochs 2 trains one more epoch', async () => {
    const r = await runCli([
      'train',
      '--resume',
      '--epochs',
      '2',
      '--out',
      run,
      '--quiet',
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout.trim()) as { epoch: number }).epoch).toBe(2);
    expect(readFileSync(join(run, 'metrics.jsonl'), 'utf8').trim().split('\n')).toHaveLength(2);
  });

  it('eval --limit N --json evaluates N images; --mc-samples defaults to the training value', async () => {
    const r = await runCli([
      'eval',
      '--checkpoint',
      run,
      '--data-dir',
      data,
      '--limit',
      '10',
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout.trim()) as Record<string, unknown>;
    expect(JSON.stringify(j)).toMatch(/"(count|n|images|numImages|size)":10\b/);
  });

  it('train --limit N trains on N images: saved in the run, resumable with the same data', async () => {
    const out = join(tmp(), 'lim');
    const r = await runCli([
      'train',
      '--model',
      'lenet5',
      '--dataset',
      'mnist',
      '--data-dir',
      data,
      ...tiny,
      '--limit',
      '24',
      '--out',
      out,
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const opened = await openRun(out);
    expect(opened.config.limit).toBe(24);
    disposeModel(opened.model);
  });

  it('train --ensemble 1 is a single run (no member folders)', async () => {
    const out = join(tmp(), 'one');
    const r = await runCli([
      'train',
      '--model',
      'lenet5',
      '--dataset',
      'mnist',
      '--data-dir',
      data,
      ...tiny,
      '--ensemble',
      '1',
      '--out',
      out,
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(String((JSON.parse(r.stdout.trim()) as { checkpoint: string }).checkpoint)).not.toMatch(
      /member-/,
    );
  });

  it('info prints the backend and versions', async () => {
    const r = await runCli(['info']);
    expect(r.code, r.stderr).toBe(0);
    expect(`${r.stdout}\n${r.stderr}`).toMatch(/tfjs|backend/i);
  });
});

describe('audit16 CLI: bad values name the flag, exit non-zero, before any work', () => {
  const train = (...a: string[]): string[] => [
    'train',
    '--model',
    'lenet5',
    '--data-dir',
    data,
    ...tiny,
    '--out',
    join(tmp(), 'x'),
    ...a,
  ];
  it('train: numeric ranges and integer flags', async () => {
    await refused(train('--epochs', '0'), /--epochs/);
    await refused(train('--epochs', '1.5'), /--epochs/);
    await refused(train('--batch-size', 'many'), /--batch-size/);
    await refused(train('--lr', '2'), /--lr/);
    await refused(train('--lr-decay', '0'), /--lr-decay/);
    await refused(train('--seed', '-1'), /--seed/);
    await refused(train('--prior-sigma', '0'), /--prior-sigma/);
    await refused(train('--rho-init', '99'), /--rho-init/);
    await refused(train('--train-samples', '65'), /--train-samples/);
    await refused(train('--ensemble', '0'), /--ensemble/);
    await refused(train('--ensemble', '101'), /--ensemble/);
  });
  it('train: names that are not in the lists', async () => {
    await refused(train('--model', 'resnet'), /^model: expected one of lenet5.*\(--model\)$/);
    await refused(train('--estimator', 'magic'), /--estimator/);
    await refused(
      train('--dataset', 'imagenet'),
      /^dataset: expected one of mnist.*\(--dataset\)$/,
    );
    await refused(train('--activation', 'tanh'), /--activation/);
    await refused(train('--resize', 'crop'), /--resize/);
    await refused(train('--kl-weight', 'heavy'), /--kl-weight/);
    await refused(train('--evidence', 'square'), /--evidence/);
    await refused(train('--input-size', '7'), /--input-size/);
    await refused(train('--input-size', '32x'), /--input-size/);
  });
  it('train: --resume without a run, and --resume with --force', async () => {
    await refused(
      ['train', '--resume', '--out', join(tmp(), 'none'), '--quiet'],
      /^resume: .* does not exist.*--resume\b/,
    );
    await refused(['train', '--resume', '--force', '--out', run, '--quiet'], /--force|--resume/);
  });
  it('train: a missing --data-dir names the folder', async () => {
    const missing = join(tmp(), 'nowhere');
    await refused(
      ['train', '--model', 'lenet5', '--data-dir', missing, ...tiny, '--out', join(tmp(), 'y')],
      new RegExp(missing.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')),
    );
  });
  it('eval: no --checkpoint, a folder without one, bad --mc-samples / --resize', async () => {
    await refused(['eval'], /--checkpoint/);
    await refused(
      ['eval', '--checkpoint', tmp()],
      /^checkpoint: no model\.json in .*\(--checkpoint\)$/,
    );
    await refused(['eval', '--checkpoint', run, '--mc-samples', '0'], /--mc-samples/);
    await refused(['eval', '--checkpoint', run, '--resize', 'zoom'], /--resize/);
    await refused(['eval', '--checkpoint', run, '--dataset', 'imagenet'], /--dataset|--checkpoint/);
  });
  it('uncertainty: --bins 0, --ood unknown, --mc-samples 0', async () => {
    await refused(['uncertainty', '--checkpoint', run, '--bins', '0'], /--bins/);
    await refused(
      ['uncertainty', '--checkpoint', run, '--ood', 'imagenet'],
      /^ood: expected one of .*\(--ood\)$/,
    );
    await refused(['uncertainty', '--checkpoint', run, '--mc-samples', '0'], /--mc-samples/);
  });
  it('shift: --alpha, --score, --split, --families, --severities, --angles, --methods', async () => {
    const shift = (...a: string[]): string[] => [
      'shift',
      '--checkpoint',
      run,
      '--out',
      join(tmp(), 's'),
      ...a,
    ];
    await refused(shift('--alpha', '1'), /--alpha/);
    await refused(shift('--score', 'best'), /--score/);
    await refused(shift('--split', 'tail'), /--split/);
    await refused(shift('--families', 'rotation,blur'), /^families: .*\(--families\)$/);
    await refused(shift('--severities', '0,6'), /^severities: .*1\.\.5.*\(--severities\)$/);
    await refused(
      shift('--angles', 'ninety'),
      /^--angles: expected comma-separated numbers, got 'ninety'/,
    );
    await refused(
      ['shift', '--methods', `magic:${run}`, '--out', join(tmp(), 's')],
      /^methods: unknown kind 'magic'.*\(--methods\)$/,
    );
  });
  it('convert: no --model, bad --layers / --init / --moped', async () => {
    await refused(['convert', '--out', tmp()], /--model/);
    const m = join(tmp(), 'model.json');
    writeFileSync(m, '{}');
    await refused(['convert', '--model', m, '--out', tmp(), '--layers', 'lstm'], /--layers/);
    await refused(['convert', '--model', m, '--out', tmp(), '--init', 'zeros'], /--init/);
    await refused(['convert', '--model', m, '--out', tmp(), '--moped', '0'], /--moped/);
  });
  it('demo: bad --estimator / --epochs / --ood-limit', async () => {
    await refused(['demo', '--estimator', 'magic'], /--estimator/);
    await refused(['demo', '--epochs', '0'], /--epochs/);
    await refused(['demo', '--ood-limit', '0'], /--ood-limit/);
  });
  it('sweep / score / ensemble: missing inputs and bad queue flags', async () => {
    await refused(['sweep'], /--grid/);
    await refused(['sweep', '--grid', join(tmp(), 'no.json')], /no\.json/);
    await refused(['sweep', '--grid', 'g.json', '--attempts', '0'], /--attempts/);
    await refused(['sweep', '--grid', 'g.json', '--queue', 'a:b'], /--queue/);
    await refused(['sweep', '--grid', 'g.json', '--redis-timeout', '0'], /--redis-timeout/);
    await refused(['score', '--data', 'mnist'], /--checkpoint/);
    await refused(['score', '--checkpoint', run, '--data', 'mnist', '--split', 'dev'], /--split/);
    await refused(
      ['score', '--checkpoint', run, '--data', 'mnist', '--block-size', '0'],
      /--block-size/,
    );
    await refused(['ensemble', '--members', '0'], /--members/);
    await refused(['ensemble', '--members', '2', '--eval-limit', '0'], /--eval-limit/);
  });
  it('worker / queue: no Redis URL, bad --concurrency / --lock-ms, retry with nothing to retry', async () => {
    const noEnv = { ...process.env };
    delete process.env.DEEPPROB_REDIS_URL;
    try {
      await refused(['worker'], /--redis/);
      await refused(
        ['worker', '--redis', 'redis://127.0.0.1:1', '--concurrency', '0'],
        /--concurrency/,
      );
      await refused(['worker', '--redis', 'redis://127.0.0.1:1', '--lock-ms', 'soon'], /--lock-ms/);
      await refused(['queue', 'status'], /--redis/);
      await refused(['queue', 'failed'], /--redis/);
      await refused(['queue', 'retry', '--redis', 'redis://127.0.0.1:1'], /--all/);
    } finally {
      process.env = noEnv;
    }
  });
  it('unknown options and commands', async () => {
    await refused(['train', '--epoch', '1'], /unknown option '--epoch'/);
    await refused(['trian'], /unknown command 'trian'/);
    await refused(['--backend', 'gpu', 'info'], /backend 'gpu' is not usable.*\(--backend\)$/m);
  });
});

/**
 * Audit 19: progress output. `train`, `convert`, `demo` and the queue commands took `--quiet`;
 * `eval`, `uncertainty` and `shift`, which print progress lines on stderr, did not (`unknown
 * option '--quiet'`). They take it now and pass it to their runners (`quiet`, a silent `log`).
 * The progress bars (training, flows) write no escape sequence and no carriage return when
 * stderr is not a terminal, only whole lines.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';

const calls: { runner: string; options: Record<string, unknown> }[] = [];

vi.mock('../../src/app/index.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/app/index.js')>();
  return {
    ...real,
    runEvaluation: (config: Record<string, unknown>, options: Record<string, unknown>) => {
      calls.push({ runner: 'eval', options: { ...config, ...options } });
      return Promise.resolve({ model: 'm', dataset: 'd', count: 1, accuracy: 1 });
    },
    runUncertaintyReport: (options: Record<string, unknown>) => {
      calls.push({ runner: 'uncertainty', options });
      return Promise.resolve({
        report: {
          model: { name: 'm' },
          inDistribution: { name: 'a', count: 1 },
          outOfDistribution: { name: 'b', count: 1 },
          metrics: {},
          scores: [],
        },
        htmlPath: 'r.html',
        jsonPath: 'r.json',
      });
    },
  };
});
vi.mock('../../src/app/shift/run.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/app/shift/run.js')>();
  return {
    ...real,
    runShiftBenchmark: (options: Record<string, unknown>) => {
      calls.push({ runner: 'shift', options });
      return Promise.resolve({ result: { summary: [] }, table: '', jsonPath: 'j', htmlPath: 'h' });
    },
  };
});

const { runCli } = await import('../faults/cli_runner.js');
const { barProgress } = await import('../../src/train/progress.js');
const { flowProgressBar } = await import('../../src/queue/executor.js');

afterEach(() => {
  calls.length = 0;
});

describe('audit19 --quiet of eval, uncertainty, shift', () => {
  const lines: [string, string[]][] = [
    ['eval', ['eval', '--checkpoint', 'runs/x', '--json']],
    ['uncertainty', ['uncertainty', '--checkpoint', 'runs/x', '--json']],
    ['shift', ['shift', '--checkpoint', 'runs/x', '--json']],
  ];
  for (const [runner, args] of lines) {
    it(`${runner} --quiet silences the runner's progress; without it the runner logs`, async () => {
      const quiet = await runCli([...args, '--quiet']);
      expect(quiet.code, quiet.stderr).toBe(0);
      const loud = await runCli(args);
      expect(loud.code, loud.stderr).toBe(0);
      const [q, l] = calls;
      expect(q?.runner).toBe(runner);
      if (runner === 'eval') {
        expect(q?.options.quiet).toBe(true);
        expect(l?.options.quiet).toBe(false);
        expect(q?.options).not.toHaveProperty('json');
      } else {
        const log = q?.options.log as (s: string) => void;
        expect(typeof log).toBe('function');
        const spy = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
        const err = vi.spyOn(console, 'error').mockImplementation(() => {});
        const out = vi.spyOn(console, 'log').mockImplementation(() => {});
        log('progress line');
        expect(spy).not.toHaveBeenCalled();
        expect(err).not.toHaveBeenCalled();
        expect(out).not.toHaveBeenCalled();
        [spy, err, out].forEach((s) => s.mockRestore());
        expect(l?.options.log).toBeUndefined();
        expect(q?.options).not.toHaveProperty('quiet');
      }
    });
  }

  it('--help of each lists --quiet', async () => {
    for (const cmd of ['eval', 'uncertainty', 'shift']) {
      const r = await runCli([cmd, '--help']);
      expect(r.stdout, cmd).toMatch(/--quiet\s+no progress lines on stderr/);
    }
  });
});

describe('audit19 progress bars when stderr is not a terminal', () => {
  async function captured(run: () => Promise<void>): Promise<string> {
    const chunks: string[] = [];
    const tty = process.stderr.isTTY;
    Object.defineProperty(process.stderr, 'isTTY', { value: false, configurable: true });
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => {
      chunks.push(String(s));
      return true;
    });
    try {
      await run();
    } finally {
      spy.mockRestore();
      Object.defineProperty(process.stderr, 'isTTY', { value: tty, configurable: true });
    }
    return chunks.join('');
  }
  const wait = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

  it('the training bar writes whole lines: no escape sequence, no carriage return; NaN reads n/a', async () => {
    const text = await captured(async () => {
      const p = barProgress({ intervalMs: 5 });
      p.start('epoch 1/1', 10);
      for (let i = 1; i <= 10; i++) {
        p.update(i, { loss: i === 5 ? NaN : 0.5, nll: 0.4, kl: 0.1, acc: 0.9, ips: 100 });
        await wait(3);
      }
      p.stop();
      p.log('done');
    });
    expect(text.length).toBeGreaterThan(0);
    expect(text).not.toMatch(/\x1b|\r/); // eslint-disable-line no-control-regex
    expect(text.endsWith('\n')).toBe(true);
    expect(text).toContain('epoch 1/1');
    expect(text).not.toContain('NaN');
  });

  it('on a terminal with NO_COLOR set: cursor movement only, no colour (SGR) sequence', async () => {
    const before = process.env.NO_COLOR;
    process.env.NO_COLOR = '1';
    const chunks: string[] = [];
    const tty = process.stderr.isTTY;
    Object.defineProperty(process.stderr, 'isTTY', { value: true, configurable: true });
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => {
      chunks.push(String(s));
      return true;
    });
    try {
      const p = barProgress();
      p.start('epoch 1/1', 4);
      for (let i = 1; i <= 4; i++) {
        p.update(i, { loss: 0.5, nll: 0.4, kl: 0.1, acc: 0.9, ips: 100 });
        await wait(60);
      }
      p.stop();
    } finally {
      spy.mockRestore();
      Object.defineProperty(process.stderr, 'isTTY', { value: tty, configurable: true });
      if (before === undefined) delete process.env.NO_COLOR;
      else process.env.NO_COLOR = before;
    }
    const text = chunks.join('');
    expect(text).toContain('epoch 1/1');
    expect(text).not.toMatch(/\x1b\[[0-9;]*m/); // eslint-disable-line no-control-regex
  });

  it('the flow bar likewise', async () => {
    const text = await captured(async () => {
      const bar = flowProgressBar('sweep of 2', 2);
      bar.update([0.5, 0]);
      await wait(5);
      bar.update([1, 1]);
      bar.stop();
    });
    expect(text).not.toMatch(/\x1b|\r/); // eslint-disable-line no-control-regex
    expect(text).toContain('2/2 jobs done');
  });
});

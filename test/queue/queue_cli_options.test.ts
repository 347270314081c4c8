/**
 * The options of the queue commands agree: `--queue` exists on every submitter (`ensemble`,
 * `score`, `sweep`) as on `worker` and `queue status`, with the same default and the same check
 * (a name without `:`, BullMQ's key separator), refused before anything connects.
 */
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/main.js';
import { inputSizeOption } from '../../src/cli/options.js';
import { trainingConfigOf } from '../../src/cli/queue_common.js';
import { checkQueueName, QUEUE_NAME } from '../../src/queue/redis_url.js';
import { runCli } from '../faults/cli_runner.js';

const find = (path: string[]): Command => {
  let c: Command | undefined = buildProgram();
  for (const name of path) c = c?.commands.find((x) => x.name() === name);
  if (c === undefined) throw new Error(`no command ${path.join(' ')}`);
  return c;
};

const commands = [['ensemble'], ['score'], ['sweep'], ['worker'], ['queue', 'status']];

describe('--queue of the queue commands', () => {
  it.each(commands)('%s has --queue, default deepprob', (...path: string[]) => {
    const opt = find(path).options.find((o) => o.long === '--queue');
    expect(opt, path.join(' ')).toBeDefined();
    expect(opt?.defaultValue).toBe(QUEUE_NAME);
  });

  it.each(commands)('%s refuses a queue name with a colon, naming --queue', async (...path) => {
    const r = await runCli([...path, '--queue', 'a:b', '--redis', 'redis://127.0.0.1:1']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(
      "option '--queue <name>' argument 'a:b' is invalid. expected a queue name without ':'",
    );
  });

  it('checkQueueName names the argument', () => {
    expect(checkQueueName('jobs-2')).toBe('jobs-2');
    expect(() => checkQueueName('', 'queue')).toThrow(/^queue: expected a queue name/);
  });
});

describe('training options of the submitters', () => {
  it('--input-size HxW and --activation reach the jobs as deepprob train takes them', () => {
    const c = trainingConfigOf({
      model: '3conv3fc',
      dataset: 'mnist',
      inputSize: inputSizeOption('28x40'),
      activation: 'relu',
    });
    expect([c.inputSize, c.inputWidth, c.activation]).toEqual([28, 40, 'relu']);
    expect(trainingConfigOf({ model: 'lenet5', inputSize: inputSizeOption('28') }).inputSize).toBe(
      28,
    );
    for (const path of [['ensemble']]) {
      const longs = find(path).options.map((o) => o.long);
      expect(longs, path.join(' ')).toContain('--activation');
    }
  });
});

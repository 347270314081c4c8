/**
 * `gracefulStop`, the one set-up of a run's graceful stop shared by the runners (train, eval,
 * uncertainty, shift): without `handleSignals` nothing is watched; with it, a signal sets the stop
 * request, `requested()` yields a turn so that a queued signal is seen, and `end()` removes every
 * handler it installed. (The runners' behaviour under real signals is test/faults/graceful_stop*.)
 */
import { describe, expect, it } from 'vitest';
import { STOP_SIGNALS, gracefulStop, type StopSignal } from '../../src/app/graceful_stop.js';

const names = Object.keys(STOP_SIGNALS) as StopSignal[];
const counts = (): number[] => names.map((n) => process.listenerCount(n));

describe('gracefulStop', () => {
  it('watches nothing without handleSignals', async () => {
    const before = counts();
    const stop = gracefulStop(false, () => undefined);
    expect(counts()).toEqual(before);
    expect(stop.shouldStop).toBeUndefined();
    expect(await stop.requested()).toBe(false);
    await stop.end();
    expect(stop.signal).toBeUndefined();
  });

  it('a signal sets the request, seen by shouldStop and requested(); end() removes the handlers', async () => {
    const before = counts();
    const lines: string[] = [];
    const stop = gracefulStop(true, (l) => lines.push(l), { first: 'first!', second: 'second!' });
    expect(counts()).toEqual(before.map((c) => c + 1));
    expect(stop.shouldStop?.()).toBe(false);
    expect(await stop.requested()).toBe(false);
    process.emit('SIGHUP', 'SIGHUP');
    expect(stop.signal).toBe('SIGHUP');
    expect(stop.shouldStop?.()).toBe(true);
    expect(await stop.requested()).toBe(true);
    expect(lines).toEqual(['deepprob: SIGHUP received: first! (send it again to exit at once)']);
    await stop.end();
    expect(counts()).toEqual(before);
  });
});

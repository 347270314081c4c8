/**
 * A taker in the lock race of `run_lock.test.ts`: at `start + i * step` ms (busy-waiting, so that
 * the racers collide) it tries to take the lock of directory `i`, and prints one JSON line per
 * directory: `won`, or the refusal.
 */
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { lockRun } from '../../src/app/run_lock.js';

const [dirsJson, startRaw, stepRaw, doneDir, racersRaw] = process.argv.slice(2);
const dirs = JSON.parse(String(dirsJson)) as string[];
const start = Number(startRaw);
const step = Number(stepRaw);
const results: string[] = [];
for (const [i, dir] of dirs.entries()) {
  const at = start + i * step;
  while (Date.now() < at) {
    // spin: a timer would scatter the racers by milliseconds
  }
  try {
    lockRun(dir); // kept: the winner's lock stays for the test to read
    results.push('won');
  } catch (e) {
    results.push(`refused: ${(e as Error).message}`);
  }
}
console.log(JSON.stringify({ pid: process.pid, results }));
// stay alive until every racer is done: a winner that exits at once leaves a lock of a gone
// process, which a racer still on its way to the last round rightly takes over
if (doneDir !== undefined) {
  writeFileSync(join(doneDir, String(process.pid)), '');
  const until = Date.now() + 30_000;
  const poll = (): void => {
    if (readdirSync(doneDir).length >= Number(racersRaw) || Date.now() > until) process.exit(0);
    else setTimeout(poll, 20);
  };
  poll();
} else process.exit(0);

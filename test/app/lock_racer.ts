/**
 * A taker in the lock race of `run_lock.test.ts`: at `start + i * step` ms (busy-waiting, so that
 * the racers collide) it tries to take the lock of directory `i`, and prints one JSON line per
 * directory: `won`, or the refusal.
 */
import { lockRun } from '../../src/app/run_lock.js';

const [dirsJson, startRaw, stepRaw] = process.argv.slice(2);
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
process.exit(0);

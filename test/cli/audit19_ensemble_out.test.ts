/**
 * Audit 19: `deepprob ensemble --out DIR` copied report.html / report.json with a plain
 * `writeFileSync` (truncate, then write): a crash or a full disk mid-copy left a truncated report
 * in place of the earlier one. The copy is atomic now (`copyEnsembleReport`: both blobs read
 * first, each file written to a temporary and renamed). An unwritable `--out` was found only after
 * every member had trained; it is refused before any work.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { copyEnsembleReport } from '../../src/cli/ensemble.js';
import { DirResultStore } from '../../src/queue/result_store.js';
import { fsOps } from '../../src/utils/file_io.js';
import { runCli } from '../faults/cli_runner.js';

const root = mkdtempSync(join(tmpdir(), 'a19-ens-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const real = { ...fsOps };
afterEach(() => Object.assign(fsOps, real));

function storeWithReport(html: string, json: string): { store: DirResultStore; key: string } {
  const store = new DirResultStore(mkdtempSync(join(root, 'store-')));
  const key = 'ensemble-a19/aggregate';
  const enc = new TextEncoder();
  store.put(
    key,
    { kind: 'ensemble' },
    { 'report.html': enc.encode(html), 'report.json': enc.encode(json) },
  );
  return { store, key };
}

describe('audit19 ensemble --out', () => {
  it('copies both files', () => {
    const { store, key } = storeWithReport('<html>new</html>', '{"new":1}');
    const out = join(root, 'out-ok', 'nested');
    copyEnsembleReport(store, key, out);
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toBe('<html>new</html>');
    expect(readFileSync(join(out, 'report.json'), 'utf8')).toBe('{"new":1}');
  });

  it('a write that fails half-way (ENOSPC) leaves the earlier report whole, and no temporary', () => {
    const big = `<html>${'x'.repeat(100_000)}</html>`;
    const { store, key } = storeWithReport(big, '{"new":1}');
    const out = mkdtempSync(join(root, 'out-'));
    writeFileSync(join(out, 'report.html'), '<html>old</html>');
    writeFileSync(join(out, 'report.json'), '{"old":1}');
    fsOps.writeFileSync = ((path: string, data: Uint8Array) => {
      if (String(path).includes('report.html')) {
        real.writeFileSync(path, data.subarray(0, 1000)); // half written, then the disk is full
        throw Object.assign(new Error('ENOSPC: no space left on device, write'), {
          code: 'ENOSPC',
        });
      }
      real.writeFileSync(path, data);
    }) as typeof fsOps.writeFileSync;
    expect(() => copyEnsembleReport(store, key, out)).toThrow(
      /report\.html: cannot write \(ENOSPC/,
    );
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toBe('<html>old</html>');
    expect(readdirSync(out).sort()).toEqual(['report.html', 'report.json']);
  });

  it('a result without report.html changes nothing in --out', () => {
    const store = new DirResultStore(mkdtempSync(join(root, 'store-')));
    store.put('k/aggregate', {}, { 'report.json': new TextEncoder().encode('{}') });
    const out = mkdtempSync(join(root, 'out-'));
    writeFileSync(join(out, 'report.json'), '{"old":1}');
    expect(() => copyEnsembleReport(store, 'k/aggregate', out)).toThrow(/no blob report\.html/);
    expect(readFileSync(join(out, 'report.json'), 'utf8')).toBe('{"old":1}');
  });

  it('an --out that is a file is refused naming --out before any member trains', async () => {
    const file = join(root, 'a-file');
    writeFileSync(file, 'x');
    const r = await runCli([
      'ensemble',
      '--members',
      '2',
      '--epochs',
      '1',
      '--out',
      file,
      '--store',
      join(root, 'never'),
      '--quiet',
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^out: .*\(--out\)$/m);
    expect(r.stderr).not.toMatch(/jobs on/); // no flow started
    expect(readdirSync(root)).not.toContain('never');
  });
});

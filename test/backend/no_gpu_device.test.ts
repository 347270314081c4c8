/**
 * `noGpuDevice` (node_hooks.ts): on Linux, ready() skips loading Dawn when no GPU device node
 * exists (no hardware adapter can), and probes when one does.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { noGpuDevice } from '../../src/backend/node_hooks.js';

function devDir(files: string[]): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'deepprob-dev-'));
  for (const f of files) {
    fs.mkdirSync(path.dirname(path.join(d, f)), { recursive: true });
    fs.writeFileSync(path.join(d, f), '');
  }
  return d;
}

describe.skipIf(process.platform !== 'linux')('noGpuDevice (Linux)', () => {
  it('names the missing device nodes when there is none', () => {
    const d = devDir(['null', 'dri/card0']);
    expect(noGpuDevice(d)).toMatch(/no GPU device node .*renderD.*nvidia.*dxg/);
    fs.rmSync(d, { recursive: true });
  });

  it('lets the probe decide when a render node, an NVIDIA device or /dev/dxg exists', () => {
    for (const f of ['dri/renderD128', 'nvidia0', 'nvidiactl', 'dxg']) {
      const d = devDir(['null', f]);
      expect(noGpuDevice(d)).toBeUndefined();
      fs.rmSync(d, { recursive: true });
    }
  });
});

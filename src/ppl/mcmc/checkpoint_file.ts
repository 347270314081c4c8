/**
 * The Node file IO of MCMC checkpoints (`deepprob/node` registers it on import): reads with
 * `readFileSync` (a missing file is `undefined`), writes with {@link atomicWriteFile} (temporary
 * file in the same directory, fsync, rename), so a kill at any moment leaves the previous complete
 * checkpoint or the new one, never a half-written file under the checkpoint's name.
 */
import { readFileSync } from 'node:fs';
import { atomicWriteFile, fsyncDir } from '../../utils/file_io.js';
import { dirname } from 'node:path';
import { setCheckpointIO, type MCMCCheckpointIO } from './checkpoint.js';

/** Checkpoints as files (see the module docs). */
export const fileCheckpointIO: MCMCCheckpointIO = {
  read(path: string): Uint8Array | undefined {
    try {
      return readFileSync(path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  },
  write(path: string, data: Uint8Array): void {
    atomicWriteFile(path, data);
    fsyncDir(dirname(path));
  },
};

/** Make `checkpoint: { path }` of `MCMC` read and write files (done by `deepprob/node`). */
export function registerCheckpointFiles(): void {
  setCheckpointIO(fileCheckpointIO);
}

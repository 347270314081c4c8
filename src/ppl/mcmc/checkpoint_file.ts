/**
 * The Node file IO of MCMC checkpoints (`deepprob/node` registers it on import): reads with
 * `readFileSync` (a missing file is `undefined`; a folder, a path below a file, a FIFO, a device or
 * an unreadable file is a `DeepProbError` naming the path), writes with {@link atomicWriteFile} (temporary
 * file in the same directory, fsync, rename), so a kill at any moment leaves the previous complete
 * checkpoint or the new one, never a half-written file under the checkpoint's name.
 */
import { readFileSync, statSync } from 'node:fs';
import { DeepProbError } from '../../utils/errors.js';
import { atomicWriteFile, fsyncDir } from '../../utils/file_io.js';
import { dirname } from 'node:path';
import { setCheckpointIO, type MCMCCheckpointIO } from './checkpoint.js';

/** Checkpoints as files (see the module docs). */
export const fileCheckpointIO: MCMCCheckpointIO = {
  read(path: string): Uint8Array | undefined {
    try {
      // a FIFO or a device (a link to /dev/zero) would block the read forever or fill the memory
      if (!statSync(path).isFile() && !statSync(path).isDirectory()) {
        throw new DeepProbError(
          `MCMC checkpoint ${path} is not a regular file (a FIFO or a device); give checkpoint.path a file path`,
        );
      }
      return readFileSync(path);
    } catch (e) {
      if (e instanceof DeepProbError) throw e;
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return undefined;
      const why =
        code === 'EISDIR'
          ? 'is a folder, not a checkpoint file'
          : code === 'ENOTDIR'
            ? 'lies below a file, not a folder'
            : `cannot be read (${e instanceof Error ? e.message : String(e)})`;
      throw new DeepProbError(`MCMC checkpoint ${path} ${why}; give checkpoint.path a file path`);
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

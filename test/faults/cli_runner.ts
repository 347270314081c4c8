/**
 * Run the `deepprob` program in-process as `bin/deepprob.js` does (exit code 0 on success; a
 * commander error exits 2 (0 for --help) after writing its message; any other error prints its
 * message and exits 1), capturing what it writes.
 */
import { CommanderError } from 'commander';
import { vi } from 'vitest';
import { buildProgram, commanderExitCode, flagNamedError } from '../../src/cli/main.js';

/** What a CLI run produced. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run `deepprob <args>` in this process. */
export async function runCli(args: string[]): Promise<CliRun> {
  const out: string[] = [];
  const err: string[] = [];
  const spies = [
    vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' '))),
    vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' '))),
    vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => {
      err.push(String(s));
      return true;
    }),
    vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => {
      out.push(String(s));
      return true;
    }),
  ];
  let code = 0;
  const program = buildProgram().exitOverride();
  try {
    for (const c of program.commands) c.exitOverride();
    await program.parseAsync(['node', 'deepprob', ...args]);
  } catch (e) {
    if (e instanceof CommanderError) code = commanderExitCode(e);
    else {
      // bin/deepprob.js prints the message only (main names an option by its flag)
      const f = flagNamedError(e, program);
      err.push(f instanceof Error ? f.message : String(f));
      code = 1;
    }
  } finally {
    spies.forEach((s) => s.mockRestore());
  }
  return { code, stdout: out.join('\n'), stderr: err.join('\n') };
}

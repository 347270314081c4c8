/**
 * The `deepprob` command-line program. Each subcommand lives in its own file under `src/cli/`
 * and registers itself on the commander program here.
 */
import { Command } from 'commander';
import { ready, describeBackend } from '../backend/ready.js';
import { version } from '../version.js';

/** Build the commander program with every subcommand. */
export function buildProgram(): Command {
  const program = new Command('deepprob')
    .description('Deep probabilistic programming on TensorFlow.js')
    .version(version)
    .option('--backend <name>', 'tfjs backend: wasm | cpu | tensorflow (default: best available)');
  program
    .command('info')
    .description('print the chosen backend and versions')
    .action(async () => {
      const info = await ready({ backend: program.opts<{ backend?: string }>().backend });
      console.log(describeBackend(info));
    });
  return program;
}

/** Entry point used by `bin/deepprob.js`; resolves to the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  await program.parseAsync(argv);
  return 0;
}

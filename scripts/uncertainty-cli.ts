// Run `deepprob uncertainty` from the TypeScript sources (for development, before src/cli/main.ts
// registers it): npx tsx scripts/uncertainty-cli.ts uncertainty --checkpoint DIR ...
import { Command } from 'commander';
import { register } from '../src/cli/uncertainty.js';

const program = new Command('deepprob').option('--backend <name>', 'tfjs backend');
register(program);
await program.parseAsync(process.argv);

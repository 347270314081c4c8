/** Runs the `deepprob` CLI from the sources (tests spawn worker processes with `tsx` on this file). */
import { main } from '../../src/cli/main.js';

main(process.argv).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  },
);

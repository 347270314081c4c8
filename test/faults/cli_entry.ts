/**
 * `bin/deepprob.js` over the sources (no build): the process the fault tests spawn with
 * `node --import tsx test/faults/cli_entry.ts <args>`.
 */
import { main } from '../../src/cli/main.js';

main(process.argv).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  },
);

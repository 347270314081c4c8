#!/usr/bin/env node
// Thin launcher: the CLI lives in src/cli and is compiled to dist/cli by `npm run build` (run by `npm install`).
import { main } from '../dist/cli/main.js';

main(process.argv).then(
  (code) => process.exit(code ?? 0),
  (err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);

#!/usr/bin/env node
// Thin launcher: the CLI lives in src/cli and is compiled to dist/cli by `npm run build` (run by
// `npm start` and `npm pack`; the published package ships dist/).
let main;
try {
  ({ main } = await import('../dist/cli/main.js'));
} catch (err) {
  if (
    err &&
    err.code === 'ERR_MODULE_NOT_FOUND' &&
    String(err.message).includes('dist/cli/main.js')
  ) {
    console.error(
      'deepprob: dist/ is missing; in a clone of the repository run `npm run build` first.',
    );
    process.exit(1);
  }
  throw err;
}

main(process.argv).then(
  (code) => process.exit(code ?? 0),
  (err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);

/**
 * `npm run test:posteriordb`: NUTS against Stan reference posteriors from posteriordb, 1 chain of
 * 1,000 warmup + 1,000 draws per posterior (the protocol): every parameter's mean must be
 * within 0.2 reference sd and its sd within 20 % of the reference. Prints a table (also written to
 * `docs/posteriordb.md` with `--out docs/posteriordb.md`) and exits non-zero on a failure.
 *
 * Usage: `npx tsx test/ppl/mcmc/posteriordb.run.ts [--seed 0] [--out docs/posteriordb.md] [names...]`
 */
import * as tf from '@tensorflow/tfjs';
import { writeFileSync } from 'node:fs';
import { ready } from '../../../src/index.js';
import { MCMC, NUTS } from '../../../src/ppl/mcmc/index.js';
import {
  POSTERIORDB_SOURCE,
  arK,
  compare,
  eightSchoolsNoncentered,
  kidscoreMomiq,
  sblriBlr,
  type Posterior,
} from './posteriordb_models.js';

const argv = process.argv.slice(2);
let seed = 0;
let out: string | undefined;
const names: string[] = [];
for (let i = 0; i < argv.length; i++) {
  const a = argv[i] as string;
  if (a === '--seed') seed = Number(argv[++i]);
  else if (a === '--out') out = argv[++i];
  else names.push(a);
}

const info = await ready();
const all: (() => Posterior)[] = [eightSchoolsNoncentered, sblriBlr, kidscoreMomiq, arK];
const lines: string[] = [
  `# NUTS vs posteriordb reference posteriors`,
  '',
  `Run: \`npm run test:posteriordb\` (${new Date().toISOString().slice(0, 16)} UTC, backend ${info.backend}, seed ${seed}, 1 chain, 1000 warmup + 1000 draws, default NUTS options).`,
  `Pass: |mean - ref| <= 0.2 ref sd and |sd / ref sd - 1| <= 0.2 for every parameter.`,
  '',
  `Reference: ${POSTERIORDB_SOURCE}.`,
  '',
];
let failed = 0;
for (const make of all) {
  const p = make();
  if (names.length > 0 && !names.some((n) => p.name.includes(n))) {
    p.dispose();
    continue;
  }
  const mcmc = new MCMC(new NUTS(p.model), {
    numSamples: 1000,
    warmupSteps: 1000,
    seed,
    progressBar: true,
  });
  const t0 = performance.now();
  await mcmc.run();
  const secs = (performance.now() - t0) / 1000;
  const samples = mcmc.getSamples();
  const rows = compare(p, samples);
  tf.dispose(Object.values(samples));
  const st = mcmc.getExtraFields()[0];
  lines.push(
    `## ${p.name}`,
    '',
    `${secs.toFixed(1)} s (${(2000 / secs).toFixed(0)} draws/s incl. warmup), ${st?.gradientEvaluations} gradient evaluations, step size ${st?.stepSize[0]?.toPrecision(3)}, divergences ${mcmc.numDivergences}`,
    '',
    '| parameter | mean | ref mean | \\|Δmean\\|/ref sd | sd | ref sd | sd ratio | ok |',
    '|---|---|---|---|---|---|---|---|',
  );
  for (const r of rows) {
    const ok = r.zMean <= 0.2 && Math.abs(r.sdRatio - 1) <= 0.2;
    if (!ok) failed += 1;
    lines.push(
      `| ${r.param} | ${r.mean.toPrecision(4)} | ${r.refMean.toPrecision(4)} | ${r.zMean.toFixed(3)} | ${r.sd.toPrecision(3)} | ${r.refSd.toPrecision(3)} | ${r.sdRatio.toFixed(3)} | ${ok ? 'yes' : '**no**'} |`,
    );
  }
  lines.push('');
  console.log(lines.slice(-rows.length - 6).join('\n'));
  p.dispose();
}
lines.push(failed === 0 ? 'All parameters pass.' : `${failed} parameter(s) outside the tolerance.`);
if (out !== undefined) writeFileSync(out, lines.join('\n') + '\n');
console.log(
  failed === 0 ? 'posteriordb: all parameters pass' : `posteriordb: ${failed} failure(s)`,
);
process.exit(failed === 0 ? 0 : 1);

/**
 * The process `mcmc_checkpoint_kill.test.ts` spawns and kills: NUTS on a small model, 2
 * sequential chains, seed 3, through `deepprob/node`'s checkpoint files.
 * `node --import tsx mcmc_entry.ts <out.json> [<checkpoint> <resume 0|1> <pause ms>]`: writes the
 * draws (per chain) and tree depths to `out.json`; with a checkpoint it reports each write on
 * stderr (`wrote <n>`) and pauses `pause` ms after it, so the test can kill it mid-run.
 */
import { writeFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { distributions, fileCheckpointIO, ppl, ready } from '../../src/node.js';

const { HalfNormal, Normal } = distributions;

const [out, path, resume, pause] = process.argv.slice(2);
await ready();
const y = tf.tensor1d([0.3, -1.2, 2.2, 0.9, 1.4, 0.2, -0.4]);

function model(): void {
  const mu = ppl.sample('mu', new Normal(0, 10));
  const s = ppl.sample('s', new HalfNormal(2));
  ppl.plate('data', 7, () => ppl.sample('y', new Normal(mu, s), { obs: y }));
}

let writes = 0;
const pausing: ppl.MCMCCheckpointIO = {
  read: (p) => fileCheckpointIO.read(p),
  write: (p, d) => {
    fileCheckpointIO.write(p, d);
    writes += 1;
    process.stderr.write(`wrote ${writes}\n`);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Number(pause ?? 0));
  },
};

const mcmc = new ppl.MCMC(new ppl.NUTS(model), {
  numSamples: 150,
  warmupSteps: 150,
  numChains: 2,
  seed: 3,
  progressBar: false,
  ...(path === undefined
    ? {}
    : { checkpoint: { path, every: 10, resume: resume === '1', io: pausing } }),
});

mcmc.run().then(
  () => {
    const g = mcmc.getSamples({ groupByChain: true });
    const res = {
      mu: Array.from(g.mu!.dataSync()),
      s: Array.from(g.s!.dataSync()),
      treeDepth: mcmc.getExtraFields().map((st) => Array.from(st.treeDepth)),
    };
    writeFileSync(out as string, JSON.stringify(res));
    process.exit(0);
  },
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  },
);

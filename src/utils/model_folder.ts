/**
 * Load a layers model from a folder written by `model.save(fileIO(dir))` (Node), with the failures
 * of tfjs's second half named and cleaned up: when the weights of `model.json` do not fit its
 * topology (a shape, dtype or name that differs from the layer's, a weight missing), tfjs throws
 * its own message (`Shape mismatch: [3,2] vs. [2,3]`, `1 of 4 weights are not set`) and leaves the
 * model's variables and the decoded weights allocated. Here the error names the file and every
 * tensor and variable the failed load made is freed.
 */
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { DeepProbError } from './errors.js';
import { fileIO } from './file_io.js';

/**
 * `tf.loadLayersModel(fileIO(dir, {modelFile}))`, with a failure past the file checks of
 * {@link fileIO} (the weights do not fit the topology, an unregistered layer class) a
 * `DeepProbError` `"<dir>/<modelFile>: does not load as a layers model (<tfjs's reason>)"` after
 * freeing what the attempt allocated (the model's variables, the decoded weight tensors).
 *
 * The tensors are found by opening an engine scope when tfjs starts building the model (the
 * synchronous part from the topology to `loadWeights`) and closing it after the load: on success
 * every tensor of the scope is handed to the caller's scope unchanged, on failure freed.
 *
 * @param dir the model folder.
 * @param modelFile the topology + manifest file inside it (default `model.json`).
 * @returns the model (the caller disposes it).
 * @throws DeepProbError naming the file (also the file errors of {@link fileIO}).
 * @example
 * ```ts
 * const model = await loadModelFolder('runs/lenet/checkpoint');
 * ```
 */
export async function loadModelFolder(
  dir: string,
  modelFile = 'model.json',
): Promise<tf.LayersModel> {
  const handler = fileIO(dir, { modelFile });
  const artifacts = await (handler.load as () => Promise<tf.io.ModelArtifacts>)();
  const engine = tf.engine();
  const variablesBefore = new Set(Object.keys(engine.registeredVariables));
  let scoped = false;
  // tfjs reads `modelTopology` first, then builds, decodes and assigns the weights synchronously
  const watched: tf.io.ModelArtifacts = { ...artifacts };
  Object.defineProperty(watched, 'modelTopology', {
    enumerable: true,
    get(): tf.io.ModelArtifacts['modelTopology'] {
      if (!scoped) {
        engine.startScope();
        scoped = true;
      }
      return artifacts.modelTopology;
    },
  });
  let model: tf.LayersModel;
  try {
    model = await tf.loadLayersModel({ load: () => Promise.resolve(watched) });
  } catch (e) {
    if (scoped) engine.endScope(); // frees the decoded weights and the build's tensors
    for (const [name, v] of Object.entries(engine.registeredVariables)) {
      if (!variablesBefore.has(name)) v.dispose();
    }
    const why = (e instanceof Error ? e.message : String(e))
      .split('\n')[0]
      ?.replace(/ This may be due to one of the following reasons:$/, '');
    throw new DeepProbError(
      `${join(dir, modelFile)}: does not load as a layers model (${why}); expected the weights written with this topology by model.save`,
    );
  }
  // success: every tensor of the scope stays, tracked by the caller's scope as before
  if (scoped) engine.endScope([...engine.state.activeScope.track]);
  return model;
}

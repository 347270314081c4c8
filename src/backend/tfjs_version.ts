/**
 * Which TensorFlow.js versions deepprob runs on, and one clear message when another one is
 * installed.
 *
 * `@tensorflow/tfjs` and `@tensorflow/tfjs-backend-wasm` are peer dependencies of deepprob: the
 * application owns the one copy of tfjs that its models and deepprob's layers share. deepprob is
 * tested against the versions in {@link TESTED_TFJS_RANGE}. Its wasm kernel pack (and the lazy
 * gradients of tfjs's fused ops) reach into tfjs internals, so on any other version they stay off
 * and everything runs on the stock tfjs kernels (slower, same results); the first import of
 * deepprob says so once on stderr instead of failing later inside tfjs.
 */
import * as tf from '@tensorflow/tfjs';
import { version_wasm } from '@tensorflow/tfjs-backend-wasm';
import { getEnv } from './env.js';

/**
 * The tfjs versions deepprob is tested with, as an npm range (the `peerDependencies` of its
 * `package.json`): `~4.22.0`, i.e. `4.22.x`.
 */
export const TESTED_TFJS_RANGE = '~4.22.0';

/** The major and minor version that {@link TESTED_TFJS_RANGE} allows (any patch, no prerelease). */
const TESTED = { major: 4, minor: 22 } as const;

/** The installed tfjs versions, as reported by the packages themselves. */
export interface TfjsVersions {
  /** `tf.version.tfjs` of `@tensorflow/tfjs`. */
  tfjs: string;
  /** `version_wasm` of `@tensorflow/tfjs-backend-wasm`. */
  wasm: string;
}

/** The verdict of {@link tfjsCompatibility}. */
export interface TfjsCompatibility {
  /** The versions found. */
  versions: TfjsVersions;
  /** The tested range, {@link TESTED_TFJS_RANGE}. */
  tested: string;
  /** Whether both packages are in the tested range (the kernel pack may then run). */
  supported: boolean;
  /** Why not, in one paragraph for the user; undefined when `supported`. */
  message: string | undefined;
}

/**
 * Whether a version string lies in {@link TESTED_TFJS_RANGE}: `4.22.p` for any patch `p`, without
 * a prerelease tag (npm's `~4.22.0` semantics).
 *
 * @param version a semver string such as `'4.22.0'`.
 * @returns true when it is tested.
 * @example
 * ```ts
 * inTestedRange('4.22.0'); // true
 * inTestedRange('4.21.0'); // false
 * ```
 */
export function inTestedRange(version: string): boolean {
  const m = /^(\d+)\.(\d+)\.(\d+)$/.exec(version.trim());
  return m !== null && Number(m[1]) === TESTED.major && Number(m[2]) === TESTED.minor;
}

/**
 * Check the installed tfjs against the versions deepprob is tested with.
 *
 * The message names what was found, the tested range, that the kernel pack is off, and how to get
 * a tested version; a mismatch between tfjs and tfjs-backend-wasm (two tfjs-core copies in one
 * process) is called out as well.
 *
 * @param versions the versions to judge; default the installed ones.
 * @returns the verdict and, when unsupported, the message.
 * @example
 * ```ts
 * const { supported, message } = tfjsCompatibility({ tfjs: '4.21.0', wasm: '4.21.0' });
 * // supported === false; message starts 'deepprob: found @tensorflow/tfjs 4.21.0 ...'
 * ```
 */
export function tfjsCompatibility(
  versions: TfjsVersions = { tfjs: tf.version.tfjs, wasm: version_wasm },
): TfjsCompatibility {
  const supported = inTestedRange(versions.tfjs) && inTestedRange(versions.wasm);
  if (supported) return { versions, tested: TESTED_TFJS_RANGE, supported, message: undefined };
  const found =
    versions.tfjs === versions.wasm
      ? `@tensorflow/tfjs ${versions.tfjs} and @tensorflow/tfjs-backend-wasm ${versions.wasm}`
      : `@tensorflow/tfjs ${versions.tfjs} with @tensorflow/tfjs-backend-wasm ${versions.wasm} ` +
        '(different versions: install the same version of both, or tfjs loads two copies of its core)';
  const message =
    `deepprob: found ${found}; deepprob is tested with ${TESTED_TFJS_RANGE} (4.22.x) of both. ` +
    'Its wasm kernel pack and fused-op gradients are OFF: everything runs on the stock tfjs ' +
    'kernels (slower; untested on this version). For the tested setup: ' +
    'npm install @tensorflow/tfjs@4.22.0 @tensorflow/tfjs-backend-wasm@4.22.0';
  return { versions, tested: TESTED_TFJS_RANGE, supported, message };
}

let warned = false;

/**
 * Print {@link tfjsCompatibility}'s message once per process (stderr) when the installed tfjs is
 * not tested; run when deepprob is first imported. `DEEPPROB_QUIET_TFJS_CHECK=1` silences it.
 *
 * @returns the verdict.
 */
export function warnIfUntestedTfjs(): TfjsCompatibility {
  const verdict = tfjsCompatibility();
  const quiet = getEnv('DEEPPROB_QUIET_TFJS_CHECK') === '1';
  if (!verdict.supported && !warned && !quiet) {
    warned = true;
    console.warn(verdict.message);
  }
  return verdict;
}

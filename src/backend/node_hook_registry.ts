/**
 * The Node-only half of backend selection as an interface ({@link NodeHooks}: wasm file location,
 * threaded wasm build, native addon, GPU device probe, environment checks) and its registry:
 * `setNodeHooks` (the `deepprob/node` entry) or, in Node with none installed, a load of
 * `node_hooks` next to this module through a computed URL that bundlers leave alone, so that the
 * browser graph never contains a Node built-in. Used by `ready()` (`ready.ts`).
 */
import type { NativeAddon } from './native/addon.js';
import { isNode } from './env.js';

/** The Node-only pieces of backend selection (implemented in `node_hooks.ts`). */
export interface NodeHooks {
  /** Directory of the tfjs-backend-wasm `.wasm` binaries, with a trailing slash. */
  wasmDistDir(): string;
  /** XNNPACK threads wanted (`DEEPPROB_WASM_THREADS` or the machine's cores, at most 8). */
  wantedWasmThreads(): Promise<number>;
  /**
   * Register the threaded `wasm` factory with `threads` threads; resolves to a function that
   * restores the stock factory.
   */
  registerThreadedWasm(threads: number): Promise<() => void>;
  /** Load and start the native CPU addon; undefined (with `why.reason`) when it is off or absent. */
  loadNative?(why: { reason?: string }): NativeAddon | undefined;
  /**
   * Why no hardware GPU adapter can exist on this machine (Linux without a GPU device node), or
   * undefined when one may: the automatic choice then skips loading Dawn (~70 MB of resident
   * memory for a software adapter it would refuse).
   */
  noGpuDevice?(): string | undefined;
  /**
   * Check the Node-only switches (`DEEPPROB_NATIVE*`, `DEEPPROB_WASM_THREADS`) before any backend
   * starts; throws an `ArgumentError` naming a malformed one.
   */
  checkEnv?(): void;
}

let hooks: NodeHooks | undefined;

/**
 * Install the Node-only pieces used by {@link ready} (done by the `deepprob/node` entry; `ready()`
 * loads them itself in Node when none are installed). `undefined` uninstalls them.
 *
 * @param value the hooks, e.g. `nodeHooks` from `backend/node_hooks.ts`.
 * @example
 * ```ts
 * import { nodeHooks } from './node_hooks.js';
 * setNodeHooks(nodeHooks);
 * ```
 */
export function setNodeHooks(value: NodeHooks | undefined): void {
  hooks = value;
}

/**
 * The installed Node hooks; in Node with none installed, load `node_hooks` next to this module
 * (`.ts` when running from source under vitest/tsx, `.js` from `dist`). The specifier is computed
 * at run time so that bundlers neither follow nor rewrite it: the browser graph never contains the
 * Node built-ins. Undefined in browsers, or when loading fails (then the stock wasm build is used).
 */
export async function installedNodeHooks(): Promise<NodeHooks | undefined> {
  if (hooks !== undefined || !isNode()) return hooks;
  try {
    const file = './node_hooks' + (import.meta.url.endsWith('.ts') ? '.ts' : '.js');
    const spec = new URL(file, import.meta.url).href;
    const mod = (await import(/* @vite-ignore */ /* webpackIgnore: true */ spec)) as {
      nodeHooks?: NodeHooks;
    };
    hooks ??= mod.nodeHooks;
  } catch {
    // e.g. bundled for Node without node_hooks.js next to this file: stock wasm, no threads
  }
  return hooks;
}

/**
 * What kind of WebGPU adapter is this? Software rasterisers (SwiftShader, llvmpipe, WARP, Dawn's
 * fallback adapters) run WebGPU on the CPU, tens of times slower than deepprob's wasm engine: they
 * are right for testing, wrong as an automatic choice.
 */

/** The fields of a `GPUAdapterInfo` that deepprob reads (all optional: browsers may blank them). */
export interface AdapterInfoLike {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
  /** Set by newer implementations on the info object itself. */
  isFallbackAdapter?: boolean;
}

/** Names of CPU implementations of WebGPU/Vulkan/D3D, matched case-insensitively. */
const SOFTWARE_NAMES = [
  'swiftshader',
  'llvmpipe',
  'lavapipe',
  'softpipe',
  'warp',
  'microsoft basic render',
];

/**
 * True when the adapter runs on the CPU: it is flagged as a fallback adapter, or its vendor,
 * architecture, device or description names a software rasteriser (SwiftShader, llvmpipe/lavapipe,
 * softpipe, WARP / Microsoft Basic Render Driver).
 *
 * @param info the adapter's `info` (`GPUAdapterInfo`).
 * @param isFallbackAdapter `GPUAdapter.isFallbackAdapter` where the implementation has it.
 * @returns whether the adapter is a software (CPU) implementation.
 * @example
 * ```ts
 * isSoftwareAdapter({ vendor: 'google', architecture: 'swiftshader' }); // true
 * ```
 */
export function isSoftwareAdapter(info: AdapterInfoLike, isFallbackAdapter = false): boolean {
  if (isFallbackAdapter || info.isFallbackAdapter === true) return true;
  const text = [info.vendor, info.architecture, info.device, info.description]
    .filter((s): s is string => typeof s === 'string')
    .join(' ')
    .toLowerCase();
  return SOFTWARE_NAMES.some((n) => text.includes(n));
}

/**
 * One line naming the adapter, e.g. `nvidia ada (NVIDIA H100 80GB HBM3)` or
 * `google swiftshader (SwiftShader Device (Subzero)), software`.
 *
 * @param info the adapter's `info`.
 * @param software whether {@link isSoftwareAdapter} said so.
 * @returns a short human-readable description.
 * @example
 * ```ts
 * describeAdapter({ vendor: 'nvidia', architecture: 'hopper', description: 'H100' }, false);
 * ```
 */
export function describeAdapter(info: AdapterInfoLike, software: boolean): string {
  const head = [info.vendor, info.architecture]
    .filter((s) => s !== undefined && s !== '')
    .join(' ');
  const what =
    info.description !== undefined && info.description !== '' ? info.description : info.device;
  const body = [head === '' ? 'unknown adapter' : head, what ? `(${what})` : '']
    .filter((s) => s !== '')
    .join(' ');
  return software ? `${body}, software` : body;
}

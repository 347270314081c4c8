/** NumPyro's `numpyro.contrib.control_flow`: `scan` over time with stacked sites. */
export { scan, type ScanBody, type ScanOptions } from './scan.js';
export { StackedDistribution } from './stacked_distribution.js';
export type { ScanTree } from './scan_tree.js';
export type { ScanStepObserver } from './scan_messenger.js';

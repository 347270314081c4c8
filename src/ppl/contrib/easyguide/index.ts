/** Pyro's `pyro.contrib.easyguide`: {@link EasyGuide}, {@link Group} and {@link easyGuide}. @module */
export { EasyGuide, type EasyGuideOptions } from './easyguide.js';
export { Group, type GroupOptions } from './group.js';
export { easyGuide } from './easy_guide_fn.js';
export { type EasyPlateOptions } from './plate_options.js';
export { type PrototypeSite } from './prototype.js';

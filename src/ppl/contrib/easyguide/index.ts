/** Pyro's `pyro.contrib.easyguide`: {@link EasyGuide}, {@link Group} and {@link easyGuide}. @module */
export {
  EasyGuide,
  Group,
  easyGuide,
  type EasyGuideOptions,
  type EasyPlateOptions,
  type GroupOptions,
  type PrototypeSite,
} from './easyguide.js';

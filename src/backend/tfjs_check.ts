/**
 * Side-effect module imported first by `src/index.ts`: when deepprob is first imported next to an
 * untested tfjs, say so once (found version, tested range, kernel pack off) before any other
 * deepprob module touches tfjs. See `tfjs_version.ts`.
 *
 * @internal
 */
import { warnIfUntestedTfjs } from './tfjs_version.js';

warnIfUntestedTfjs();

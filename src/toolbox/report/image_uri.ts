/**
 * The one form of gallery image a report takes: a base64 `data:image/...` URI. The page promises
 * to be self-contained (no external resources) and puts the URI in an `src` attribute, so an
 * `http:` address, a `javascript:` URI or text with quotes is refused before anything is drawn.
 */
import { ArgumentError } from '../../utils/errors.js';

/** `data:image/<png|jpeg|gif|webp|bmp>;base64,<base64>` and nothing else. */
const IMAGE_DATA_URI = /^data:image\/(png|jpeg|gif|webp|bmp);base64,[A-Za-z0-9+/]*={0,2}$/;

/**
 * Check that `uri` is a base64 image data URI (`data:image/png;base64,...`, as
 * `imageDataUri` writes), the only image source a self-contained report holds.
 *
 * The accepted language is `data:image/(png|jpeg|gif|webp|bmp);base64,[A-Za-z0-9+/]*={0,2}`:
 * it has no quote, `<`, `>`, `&` or blank, so the value is inert in an HTML attribute.
 *
 * @param uri the value to check.
 * @param argument the name of the argument in the error (e.g. `image(3)`).
 * @returns `uri`, unchanged.
 * @throws ArgumentError naming `argument` when `uri` is anything else.
 * @example
 * ```ts
 * checkImageDataUri('data:image/png;base64,iVBORw0KGgo=', 'image(0)'); // returned as is
 * checkImageDataUri('https://example.com/x.png', 'image(0)'); // throws
 * ```
 */
export function checkImageDataUri(uri: unknown, argument: string): string {
  if (typeof uri !== 'string' || !IMAGE_DATA_URI.test(uri)) {
    const shown = typeof uri === 'string' ? JSON.stringify(uri.slice(0, 60)) : String(uri);
    throw new ArgumentError(
      argument,
      `expected a base64 image data URI (data:image/png;base64,..., as imageDataUri writes; the report loads no external resources), got ${shown}`,
    );
  }
  return uri;
}

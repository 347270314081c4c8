/**
 * How a queue message's values are quoted in errors: JSON where it can be written, else
 * `String(v)`, cut to 200 characters (a poison message can carry megabytes).
 */

/** A value in a message, as JSON (or `String(v)`), cut to 200 characters. */
export function preview(v: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(v) ?? String(v);
  } catch {
    text = String(v);
  }
  return text.length > 200 ? `${text.slice(0, 200)}...` : text;
}

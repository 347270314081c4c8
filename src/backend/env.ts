/** Where are we running? Small predicates used by backend selection and IO. */

/** True under Node.js (not a browser, not a web worker). */
export function isNode(): boolean {
  return (
    typeof process !== 'undefined' &&
    typeof process.versions === 'object' &&
    typeof process.versions.node === 'string'
  );
}

/** Read an environment variable in Node; undefined elsewhere. */
export function getEnv(name: string): string | undefined {
  if (!isNode()) return undefined;
  const v = process.env[name];
  return v === undefined || v === '' ? undefined : v;
}

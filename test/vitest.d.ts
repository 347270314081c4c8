import 'vitest';

interface CustomMatchers<R = unknown> {
  toBeAllclose(expected: unknown, opts?: { rtol?: number; atol?: number }): R;
}

declare module 'vitest' {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type, @typescript-eslint/no-explicit-any
  interface Matchers<T = any> extends CustomMatchers<T> {}
}

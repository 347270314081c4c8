// Minimal typings for the @stdlib reference packages used in tests.
declare module '@stdlib/stats-base-dists-*' {
  const mod: Record<string, ((...args: number[]) => number) & Record<string, unknown>>;
  export default mod;
}

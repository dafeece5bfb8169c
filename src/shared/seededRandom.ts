// The one seeded pseudo-random generator (mulberry32): reproducible attribution runs in the engine, corpora
// in the bench, and random inputs in the tests and the fuzzer. No `vscode` import.

/** Numbers in [0, 1), the same sequence for the same seed on every machine. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

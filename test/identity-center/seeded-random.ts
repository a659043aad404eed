/** A small deterministic random source in [0, 1) (mulberry32), so jittered runs can be replayed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The jitter sources the sweeps try: never shortened, always shortened the most, and random. */
export const JITTER_SOURCES: ReadonlyArray<readonly [string, () => () => number]> = [
  ['no jitter (random = 0)', () => () => 0],
  ['full jitter (random → 1)', () => () => 0.999_999],
  ['seeded random jitter', () => seededRandom(14)],
];

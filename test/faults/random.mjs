// Seeded randomness for the fault-injection harness: one generator per trial, derived from the run's seed and
// the trial's number, so `--seed S --trial T` rebuilds trial T alone exactly (its spec, its fault, its moments).

/** A mulberry32 generator: a float in [0, 1) per call. */
export function makeRandom(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The seed of trial `trial` of run `seed` (an integer mix, so neighbouring trials share nothing). */
export function trialSeed(seed, trial) {
  let h = (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(trial + 1, 0x85ebca77)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

/** Helpers over one generator: integers, choices, weighted choices, coin flips, tokens. */
export function dice(random) {
  const int = (lo, hi) => lo + Math.floor(random() * (hi - lo + 1));
  return {
    int,
    chance: (p) => random() < p,
    /** An integer in [0, max], early values likelier (density falls linearly): most jobs here last a second or two. */
    early: (max) => Math.floor((max + 1) * (1 - Math.sqrt(random()))),
    pick: (list) => list[int(0, list.length - 1)],
    /** `weights` maps a name to its weight. */
    weighted(weights) {
      const entries = Object.entries(weights);
      let r = random() * entries.reduce((s, [, w]) => s + w, 0);
      for (const [name, w] of entries) if ((r -= w) < 0) return name;
      return entries.at(-1)[0];
    },
    token(length) {
      const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';
      let s = '';
      for (let i = 0; i < length; i++) s += alphabet[int(0, alphabet.length - 1)];
      return s;
    },
  };
}

/**
 * A seeded generator (mulberry32): the oracle tests draw every value from it, so a failure is
 * replayed by its seed (ORACLE_SEED=<n>).
 */
export interface Random {
  readonly seed: number;
  /** [0, 1) */
  next(): number;
  /** An integer in [min, max], both included. */
  int(min: number, max: number): number;
  /** A bigint in [min, max], both included. */
  big(min: bigint, max: bigint): bigint;
  pick<T>(items: readonly T[]): T;
  chance(p: number): boolean;
  bytes(n: number): Buffer;
  /** A string of `n` decimal digits (leading zeros allowed). */
  digits(n: number): string;
}

export function random(seed: number): Random {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (min: number, max: number) => min + Math.floor(next() * (max - min + 1));
  const r: Random = {
    seed,
    next,
    int,
    big(min, max) {
      const span = max - min + 1n;
      let v = 0n;
      for (let bits = 0n; 1n << bits < span * 2n; bits += 16n) v = (v << 16n) | BigInt(int(0, 0xffff));
      return min + (v % span);
    },
    pick: (items) => items[int(0, items.length - 1)]!,
    chance: (p) => next() < p,
    bytes: (n) => Buffer.from(Array.from({ length: n }, () => int(0, 255))),
    digits: (n) => Array.from({ length: n }, () => String(int(0, 9))).join(""),
  };
  return r;
}

/** The run's seed: ORACLE_SEED when given (to replay a failure), else a new one, printed by the test. */
export function oracleSeed(): number {
  const given = process.env.ORACLE_SEED;
  return given !== undefined && given !== "" ? Number(given) >>> 0 : Math.floor(Math.random() * 2 ** 32);
}

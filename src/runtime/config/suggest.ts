import { distance } from "fastest-levenshtein";

/** The candidate a typo most likely meant, if any is close enough to be a useful hint. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestScore = Infinity;
  const lower = word.toLowerCase();
  for (const c of candidates) {
    const d = distance(lower, c.toLowerCase());
    if (d < bestScore) {
      best = c;
      bestScore = d;
    }
  }
  // allow roughly one edit per three characters, so "snapshotMode" finds "snapshot" but "x" finds nothing
  return best !== undefined && bestScore <= Math.max(2, Math.floor(best.length / 3)) ? best : undefined;
}

/**
 * A broker just started is not the broker of a deployment that has run for a day: its JVM compiles
 * the produce and transaction paths under load. Here a bare transactional producer went from 122k
 * to about 400k records/s over its first 40 s of traffic, and Liberator's snapshot from 45–53k to
 * 78–80k rows/s, while whatever ran later (Debezium, the ceilings) met a warm broker. So every
 * benchmark starts on a warm one: the bare producer sends rounds of records for a minute at least,
 * then until its mean rate over the last 15 s is less than 5 % above that over the 15 s before (at
 * most three minutes). A shorter warm-up, stopped by that test alone, ended on a first plateau
 * (about 230k records/s after 16-31 s) below the rate the broker reached later.
 */
import { openBareProducer } from "./parts/bare-producer.js";

const ROUND = 100_000;
const WINDOW_MS = 15_000;
const MIN_MS = 60_000;
const MAX_MS = 180_000;

export async function warmBroker(brokers: string[]): Promise<string> {
  const bare = await openBareProducer(brokers, { keyBytes: 8, valueBytes: 160, perTransaction: 10_000 });
  const rounds: { at: number; rate: number }[] = [];
  const t0 = performance.now();
  /** The mean rate of the rounds that ended in the window of WINDOW_MS ending `end` ms ago. */
  const mean = (end: number) => {
    const now = performance.now();
    const rates = rounds.filter((r) => r.at > now - end - WINDOW_MS && r.at <= now - end).map((r) => r.rate);
    return rates.reduce((a, b) => a + b, 0) / rates.length;
  };
  try {
    for (;;) {
      rounds.push({ rate: (await bare.send(ROUND)).rowsPerS, at: performance.now() });
      const elapsed = performance.now() - t0;
      if (elapsed >= MAX_MS || (elapsed >= MIN_MS && mean(0) < 1.05 * mean(WINDOW_MS))) break;
    }
  } finally {
    await bare.close();
  }
  const rate = (r: number) => Math.round(r).toLocaleString("en-US");
  return `broker warmed up for ${((performance.now() - t0) / 1000).toFixed(0)} s: the bare producer from ${rate(rounds[0]!.rate)} to ${rate(mean(0))} records/s (its mean over the last ${WINDOW_MS / 1000} s)`;
}

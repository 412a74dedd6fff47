/**
 * The latency phase of the log sources' benchmarks: a writer commits `rate` rows/s while a fresh
 * daemon streams, and every row's lag is measured from its commit to a read_committed consumer.
 * The first seconds after the daemon's start (a cold process: code not yet optimized, the table's
 * schema registered with its first rows) are kept apart, since a daemon runs for days.
 */
import { summary, type Arrivals } from "./arrivals.js";
import { loadAverage, sleep, timeUntil, type Daemon } from "./daemon.js";

export const LATENCY_WARMUP_SECONDS = 2;

/** One benchmark's connector, with a table `lat` its daemon captures. */
export interface LatencyTarget {
  readonly name: string;
  daemon<T>(work: (d: Daemon) => Promise<T>): Promise<{ result: T; rssMb: number }>;
  watch(table: string, capacity: number, committedAt?: Float64Array): Promise<Arrivals>;
  /** Commits rows id from..to of `lat` in one transaction. */
  insertLatencyRows(from: number, to: number): Promise<void>;
}

/** A writer committing `rate` rows/s (rate/200 rows every 5 ms) for `seconds` after the warm-up while a daemon streams; every row's lag. */
export async function latency(b: LatencyTarget, rate: number, seconds: number) {
  const warmRows = rate * LATENCY_WARMUP_SECONDS;
  const total = warmRows + rate * seconds;
  const committedAt = new Float64Array(total + 1);
  const { result, rssMb } = await b.daemon(async (d) => {
    await timeUntil(d, b.name, (s) => s.details?.phase === "stream");
    const arrivals = await b.watch("lat", total, committedAt);
    try {
      const perTick = Math.max(1, Math.round(rate / 200));
      const t0 = performance.now();
      let cpu0 = 0;
      for (let from = 1, tick = 0; from <= total; from += perTick, tick++) {
        const due = t0 + tick * 5 - performance.now();
        if (due > 0) await sleep(due);
        if (from === warmRows + 1) cpu0 = d.cpuSeconds();
        const to = Math.min(total, from + perTick - 1);
        await b.insertLatencyRows(from, to);
        committedAt.fill(performance.now(), from, to + 1);
      }
      await arrivals.complete(total, 30_000);
      return {
        warm: summary(arrivals.latencies(1, warmRows)),
        measured: summary(arrivals.latencies(warmRows + 1, total)),
        all: summary(arrivals.latencies(1, total)),
        cpuUsPerRow: ((d.cpuSeconds() - cpu0) * 1e6) / (total - warmRows),
        keyBytes: arrivals.keyBytes(),
        valueBytes: arrivals.valueBytes(),
        load: loadAverage(),
      };
    } finally {
      await arrivals.stop();
    }
  });
  return { ...result, rssMb };
}

/**
 * Gentle on the legacy database (DESIGN.md §6): a rows-per-second cap, and a pause while the
 * server is busy serving production (MySQL Threads_running / PostgreSQL active backends above a
 * threshold). Both only delay reads; nothing is skipped.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "../../runtime/log.js";

export class RateLimit {
  private nextAt = 0;

  constructor(private readonly rowsPerSecond: number) {}

  /** Rows one page may read so that a page is about a second's worth at most. */
  pageLimit(limit: number): number {
    return this.rowsPerSecond > 0 ? Math.max(1, Math.min(limit, this.rowsPerSecond)) : limit;
  }

  /** Waits until `rows` more rows fit the rate (abortable). */
  async take(rows: number, signal: AbortSignal): Promise<void> {
    if (this.rowsPerSecond <= 0 || rows === 0) return;
    const now = Date.now();
    const start = Math.max(this.nextAt, now);
    this.nextAt = start + (rows * 1000) / this.rowsPerSecond;
    if (start > now) await sleep(start - now, undefined, { signal }).catch(() => undefined);
  }
}

export class BusyGuard {
  private checkedAt = 0;
  private pausedUntil = 0;
  private busy = false;

  constructor(
    private readonly maxRunning: number,
    private readonly pauseMs: number,
    private readonly measure: () => Promise<number>,
    private readonly log: Logger,
  ) {}

  /** Whether reads should wait now; asks the server after each pause, and at most once a second otherwise. */
  async paused(): Promise<boolean> {
    if (this.maxRunning <= 0) return false;
    const now = Date.now();
    if (now < this.pausedUntil) return true;
    if (!this.busy && now - this.checkedAt < 1000) return false;
    this.checkedAt = now;
    const running = await this.measure();
    const busy = running > this.maxRunning;
    if (busy !== this.busy) {
      this.busy = busy;
      if (busy) this.log.warn({ running, max: this.maxRunning, pauseMs: this.pauseMs }, `the database is busy (${running} statements running): pausing reads`);
      else this.log.info({ running, max: this.maxRunning }, "the database is no longer busy: reading again");
    }
    if (busy) this.pausedUntil = now + this.pauseMs;
    return busy;
  }

  status(): { busy: boolean } {
    return { busy: this.busy };
  }
}

import { setTimeout as sleep } from "node:timers/promises";

/** When the relay polls the outbox again after finding it empty. */
export interface Waker {
  readonly mode: "notify" | "poll";
  /** Called before each poll: wake-ups from before it are seen by the poll itself. */
  polling(): void;
  /** Resolves when a poll is due (or a NOTIFY came); early when `signal` aborts. */
  wait(signal: AbortSignal): Promise<void>;
  /** The poll found rows: poll again at once, and soon after. */
  busy(): void;
  close(): Promise<void>;
}

/**
 * Adaptive polling (MySQL/MariaDB, and PostgreSQL without its trigger): right after rows were
 * found the next empty poll waits `min`; each further empty poll waits twice as long, up to
 * `max`. A busy outbox is polled back to back; an idle one costs one query per `max`.
 */
export class AdaptivePoll implements Waker {
  readonly mode = "poll";
  private delay: number;

  private readonly min: number;

  constructor(
    min: number,
    private readonly max: number,
  ) {
    this.delay = this.min = Math.max(1, min);
  }

  polling(): void {}

  async wait(signal: AbortSignal): Promise<void> {
    const delay = this.delay;
    this.delay = Math.min(this.delay * 2, this.max);
    await sleep(delay, undefined, { signal }).catch(() => undefined);
  }

  busy(): void {
    this.delay = this.min;
  }

  async close(): Promise<void> {}
}

/**
 * Stops a connector whose lock has not been renewed for too long. BullMQ reports a renewal that
 * Redis refuses (`lockRenewalFailed`), but a connection that hangs produces no event at all until
 * it recovers (FACTS-bullmq.md, "zombie"): by then another worker may run the connector. Timing the
 * last successful renewal (`locksRenewed`) catches both, and stops the copy here before the lock
 * can expire and another worker start it.
 */
export class LeaseWatchdog {
  private readonly renewedAt = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    /** A lock unrenewed for this long is given up; below lockDuration so we stop before it lapses. */
    private readonly timeoutMs: number,
    private readonly onExpired: (jobId: string, silentMs: number) => void,
    private readonly now: () => number = Date.now,
  ) {}

  start(checkEveryMs: number): void {
    this.timer ??= setInterval(() => this.check(), checkEveryMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  track(jobId: string): void {
    this.renewedAt.set(jobId, this.now());
  }

  untrack(jobId: string): void {
    this.renewedAt.delete(jobId);
  }

  renewed(jobIds: readonly string[]): void {
    const now = this.now();
    for (const id of jobIds) if (this.renewedAt.has(id)) this.renewedAt.set(id, now);
  }

  check(): void {
    const now = this.now();
    for (const [id, at] of this.renewedAt) {
      if (now - at > this.timeoutMs) {
        this.renewedAt.delete(id);
        this.onExpired(id, now - at);
      }
    }
  }
}

/**
 * BullMQ renews a lock every quarter to half of lockDuration (its lock manager ticks every quarter);
 * giving up after three quarters leaves a quarter of the lock to stop the connector before another
 * worker may take it.
 */
export const leaseTimeout = (lockDurationMs: number): number => Math.round(lockDurationMs * 0.75);

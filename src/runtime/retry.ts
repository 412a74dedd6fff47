import { setTimeout as sleep } from "node:timers/promises";
import { toLiberatorError, type LiberatorError } from "./errors.js";

/** The one place that decides how long to wait before trying again. */
export interface RetryPolicy {
  /** Attempts after the first; Infinity retries until aborted. */
  retries: number;
  initialDelayMs: number;
  maxDelayMs: number;
  /** Growth per attempt. */
  factor: number;
}

export const DEFAULT_RETRY: RetryPolicy = { retries: 8, initialDelayMs: 200, maxDelayMs: 30_000, factor: 2 };

/**
 * Exponential backoff with "full jitter" (AWS architecture blog): a uniform delay in
 * [base/2, base], so that many connectors failing together do not retry together.
 */
export function backoffDelay(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const base = Math.min(policy.maxDelayMs, policy.initialDelayMs * policy.factor ** attempt);
  return Math.round(base / 2 + (random() * base) / 2);
}

export interface RetryOptions {
  policy?: Partial<RetryPolicy>;
  signal?: AbortSignal;
  /** Called before each wait, for logs and metrics. */
  onRetry?: (err: LiberatorError, attempt: number, delayMs: number) => void;
  /** Tags errors that are not LiberatorErrors (e.g. a connector's own error classifier). */
  classify?: (err: unknown) => LiberatorError;
}

/**
 * Runs `fn` until it succeeds, a non-retriable error is thrown, the retries are used up, or `signal`
 * aborts. Only errors whose `retriable` flag is set are retried.
 */
export async function retry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const policy = { ...DEFAULT_RETRY, ...options.policy };
  const classify = options.classify ?? ((e: unknown) => toLiberatorError(e));
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (raw) {
      const err = classify(raw);
      if (!err.retriable || attempt >= policy.retries || options.signal?.aborted) throw err;
      const delay = backoffDelay(attempt, policy);
      options.onRetry?.(err, attempt + 1, delay);
      try {
        await sleep(delay, undefined, options.signal ? { signal: options.signal } : undefined);
      } catch {
        throw err; // aborted while waiting: report the failure that made us wait
      }
    }
  }
}

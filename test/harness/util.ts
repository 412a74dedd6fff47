import { randomBytes } from "node:crypto";
import { inspect } from "node:util";

/**
 * A name no other test (or earlier run) uses, valid everywhere tests need one: a Kafka topic, a
 * MariaDB or PostgreSQL database or table (unquoted: lower case, starts with a letter, ≤ 63
 * chars), a BullMQ prefix or Redis key prefix (no ":"), a consumer group. So the prefix is lower-
 * cased and every character other than a-z, 0-9 and _ becomes "_": uniqueName("tx-fence") is
 * "tx_fence_<time>_<random>".
 */
export function uniqueName(prefix = "t"): string {
  let clean = prefix.toLowerCase().replace(/[^a-z0-9_]+/g, "_").replace(/^_+|_+$/g, "");
  if (!/^[a-z]/.test(clean)) clean = `t_${clean}`;
  const suffix = `${Date.now().toString(36)}_${randomBytes(4).toString("hex")}`;
  return `${clean.slice(0, 63 - suffix.length - 1).replace(/_+$/, "")}_${suffix}`;
}

export interface WaitForOptions {
  timeoutMs?: number;
  intervalMs?: number;
  /** Says what was awaited, in the timeout error. */
  message?: string;
}

/**
 * Polls `predicate` until it returns a truthy value, and returns that value. A throw counts as
 * "not yet" (a table that does not exist yet, a connection refused); the last one is named in the
 * timeout error.
 */
export async function waitFor<T>(predicate: () => T | Promise<T>, options: WaitForOptions = {}): Promise<NonNullable<T>> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const intervalMs = options.intervalMs ?? 100;
  const started = Date.now();
  const deadline = started + timeoutMs;
  let lastError: unknown;
  let lastErrorAt = 0;
  for (;;) {
    try {
      const value = await predicate();
      if (value) return value;
    } catch (error) {
      lastError = error;
      lastErrorAt = Date.now();
    }
    if (Date.now() >= deadline) break;
    await new Promise((resolve) => setTimeout(resolve, Math.min(intervalMs, Math.max(0, deadline - Date.now()))));
  }
  const what = options.message ?? "condition";
  // when it was thrown: an error of the first seconds (a server still starting) says nothing of the rest
  const cause = lastError === undefined ? "" : `; last error (${((lastErrorAt - started) / 1000).toFixed(1)} s in): ${lastError instanceof Error ? lastError.message : inspect(lastError)}`;
  throw new Error(`waitFor: ${what} not met within ${timeoutMs} ms${cause}`, { cause: lastError });
}

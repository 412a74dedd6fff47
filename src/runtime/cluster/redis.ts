import { Redis } from "ioredis";
import type { PreflightCheck } from "../registry.js";

/**
 * A Redis connection for BullMQ and the control channel. `maxRetriesPerRequest: null` because
 * BullMQ's blocking commands must wait through a reconnect instead of failing (TRAPS.md).
 */
export function redisConnection(url: string, name: string): Redis {
  return new Redis(url, { maxRetriesPerRequest: null, connectionName: name, enableReadyCheck: true });
}

/** Where the URL points, without its password, for messages. */
export function redisAddress(url: string): string {
  const u = new URL(url);
  return `${u.protocol}//${u.host}${u.pathname === "/" ? "" : u.pathname}`;
}

/**
 * What `liberator validate` checks about the cluster's Redis: reachable, and never evicting keys
 * (under any other maxmemory-policy a full Redis silently drops jobs, i.e. connectors, and locks).
 */
export async function checkClusterRedis(url: string, timeoutMs = 3000): Promise<PreflightCheck[]> {
  const where = redisAddress(url);
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: timeoutMs, retryStrategy: () => null });
  redis.on("error", () => undefined);
  try {
    await redis.connect();
    // managed services (ElastiCache, Memorystore) may refuse CONFIG: a warning, not a failure
    const policy = await redis
      .config("GET", "maxmemory-policy")
      .then((reply) => reply[1])
      .catch(() => undefined);
    const checks: PreflightCheck[] = [{ check: "redis", ok: true, message: `Redis at ${where} answers` }];
    if (policy === undefined) {
      checks.push({
        check: "maxmemory-policy",
        ok: false,
        severity: "warning",
        message: `cannot read maxmemory-policy of Redis at ${where} (CONFIG GET is refused)`,
        fix: "make sure the server runs with maxmemory-policy noeviction",
      });
    } else if (policy !== "noeviction") {
      checks.push({
        check: "maxmemory-policy",
        ok: false,
        severity: "warning",
        message: `Redis at ${where} has maxmemory-policy ${policy}: when it fills up it evicts keys, and a connector's job or lock can vanish`,
        fix: "set maxmemory-policy noeviction (redis.conf, or CONFIG SET maxmemory-policy noeviction)",
      });
    } else {
      checks.push({ check: "maxmemory-policy", ok: true, message: "maxmemory-policy is noeviction" });
    }
    return checks;
  } catch (err) {
    return [
      {
        check: "redis",
        ok: false,
        message: `cannot reach Redis at ${where} (cluster.redis): ${(err as Error).message}`,
        fix: "check cluster.redis (host, port, password, rediss:// for TLS) and that Redis is up",
      },
    ];
  } finally {
    redis.disconnect();
  }
}

import type { PreflightCheck, SinkSpec } from "../../runtime/registry.js";
import { bullmqSinkConfig, type BullmqSinkConfig } from "./config.js";
import { BullmqSink } from "./bullmq-sink.js";

export const bullmqSinkSpec: SinkSpec<BullmqSinkConfig> = {
  kind: "sink",
  type: "bullmq",
  summary: "Turns each event into a BullMQ job (job id from the event id, so a redelivery is never a second job)",
  config: bullmqSinkConfig,
  topics: (config) => config.topics,
  preflight: (config) => preflight(config),
  create: (config, ctx) => new BullmqSink(config, ctx),
};

/** Redis is reachable, and evicts nothing: an evicted job or offset is an event lost or done twice. */
async function preflight(config: BullmqSinkConfig): Promise<PreflightCheck[]> {
  const { Redis } = await import("ioredis");
  const redis = new Redis(config.redis, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 5000, retryStrategy: () => null });
  redis.on("error", () => undefined);
  try {
    await redis.connect();
    const [, policy] = (await redis.config("GET", "maxmemory-policy")) as [string, string];
    return [
      { check: "connect", ok: true, message: `Redis at ${redis.options.host}:${redis.options.port}` },
      {
        check: "maxmemory-policy",
        ok: policy === "noeviction",
        severity: "warning",
        message: `Redis maxmemory-policy is ${policy}`,
        fix: "set maxmemory-policy noeviction: with eviction, jobs and the sink's offsets can vanish",
      },
    ];
  } catch (err) {
    return [{ check: "connect", ok: false, message: `cannot reach Redis: ${(err as Error).message}`, fix: "check redis (the URL) and that Redis is up" }];
  } finally {
    redis.disconnect();
  }
}

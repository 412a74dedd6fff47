import type { PreflightCheck } from "../registry.js";

/**
 * Cluster mode's classes, loaded when `cluster:` is set: BullMQ and ioredis are some 200 modules
 * and 18 MB of a worker's memory (measured alone: 73 → 91 MB RSS), which a worker without a
 * cluster would carry for nothing.
 */
export async function loadCluster() {
  const [{ ClusterClient }, { ClusterMember }] = await Promise.all([import("./cluster-client.js"), import("./cluster-member.js")]);
  return { ClusterClient, ClusterMember };
}

/** The check `liberator validate` runs on the cluster's Redis, loaded the same way. */
export async function checkClusterRedis(url: string): Promise<PreflightCheck[]> {
  return (await import("./redis.js")).checkClusterRedis(url);
}

import { describe, expect, it } from "vitest";
import "../../../src/connectors.js";
import { parseConfig } from "../../../src/runtime/config/load.js";
import { ConfigError } from "../../../src/runtime/errors.js";

const parse = (cluster: string) => parseConfig(`kafka:\n  brokers: [localhost:9092]\ncluster:\n${cluster}`, "connectors.yaml");

function problems(cluster: string): string[] {
  try {
    parse(cluster);
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems];
    throw err;
  }
  return [];
}

describe("the cluster block", () => {
  it("needs only the Redis URL; the rest has defaults that fail a dead worker's connectors over within 11 s", () => {
    const { cluster } = parse("  redis: redis://redis:6379/0\n").root;
    expect(cluster).toEqual({
      redis: "redis://redis:6379/0",
      queuePrefix: "liberator",
      capacity: 100,
      lockDurationMs: 5000,
      stalledIntervalMs: 3000,
      requestTimeoutMs: 2000,
      rebalance: true,
    });
    expect(cluster!.lockDurationMs + 2 * cluster!.stalledIntervalMs).toBeLessThanOrEqual(11_000);
  });

  it("takes durations with units and numbers from the environment's strings", () => {
    const { cluster } = parse('  redis: rediss://:pw@redis:6380\n  lockDurationMs: "10s"\n  capacity: "20"\n  workerId: pod-a\n').root;
    expect(cluster).toMatchObject({ lockDurationMs: 10_000, capacity: 20, workerId: "pod-a" });
  });

  it("says what is wrong with each field, with its line", () => {
    const found = problems('  redis: localhost:6379\n  queuePrefix: "a:b"\n  lockDurationMs: 200\n  capacity: 0\n  lease: 3\n');
    expect(found).toEqual([
      expect.stringMatching(/^connectors\.yaml:4 cluster\.redis must be a redis:\/\/ or rediss:\/\/ URL/),
      expect.stringMatching(/^connectors\.yaml:5 cluster\.queuePrefix must be non-empty, without spaces or ':'/),
      'connectors.yaml:6 cluster.lockDurationMs must be >= 1000, got 200',
      "connectors.yaml:7 cluster.capacity must be >= 1, got 0",
      expect.stringMatching(/^connectors\.yaml:8 cluster\.lease is not a known key; allowed here: redis, queuePrefix/),
    ]);
  });

  it("binds the admin API to localhost unless told otherwise, and reads sink lag every 10 s", () => {
    const { root } = parseConfig("kafka:\n  brokers: [localhost:9092]\n", "connectors.yaml");
    expect(root.admin).toMatchObject({ host: "127.0.0.1", port: 8083 });
    expect(root.cluster).toBeUndefined();
    expect(root.metrics.lagIntervalMs).toBe(10_000);
    expect(root.reload.watch).toBe(false);
  });
});

import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import "../../../src/connectors.js";
import { parseConfig } from "../../../src/runtime/config/load.js";
import { formatPreflight, preflight } from "../../../src/runtime/preflight.js";
import { freePort } from "../../harness/index.js";
import { harness } from "../../harness/env.js";
import { makeTempDir, spawnServer, waitUntilReady, type ServerProcess } from "../../harness/process.js";
import { redisPing } from "../../harness/redis.js";
import { silentLog } from "../../support/kafka.js";

async function validate(redis: string) {
  const config = parseConfig(stringify({ kafka: { brokers: harness().kafka.brokers }, cluster: { redis } }), "connectors.yaml");
  const report = await preflight(config, silentLog);
  return { ok: report.ok, text: formatPreflight(report) };
}

describe("liberator validate with cluster mode", () => {
  let evicting: ServerProcess | undefined;
  afterAll(() => evicting?.stop());

  it("checks that the cluster's Redis answers and never evicts", async () => {
    const { ok, text } = await validate(harness().redis.url);
    expect(ok).toBe(true);
    expect(text).toMatch(/ok {3}cluster: Redis at redis:\/\/127\.0\.0\.1:\d+ answers/);
    expect(text).toContain("ok   cluster: maxmemory-policy is noeviction");
  });

  it("warns, without failing, when Redis may evict keys", async () => {
    const [port, dir] = [await freePort(), await makeTempDir("redis-lru")];
    evicting = spawnServer({
      name: "redis-lru",
      command: "redis-server",
      args: ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--maxmemory-policy", "allkeys-lru"],
      dir,
      logFile: path.join(dir, "server.log"),
    });
    await waitUntilReady(evicting, () => redisPing("127.0.0.1", port), { timeoutMs: 20_000, intervalMs: 50 });
    const { ok, text } = await validate(`redis://127.0.0.1:${port}`);
    expect(ok).toBe(true);
    expect(text).toContain(`warn cluster: Redis at redis://127.0.0.1:${port} has maxmemory-policy allkeys-lru`);
    expect(text).toContain("fix: set maxmemory-policy noeviction");
  });

  it("fails, naming the URL without its password, when Redis cannot be reached", async () => {
    const port = await freePort();
    const { ok, text } = await validate(`redis://:hunter2@127.0.0.1:${port}/0`);
    expect(ok).toBe(false);
    expect(text).toContain(`FAIL cluster: cannot reach Redis at redis://127.0.0.1:${port}/0 (cluster.redis)`);
    expect(text).not.toContain("hunter2");
  });
});

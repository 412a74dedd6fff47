import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { stringify } from "yaml";
import "../../../src/connectors.js";
import { offsetsCommand, type OffsetsOptions } from "../../../src/commands/offsets.js";
import type { OffsetsView } from "../../../src/runtime/offsets/connector-offsets.js";
import { uniqueName, waitFor } from "../../harness/index.js";
import { harness } from "../../harness/env.js";
import { startDaemon, untilState, type Daemon } from "../../support/daemon.js";

/** `liberator offsets …` as the CLI runs it, in this process: exit code and what it printed. */
async function offsets(action: "get" | "set" | "reset", options: OffsetsOptions) {
  let out = "";
  let err = "";
  const stdout = vi.spyOn(process.stdout, "write").mockImplementation((chunk) => ((out += String(chunk)), true));
  const stderr = vi.spyOn(process.stderr, "write").mockImplementation((chunk) => ((err += String(chunk)), true));
  try {
    const code = await offsetsCommand(action, options);
    return { code, out, err, json: code === 0 ? (JSON.parse(out) as OffsetsView) : undefined };
  } finally {
    stdout.mockRestore();
    stderr.mockRestore();
  }
}

function configFile(connector: string, admin: Record<string, unknown>): string {
  const file = join(mkdtempSync(join(tmpdir(), "liberator-offsets-")), "connectors.yaml");
  writeFileSync(
    file,
    stringify({
      kafka: { brokers: harness().kafka.brokers, topics: { replicationFactor: 1 } },
      admin,
      connectors: [{ name: connector, type: "generator", topic: `${connector}.events`, ratePerSecond: 100 }],
    }),
  );
  return file;
}

describe("liberator offsets for a source", () => {
  let daemon: Daemon | undefined;
  afterEach(async () => {
    await daemon?.stop("SIGTERM");
    daemon = undefined;
  });

  it("gets, sets and resets the position of a connector nothing runs", async () => {
    const connector = uniqueName("cli");
    // nothing listens on this admin port: no liberator runs this config
    const config = configFile(connector, { port: 1 });
    expect((await offsets("get", { config, connector })).json).toMatchObject({ connector, kind: "source", position: null });
    const set = await offsets("set", { config, connector, position: '{"seq": 42}' });
    expect(set.code, set.err).toBe(0);
    // what it prints is read back from Kafka
    expect(set.json).toMatchObject({ position: { seq: 42 }, committedAt: expect.any(String) });
    expect((await offsets("reset", { config, connector })).json).toMatchObject({ position: null });
  });

  it("says what is wrong with the options: a sink's option for a source, none at all, bad JSON", async () => {
    const connector = uniqueName("cli");
    const config = configFile(connector, { port: 1 });
    const sinkOption = await offsets("set", { config, connector, toEarliest: true });
    expect(sinkOption.code).toBe(1);
    expect(sinkOption.err).toContain(`connector "${connector}": a source's offsets are its position`);
    const none = await offsets("set", { config, connector });
    expect(none.code).toBe(2);
    expect(none.err).toContain("exactly one of --position, --to-earliest");
    const badJson = await offsets("set", { config, connector, position: "{seq: 1}" });
    expect(badJson.code).toBe(2);
    expect(badJson.err).toContain("--position is not JSON");
    expect((await offsets("get", { config, connector: "nope" })).err).toContain('no connector "nope"');
  });

  it("refuses to move the position of a connector `liberator run` is running, unless --force, which rewinds it there", async () => {
    const connector = uniqueName("cli");
    daemon = await startDaemon({ connectors: [{ name: connector, type: "generator", topic: `${connector}.events`, ratePerSecond: 100 }] });
    const d = daemon;
    await d.waitReady();
    await waitFor(async () => (((await d.status(connector))?.position as { seq: number } | null)?.seq ?? 0) > 50, { message: "50 records" });
    const refused = await offsets("set", { config: d.configFile, connector, position: '{"seq": 5}' });
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/is running on worker .*--force/);
    const forced = await offsets("set", { config: d.configFile, connector, position: '{"seq": 5}', force: true });
    expect(forced.code, forced.err).toBe(0);
    expect(forced.json).toMatchObject({ position: { seq: 5 } });
    // the view that shows it running again shows where from: a second look could come after 50 more records under load
    const again = await untilState(d, connector, "running", 10_000, "running again");
    expect((again.position as { seq: number }).seq).toBeLessThan(50);
  });
});

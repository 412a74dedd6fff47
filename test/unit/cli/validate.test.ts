import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "../../..");

function validate(yaml: string, ...args: string[]) {
  const dir = mkdtempSync(join(tmpdir(), "liberator-validate-"));
  const file = join(dir, "connectors.yaml");
  writeFileSync(file, yaml);
  const res = spawnSync(process.execPath, ["--import", "tsx", join(root, "src/cli.ts"), "validate", "-c", file, ...args], {
    cwd: root,
    encoding: "utf8",
    timeout: 60_000,
  });
  return { code: res.status, out: res.stdout, err: res.stderr };
}

/** A port nothing listens on: bound, then closed. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe("liberator validate", () => {
  it("prints every mistake with its line, connector and field, and exits non-zero", () => {
    const { code, err } = validate(`kafka:
  brokers: [localhost:9092]
connectors:
  - name: orders
    type: generator
    topic: shop.orders
    ratePerSecond: lots
  - name: audit
    type: generator
    topc: shop.audit
`);
    expect(code).toBe(2);
    expect(err).toContain("3 problem(s) in");
    expect(err).toContain('connectors.yaml:7 connector "orders": ratePerSecond must be a whole number, got "lots"');
    expect(err).toContain('connectors.yaml:8 connector "audit": topic is required (string)');
    expect(err).toMatch(/connectors\.yaml:10 connector "audit": topc is not a known key \(did you mean "topic"\?\)/);
  });

  it("names the Kafka brokers it cannot reach and the cause", async () => {
    const port = await closedPort();
    const { code, out } = validate(`kafka:\n  brokers: [127.0.0.1:${port}]\n  connectionTimeoutMs: 1000\nconnectors: []\n`);
    expect(code).toBe(1);
    expect(out).toContain(`FAIL cannot reach Kafka at 127.0.0.1:${port}`);
    expect(out).toMatch(/ECONNREFUSED|Connection error/);
    expect(out).toContain("fix: check kafka.brokers");
  });

  it("checks the config alone with --offline", () => {
    const { code, out } = validate(`kafka:\n  brokers: [nowhere:1]\nconnectors:\n  - {name: a, type: generator, topic: t}\n`, "--offline");
    expect(code).toBe(0);
    expect(out).toContain("1 connector(s): a (generator)");
  });
});

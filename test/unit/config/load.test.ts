import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import "../../../src/connectors.js";
import { parseConfig } from "../../../src/runtime/config/load.js";
import { ConfigError } from "../../../src/runtime/errors.js";

const problemsOf = (text: string, env: NodeJS.ProcessEnv = {}, file = "/etc/liberator/connectors.yaml"): string[] => {
  try {
    parseConfig(text, file, { env });
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems];
    throw err;
  }
  return [];
};

const base = `kafka:
  brokers: [localhost:9092]
connectors:
`;

describe("config loading", () => {
  it("parses a valid config and fills defaults", () => {
    const cfg = parseConfig(`${base}  - name: demo\n    type: generator\n    topic: demo.events\n`, "/x/connectors.yaml", { env: {} });
    expect(cfg.connectors).toHaveLength(1);
    expect(cfg.connectors[0]!.config).toMatchObject({ name: "demo", topic: "demo.events", ratePerSecond: 100, enabled: true });
    expect(cfg.root.admin.port).toBe(8083);
    expect(cfg.root.shutdown.gracePeriodMs).toBe(10_000);
  });

  it("reports every mistake at once, each with file:line, connector and field", () => {
    const problems = problemsOf(`${base}  - name: a
    type: generator
    topic: t
    ratePerSecond: fast
  - name: b
    type: generator
    topik: t
  - name: c
    type: generatr
`);
    expect(problems).toEqual([
      'connectors.yaml:7 connector "a": ratePerSecond must be a whole number, got "fast"',
      'connectors.yaml:8 connector "b": topic is required (string)',
      expect.stringMatching(/^connectors\.yaml:10 connector "b": topik is not a known key \(did you mean "topic"\?\)/),
      expect.stringMatching(/^connectors\.yaml:12 connector "c": type must be one of [a-z|]*\bgenerator\b[a-z|]*, got "generatr" \(did you mean "generator"\?\)$/),
    ]);
  });

  it("names the allowed values of an enum and what it found", () => {
    const problems = problemsOf(`${base}  - name: a\n    type: generator\n    topic: t\n    errors:\n      tolerance: some\n`);
    expect(problems).toEqual(['connectors.yaml:8 connector "a": errors.tolerance must be one of none|all, got "some"']);
  });

  it("interpolates ${VAR}, ${VAR:-default} and keeps numbers from the environment usable", () => {
    const cfg = parseConfig(
      `kafka:\n  brokers: \${BROKERS}\nadmin:\n  port: \${ADMIN_PORT:-9000}\nconnectors:\n  - name: a\n    type: generator\n    topic: \${TOPIC:-t}\n    ratePerSecond: \${RATE}\n`,
      "/x/c.yaml",
      { env: { BROKERS: "k1:9092,k2:9092", RATE: "250" } },
    );
    expect(cfg.root.kafka.brokers).toEqual(["k1:9092", "k2:9092"]);
    expect(cfg.root.admin.port).toBe(9000);
    expect(cfg.connectors[0]!.config).toMatchObject({ topic: "t", ratePerSecond: 250 });
  });

  it("says which variable is missing and how to give a default", () => {
    expect(problemsOf(`kafka:\n  brokers: ["\${KAFKA}"]\n`)).toEqual([
      "connectors.yaml:2 kafka.brokers.0 environment variable KAFKA is not set; set it, or write ${KAFKA:-default}",
    ]);
  });

  it("reads ${file:…} secrets and never prints them, even when they are wrong", () => {
    const dir = mkdtempSync(join(tmpdir(), "liberator-config-"));
    writeFileSync(join(dir, "rate"), "s3cr3t-value\n");
    const problems = problemsOf(`${base}  - name: a\n    type: generator\n    topic: t\n    ratePerSecond: \${file:rate}\n`, {}, join(dir, "c.yaml"));
    expect(problems).toEqual(['c.yaml:7 connector "a": ratePerSecond must be a whole number, got [redacted]']);
    expect(problems.join()).not.toContain("s3cr3t");
  });

  it("reports an unreadable secret file with the path to fix", () => {
    const problems = problemsOf(`kafka:\n  brokers: [k:1]\n  sasl:\n    mechanism: plain\n    username: u\n    password: \${file:/nonexistent/pw}\n`);
    expect(problems).toEqual([
      "connectors.yaml:6 kafka.sasl.password cannot read ${file:/nonexistent/pw} (/nonexistent/pw): no such file; mount the secret there or fix the path",
    ]);
  });

  it("refuses duplicate connector names and YAML syntax errors with their line", () => {
    expect(problemsOf(`${base}  - {name: a, type: generator, topic: t}\n  - {name: a, type: generator, topic: u}\n`)).toEqual([
      'connectors.yaml:5 connector "a": name "a" is already used by connector #1; names must be unique',
    ]);
    expect(problemsOf("kafka:\n  brokers: [a\nconnectors: x: y\n")[0]).toMatch(/^connectors\.yaml:\d+ .*\(YAML syntax\)$/);
  });

  it("reports a duplicate name beside the other problems of both connectors, all at once", () => {
    expect(problemsOf(`${base}  - {name: a, type: generator, topic: t, ratePerSecond: -1}\n  - {name: a, type: generatorr, topic: u}\n  - {name: b, type: generator}\n`)).toEqual([
      'connectors.yaml:4 connector "a": ratePerSecond must be >= 0, got -1',
      'connectors.yaml:5 connector "a": name "a" is already used by connector #1; names must be unique',
      'connectors.yaml:5 connector "a": type must be one of binlog|bullmq|generator|outbox|pgcdc|query|sql, got "generatorr" (did you mean "generator"?)',
      'connectors.yaml:6 connector "b": topic is required (string)',
    ]);
  });

  it("checks the schemaRegistry block with the rest, line included", () => {
    expect(problemsOf(`kafka:\n  brokers: [k:1]\nschemaRegistry:\n  compatibility: SIDEWAYS\n`)).toEqual([
      "connectors.yaml:4 schemaRegistry.compatibility must be one of BACKWARD|BACKWARD_TRANSITIVE|FORWARD|FORWARD_TRANSITIVE|FULL|FULL_TRANSITIVE|NONE, got \"SIDEWAYS\"",
    ]);
  });

  it("rejects unknown top-level keys with a suggestion", () => {
    expect(problemsOf(`kafka:\n  brokers: [k:1]\nshutdwn:\n  gracePeriodMs: 5s\n`)[0]).toMatch(
      /^connectors\.yaml:3 shutdwn is not a known key \(did you mean "shutdown"\?\)/,
    );
  });

  // issue 15, Found 5: `zeroDates: null`, unquoted as YAML users write it, was refused
  it("takes YAML's unquoted null for the zero-date settings, as the docs write them", () => {
    const cfg = parseConfig(
      `${base}  - name: b
    type: binlog
    connection: { user: root }
    zeroDates: null
    partialZeroDates: null
  - name: q
    type: query
    connection: { user: root }
    dialect: mysql
    mode: bulk
    tables: [shop.orders]
    mapping: { zeroDates: null, partialZeroDates: "null" }
`,
      "/x/connectors.yaml",
      { env: {} },
    );
    expect(cfg.connectors[0]!.config).toMatchObject({ zeroDates: "null", partialZeroDates: "null" });
    expect(cfg.connectors[1]!.config).toMatchObject({ mapping: { zeroDates: "null", partialZeroDates: "null" } });
    const defaults = parseConfig(`${base}  - name: b\n    type: binlog\n    connection: { user: root }\n`, "/x/connectors.yaml", { env: {} });
    expect(defaults.connectors[0]!.config).toMatchObject({ zeroDates: "error", partialZeroDates: "error" });
  });
});

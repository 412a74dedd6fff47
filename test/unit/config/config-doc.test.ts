import { describe, expect, it } from "vitest";
import { z } from "zod";
import { configRows } from "../../../src/runtime/config/config-doc.js";
import { duration, int, zeroDatePolicy } from "../../../src/runtime/config/fields.js";
import { connectorBaseSchema, rootSchema } from "../../../src/runtime/config/schema.js";
import { governanceConfigSchema, streamMetadataSchema, streamsConfigSchema } from "../../../src/runtime/governance/config.js";
import { pgcdcConfig } from "../../../src/sources/pgcdc/config.js";
import { bullmqSinkConfig } from "../../../src/sinks/bullmq/config.js";
import { sqlSinkConfig } from "../../../src/sinks/sql/config.js";
import { binlogConfig } from "../../../src/sources/binlog/config.js";
import { outboxConfig } from "../../../src/sources/outbox/config.js";
import { queryConfig } from "../../../src/sources/query/config.js";

describe("config tables generated from the schemas", () => {
  it("take each field's meaning from its description and its default from the schema, through optional, default, pipe and preprocess", () => {
    const schema = z.strictObject({
      host: z.string().default("127.0.0.1").describe("where"),
      user: z.string().describe("who"),
      hint: z.string().optional().describe("maybe"),
      prefix: z.string().optional().meta({ defaultText: "the connector name", description: "starts topics" }),
      pollMs: duration().default(600_000).describe("how often"),
      size: int(1).default(4 * 1024 * 1024).describe("how big"),
      maxBytes: int(1).default(4 * 1024 * 1024).describe("how many bytes"),
      zero: zeroDatePolicy().describe("zero dates"),
      nested: z.strictObject({ depth: int(0).default(3).describe("how deep") }).prefault({}),
      whole: z.strictObject({ a: z.string() }).optional().describe("one row for the object"),
      events: z.record(z.string(), z.strictObject({ version: z.literal("latest").default("latest").describe("which") })).meta({ keyName: "type" }),
      extra: z.record(z.string(), z.array(z.string())).default({}).meta({ keyName: "connector", description: "one row for the record, named by its keys" }),
    });
    expect(configRows(schema)).toEqual([
      { field: "host", default: "`127.0.0.1`", meaning: "where" },
      { field: "user", default: "(required)", meaning: "who" },
      { field: "hint", default: "—", meaning: "maybe" },
      { field: "prefix", default: "the connector name", meaning: "starts topics" },
      { field: "pollMs", default: "600,000", meaning: "how often" },
      { field: "size", default: "4,194,304", meaning: "how big" },
      { field: "maxBytes", default: "4,194,304 (4 MiB)", meaning: "how many bytes" },
      { field: "zero", default: "`error`", meaning: "zero dates" },
      { field: "nested.depth", default: "3", meaning: "how deep" },
      { field: "whole", default: "—", meaning: "one row for the object" },
      { field: "events.<type>.version", default: "`latest`", meaning: "which" },
      { field: "extra.<connector>", default: "—", meaning: "one row for the record, named by its keys" },
    ]);
    expect(configRows(schema, { omit: ["user", "events"], prefix: "root." }).map((r) => r.field)).toEqual([
      "root.host",
      "root.hint",
      "root.prefix",
      "root.pollMs",
      "root.size",
      "root.maxBytes",
      "root.zero",
      "root.nested.depth",
      "root.whole",
      "root.extra.<connector>",
    ]);
  });

  const tables: [string, z.ZodType, string[]][] = [
    ["every connector", connectorBaseSchema, []],
    ["the root config", rootSchema, ["streams", "governance", "connectors"]],
    ["query", queryConfig, []],
    ["binlog", binlogConfig, []],
    ["outbox", outboxConfig, []],
    ["sql", sqlSinkConfig, []],
    ["bullmq", bullmqSinkConfig, []],
    ["pgcdc", pgcdcConfig, []],
    ["streams", streamsConfigSchema, []],
    ["a stream's metadata", streamMetadataSchema, []],
    ["governance", governanceConfigSchema, []],
  ];
  for (const [name, schema, omit] of tables) {
    it(`document every field of ${name}: a field added without a description fails here`, () => {
      const undocumented = configRows(schema, { omit }).filter((r) => r.meaning.trim() === "");
      expect(undocumented.map((r) => r.field)).toEqual([]);
    });
  }
});

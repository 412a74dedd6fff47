import { clusterConfigSchema } from "../src/runtime/cluster/config.js";
import { configMarkdown } from "../src/runtime/config/config-doc.js";
import { connectorBaseSchema, rootSchema } from "../src/runtime/config/schema.js";
import { governanceConfigSchema, streamMetadataSchema, streamsConfigSchema } from "../src/runtime/governance/config.js";
import { ERROR_CATALOGUE, type ErrorCategory } from "../src/runtime/error-catalogue.js";
import { kafkaConfigSchema } from "../src/runtime/kafka/config.js";
import { schemaRegistryConfig } from "../src/runtime/schema-registry/config.js";
import { bullmqSinkConfig } from "../src/sinks/bullmq/config.js";
import { sqlSinkConfig } from "../src/sinks/sql/config.js";
import { binlogConfig } from "../src/sources/binlog/config.js";
import { outboxConfig } from "../src/sources/outbox/config.js";
import { pgcdcConfig } from "../src/sources/pgcdc/config.js";
import { queryConfig } from "../src/sources/query/config.js";
import { mappingMarkdown } from "../src/runtime/sql-types/mapping-doc.js";

/** Generated README sections, by marker name. */
export function generatedSections(): Record<string, string> {
  return { mapping: mappingMarkdown() };
}

/** Generated sections of the pages under docs/, by file (from the repository's root) and marker name. */
export function generatedDocSections(): Record<string, Record<string, string>> {
  // a connector's table leaves out the fields every connector has: operations.md has them once
  const own = { omit: Object.keys(connectorBaseSchema.shape) };
  return {
    "docs/errors.md": { errors: errorsMarkdown() },
    "docs/query.md": { config: configMarkdown(queryConfig, own) },
    "docs/binlog.md": { config: configMarkdown(binlogConfig, own) },
    "docs/pgcdc.md": { config: configMarkdown(pgcdcConfig, own) },
    "docs/outbox.md": { config: configMarkdown(outboxConfig, own) },
    "docs/governance.md": {
      "streams-config": configMarkdown(streamsConfigSchema, { prefix: "streams." }),
      "stream-metadata": configMarkdown(streamMetadataSchema),
      "governance-config": configMarkdown(governanceConfigSchema, { prefix: "governance." }),
    },
    "docs/sinks.md": { "sql-config": configMarkdown(sqlSinkConfig, own), "bullmq-config": configMarkdown(bullmqSinkConfig, own) },
    "docs/operations.md": {
      "connector-config": configMarkdown(connectorBaseSchema),
      "kafka-config": configMarkdown(kafkaConfigSchema, { prefix: "kafka." }),
      "registry-config": configMarkdown(schemaRegistryConfig, { prefix: "schemaRegistry." }),
      "process-config": configMarkdown(rootSchema, { omit: ["kafka", "schemaRegistry", "cluster", "streams", "governance", "connectors"] }),
      "cluster-config": configMarkdown(clusterConfigSchema),
    },
  };
}

const CATEGORY_ORDER: ErrorCategory[] = ["transient", "data", "configuration", "internal"];

/** The error catalogue as one table per category: code, retried or not, what it means, what to do. */
export function errorsMarkdown(): string {
  const cell = (text: string) => text.replace(/\|/g, "\\|");
  const out: string[] = [];
  for (const category of CATEGORY_ORDER) {
    const entries = Object.entries(ERROR_CATALOGUE).filter(([, e]) => e.category === category);
    out.push(`### ${category}`, "", "| code | retried | what happened | what to do |", "| --- | --- | --- | --- |");
    for (const [code, e] of entries) out.push(`| \`${code}\` | ${e.retriable ? "yes" : "no"} | ${cell(e.description)} | ${cell(e.fix)} |`);
    out.push("");
  }
  return out.join("\n").trimEnd();
}

export function replaceSections(text: string, sections: Record<string, string>): string {
  let out = text;
  for (const [name, body] of Object.entries(sections)) {
    const start = `<!-- ${name}:start -->`;
    const end = `<!-- ${name}:end -->`;
    const i = out.indexOf(start);
    const j = out.indexOf(end);
    if (i < 0 || j < i) throw new Error(`no ${start} … ${end} markers`);
    out = `${out.slice(0, i + start.length)}\n${body}\n${out.slice(j)}`;
  }
  return out;
}

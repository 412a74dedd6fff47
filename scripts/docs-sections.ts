import { clusterConfigSchema } from "../src/runtime/cluster/config.js";
import { configMarkdown } from "../src/runtime/config/config-doc.js";
import { connectorBaseSchema, rootSchema } from "../src/runtime/config/schema.js";
import { governanceConfigSchema, streamMetadataSchema, streamsConfigSchema } from "../src/runtime/governance/config.js";
import { ERROR_CATALOGUE, type ErrorCategory, type ErrorCode } from "../src/runtime/error-catalogue.js";
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
    "docs/query.md": { config: configMarkdown(queryConfig, own), errors: pageErrorsMarkdown(PAGE_ERRORS.query) },
    "docs/binlog.md": { config: configMarkdown(binlogConfig, own), errors: pageErrorsMarkdown(PAGE_ERRORS.binlog) },
    "docs/pgcdc.md": { config: configMarkdown(pgcdcConfig, own), errors: pageErrorsMarkdown(PAGE_ERRORS.pgcdc) },
    "docs/outbox.md": { config: configMarkdown(outboxConfig, own), errors: pageErrorsMarkdown(PAGE_ERRORS.outbox) },
    "docs/governance.md": {
      errors: pageErrorsMarkdown(PAGE_ERRORS.governance),
      "streams-config": configMarkdown(streamsConfigSchema, { prefix: "streams." }),
      "stream-metadata": configMarkdown(streamMetadataSchema),
      "governance-config": configMarkdown(governanceConfigSchema, { prefix: "governance." }),
    },
    "docs/sinks.md": { "sql-config": configMarkdown(sqlSinkConfig, own), "sql-errors": pageErrorsMarkdown(PAGE_ERRORS.sql), "bullmq-config": configMarkdown(bullmqSinkConfig, own) },
    "docs/operations.md": {
      "connector-config": configMarkdown(connectorBaseSchema),
      "kafka-config": configMarkdown(kafkaConfigSchema, { prefix: "kafka." }),
      "registry-config": configMarkdown(schemaRegistryConfig, { prefix: "schemaRegistry." }),
      "process-config": configMarkdown(rootSchema, { omit: ["kafka", "schemaRegistry", "cluster", "streams", "governance", "connectors"] }),
      "cluster-config": configMarkdown(clusterConfigSchema),
    },
  };
}

/** Text in a Markdown table cell. */
const cell = (text: string) => text.replace(/\|/g, "\\|");

const CATEGORY_ORDER: ErrorCategory[] = ["transient", "data", "configuration", "internal"];

const codesStarting = (prefix: string): ErrorCode[] => (Object.keys(ERROR_CATALOGUE) as ErrorCode[]).filter((c) => c.startsWith(prefix));

/** What a database source can meet besides its own codes. */
const DATABASE_SOURCE: ErrorCode[] = [
  "CONNECTION_FAILED",
  "DB_CONFLICT",
  "DB_PRIVILEGE_MISSING",
  "DB_AUTH_FAILED",
  "DB_TLS_FAILED",
  "DB_NOT_FOUND",
  "SCHEMA_INCOMPATIBLE",
  "SCHEMA_TYPE_UNSUPPORTED",
  "SCHEMA_FIELD_NAME_CLASH",
  "SCHEMA_KEY_COLUMN_MISSING",
  "POSITION_INVALID",
  "FENCED",
];
const LOG_SOURCE: ErrorCode[] = ["SCHEMA_ZERO_DATE", "SCHEMA_ZERO_DATE_KEY", ...codesStarting("COLUMN_POLICY_"), ...DATABASE_SOURCE];

/** The codes each page's Errors section shows, from the catalogue (docs/errors.md has them all). */
const PAGE_ERRORS: Record<"binlog" | "pgcdc" | "query" | "outbox" | "sql" | "governance", ErrorCode[]> = {
  binlog: [...codesStarting("BINLOG_"), ...LOG_SOURCE],
  pgcdc: [...codesStarting("PGCDC_"), ...LOG_SOURCE],
  query: [...codesStarting("QUERY_"), "SCHEMA_ZERO_DATE", ...DATABASE_SOURCE],
  outbox: [...codesStarting("OUTBOX_"), "SCHEMA_REGISTRY_UNAVAILABLE", ...DATABASE_SOURCE],
  sql: [...codesStarting("SINK_"), "WIRE_FORMAT_INVALID", "SCHEMA_NOT_FOUND", "SCHEMA_REGISTRY_UNAVAILABLE", "CONNECTION_FAILED", "DB_CONFLICT", "DB_PRIVILEGE_MISSING", "DB_AUTH_FAILED", "DB_TLS_FAILED", "DB_NOT_FOUND", "FENCED"],
  governance: ["GOVERNANCE_PII_KEY", "CONFIG_INVALID", "SCHEMA_INCOMPATIBLE", "STREAM_NOT_FOUND", ...codesStarting("QUOTAS_")],
};

const WHAT_FOLLOWS: Record<ErrorCategory, string> = {
  transient: "retried with backoff",
  data: "dead letter (`errors.tolerance: all`) or stop at the record",
  configuration: "the connector stops",
  internal: "stops; restarted after a long backoff",
};

/** A page's Errors table: the codes given, in that order, as the catalogue describes them. */
export function pageErrorsMarkdown(codes: readonly ErrorCode[]): string {
  const out = ["| code | then | what happened | what to do |", "| --- | --- | --- | --- |"];
  for (const code of new Set(codes)) {
    const e = ERROR_CATALOGUE[code];
    out.push(`| \`${code}\` | ${WHAT_FOLLOWS[e.category]} | ${cell(e.description)} | ${cell(e.fix)} |`);
  }
  return out.join("\n");
}

/** The error catalogue as one table per category: code, retried or not, what it means, what to do. */
export function errorsMarkdown(): string {
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

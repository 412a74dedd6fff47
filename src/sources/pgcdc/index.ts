import { PG_READ_OPTIONS, pgConnect } from "../../runtime/db/postgres.js";
import type { SourceSpec, StreamDescription } from "../../runtime/registry.js";
import { pgcdcConfig, type PgcdcConfig } from "./config.js";
import { PgcdcSource } from "./pgcdc-source.js";
import { preflight } from "./preflight.js";
import { capturedTables, pgTableFilter, TableVersions } from "./tables.js";

export const pgcdcSpec: SourceSpec<PgcdcConfig> = {
  kind: "source",
  type: "pgcdc",
  summary: "Change data capture from PostgreSQL's WAL (logical replication, pgoutput): a consistent lock-free snapshot, then every change in commit order",
  config: pgcdcConfig,
  preflight: (config) => preflight(config),
  create: (config, ctx) => new PgcdcSource(config, ctx),
  describeStreams: async (config, ctx) => {
    const db = await pgConnect(config.connection, config.name, PG_READ_OPTIONS);
    try {
      const versions = new TableVersions(config, { log: ctx.log, schemas: { check: async () => undefined } });
      const out: StreamDescription[] = [];
      for (const name of await capturedTables(db, pgTableFilter(config))) {
        const t = await versions.describe(db, name);
        if (t) out.push({ topic: t.stream.topic, keySchema: t.stream.keySchema, valueSchema: t.stream.valueSchema });
      }
      return out;
    } finally {
      await db.end().catch(() => undefined);
    }
  },
};

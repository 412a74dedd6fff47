import type { StreamDescription } from "../../runtime/registry.js";
import type { SourceSpec } from "../../runtime/registry.js";
import { queryConfig, type QueryConfig } from "./config.js";
import { openDatabase } from "./open-database.js";
import { mergePositions } from "./position.js";
import { queryPreflight } from "./preflight.js";
import { QuerySource } from "./query-source.js";
import { PageReader } from "./stream.js";

export const querySpec: SourceSpec<QueryConfig> = {
  kind: "source",
  type: "query",
  summary: "Polls MySQL/MariaDB and PostgreSQL tables (or a custom query) incrementally, never skipping a row whose transaction commits late",
  config: queryConfig,
  create: (config, ctx) => new QuerySource(config, ctx),
  // `tasks: auto`: a task per table (the custom query counts as one)
  autoTasks: (config) => config.streams.length,
  mergePositions,
  // task i reads every N-th stream from the i-th: a stream added, removed or moved in the list moves others
  splitOf: (config) => config.streams.map((s) => s.topic).join("\n"),
  preflight: (config, ctx) => queryPreflight(config, ctx.connector),
  async describeStreams(config, ctx): Promise<StreamDescription[]> {
    const db = await openDatabase(config.dialect, config.connection, ctx.connector);
    try {
      const options = { connector: ctx.connector, database: "", log: ctx.log, mapping: config.mapping, zone: "UTC", gate: { check: async () => undefined } };
      const out: StreamDescription[] = [];
      for (const stream of config.streams) {
        const reader = new PageReader(stream, db, options);
        await reader.describe();
        out.push({ topic: reader.topic, keySchema: reader.stream.keySchema, valueSchema: reader.stream.valueSchema });
      }
      return out;
    } finally {
      await db.close();
    }
  },
};

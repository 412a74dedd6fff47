import { mysqlConnect } from "../../runtime/db/mysql.js";
import { describeMysqlTable } from "../../runtime/db/introspect.js";
import type { SourceSpec, StreamDescription } from "../../runtime/registry.js";
import { BinlogSource } from "./binlog-source.js";
import { binlogConfig, type BinlogConfig } from "./config.js";
import { splitTableName, tableFilter } from "./filters.js";
import { preflight } from "./preflight.js";
import { streamOf } from "./schema-history.js";
import { capturedTables, serverInfo } from "./server.js";
import { layoutFromInfoSchema } from "./table-map.js";

export const binlogSpec: SourceSpec<BinlogConfig> = {
  kind: "source",
  type: "binlog",
  summary: "Change data capture from the MySQL/MariaDB binlog: a consistent snapshot, then every change in commit order",
  config: binlogConfig,
  preflight: (config) => preflight(config),
  create: (config, ctx) => new BinlogSource(config, ctx),
  gathersReads: true,
  describeStreams: async (config) => {
    const conn = await mysqlConnect(config.connection, config.name);
    try {
      const { mariadb } = await serverInfo(conn);
      const filter = tableFilter(config.include, config.exclude);
      const out: StreamDescription[] = [];
      for (const name of await capturedTables(conn, (db, t) => filter.captures(db, t))) {
        const [database, table] = splitTableName(name);
        const { layout, overrides } = layoutFromInfoSchema(await describeMysqlTable(conn, database, table), mariadb);
        const s = streamOf(config, database, table, layout, overrides);
        out.push({ topic: s.topic, keySchema: s.keySchema, valueSchema: s.valueSchema });
      }
      return out;
    } finally {
      await conn.end().catch(() => undefined);
    }
  },
};

import { checkMysqlReachable } from "../../runtime/db/mysql.js";
import { checkPostgresReachable } from "../../runtime/db/postgres.js";
import type { SinkSpec } from "../../runtime/registry.js";
import { sqlSinkConfig, type SqlSinkConfig } from "./config.js";
import { SqlSink } from "./sql-sink.js";

export const sqlSinkSpec: SinkSpec<SqlSinkConfig> = {
  kind: "sink",
  type: "sql",
  summary: "Streams into PostgreSQL or MySQL/MariaDB tables (insert, upsert, update, deletes), exactly once with the offsets kept in the target",
  config: sqlSinkConfig,
  topics: (config) => config.topics,
  preflight: async (config) => [config.dialect === "postgres" ? await checkPostgresReachable(config.connection) : await checkMysqlReachable(config.connection)],
  create: (config, ctx) => new SqlSink(config, ctx),
};

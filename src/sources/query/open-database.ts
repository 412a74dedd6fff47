import type { DatabaseConnection } from "../../runtime/config/fields.js";
import type { Dialect } from "../../runtime/sql-types/mapping.js";
import type { SourceDatabase } from "./database.js";
import { MysqlDatabase } from "./mysql-database.js";
import { PostgresDatabase } from "./postgres-database.js";
import { sqlDialect } from "./sql.js";

export async function openDatabase(dialect: Dialect, conn: DatabaseConnection, connector: string): Promise<SourceDatabase> {
  return dialect === "mysql" ? MysqlDatabase.open(conn, connector, sqlDialect("mysql")) : PostgresDatabase.open(conn, connector, sqlDialect("postgres"));
}

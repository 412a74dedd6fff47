import { mysqlConnect } from "../../runtime/db/mysql.js";
import { pgConnect } from "../../runtime/db/postgres.js";
import { describeMysqlTable, describePgTable, type TableDescription } from "../../runtime/db/introspect.js";
import type { OutboxConfig } from "./config.js";

/** One plain connection for set-up work (`outbox init`, `outbox triggers`, preflight), either dialect. */
export interface Session {
  query(sql: string): Promise<Record<string, unknown>[]>;
  describe(schema: string, table: string): Promise<TableDescription>;
  /** Runs the statements in one transaction where DDL is transactional (PostgreSQL), one by one otherwise. */
  run(statements: readonly string[]): Promise<void>;
  close(): Promise<void>;
}

export async function openSession(config: Pick<OutboxConfig, "dialect" | "connection">, connector?: string): Promise<Session> {
  if (config.dialect === "postgres") {
    const client = await pgConnect(config.connection, connector);
    client.on("error", () => undefined);
    const query = async (sql: string) => (await client.query(sql)).rows as Record<string, unknown>[];
    return {
      query,
      describe: (schema, table) => describePgTable(client, schema, table),
      async run(statements) {
        await client.query("BEGIN");
        try {
          for (const s of statements) await client.query(s);
          await client.query("COMMIT");
        } catch (err) {
          await client.query("ROLLBACK").catch(() => undefined);
          throw err;
        }
      },
      close: () => client.end().catch(() => undefined),
    };
  }
  const conn = await mysqlConnect(config.connection, connector);
  conn.on("error", () => undefined);
  const query = async (sql: string) => (await conn.query(sql))[0] as Record<string, unknown>[];
  return {
    query,
    describe: (schema, table) => describeMysqlTable(conn, schema, table),
    async run(statements) {
      for (const s of statements) await conn.query(s);
    },
    close: () => conn.end().catch(() => conn.destroy()),
  };
}

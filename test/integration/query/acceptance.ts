import type { ChangeRecord } from "../../../src/runtime/connector.js";
import type { SourceHarness } from "../../acceptance/source-suite.js";
import { querySpec } from "../../../src/sources/query/index.js";
import { queryConfig, testDatabase, type Kind } from "./fixtures.js";

/** The query source for the shared source acceptance suite: one table in timestamp+incrementing mode. */
export function queryAcceptance(kind: Kind): SourceHarness {
  return {
    name: `query on ${kind === "mariadb" ? "MariaDB" : "PostgreSQL"}`,
    spec: querySpec,
    fixture: async () => {
      const db = await testDatabase(kind);
      await db.exec(
        kind === "mariadb"
          ? "CREATE TABLE items (id INT AUTO_INCREMENT PRIMARY KEY, label VARCHAR(40) NOT NULL, updated_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6))"
          : "CREATE TABLE items (id SERIAL PRIMARY KEY, label VARCHAR(40) NOT NULL, updated_at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp())",
      );
      let next = 0;
      return {
        config: queryConfig(db, { tables: [`${db.schema}.items`], mode: "timestamp+incrementing", timestampColumn: "updated_at" }) as unknown as Record<string, unknown>,
        produce: async (n: number) => {
          const rows = Array.from({ length: n }, () => `('item ${++next}')`);
          await db.exec(`INSERT INTO items (label) VALUES ${rows.join(", ")}`);
        },
        identity: (r: ChangeRecord) => String((r.key as { id: number }).id),
        cleanup: () => db.close(),
      };
    },
  };
}

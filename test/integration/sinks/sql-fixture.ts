import { uniqueName } from "../../harness/index.js";
import type { Dialect } from "../../../src/runtime/sql-types/mapping.js";
import { sqlSinkSpec } from "../../../src/sinks/sql/index.js";
import type { SinkHarness } from "../../acceptance/sink-suite.js";
import { asSinkRecords, changeEvent, orderRow, ordersStream, targetDatabase } from "./support.js";

/** The sql sink's acceptance harness on one dialect: an orders table in a fresh database. */
export function sqlSinkSuiteHarness(dialect: Dialect): SinkHarness {
  return {
    name: `sql into ${dialect === "postgres" ? "PostgreSQL" : "MariaDB"}`,
    spec: sqlSinkSpec,
    fixture: async () => {
      const db = await targetDatabase(dialect);
      const name = uniqueName("sql_sink");
      const topic = `${name}.shop.orders`;
      const stream = ordersStream(topic);
      return {
        topic,
        config: sqlSinkSpec.config.parse({ name, type: "sql", dialect, connection: db.connection, topics: [topic] }),
        records: (from, n) => asSinkRecords(Array.from({ length: n }, (_, i) => changeEvent(stream, "orders", "c", null, orderRow(from + i))), from),
        // more integer digits than DECIMAL(12,4) holds: the target refuses it
        poison: (offset) => asSinkRecords([changeEvent(stream, "orders", "c", null, { ...orderRow(offset), price: "123456789012.0000" })], offset)[0]!,
        stored: async () => (await db.rows("SELECT id FROM orders")).map((r) => String(r.id)),
        cleanup: () => db.drop(),
      };
    },
  };
}

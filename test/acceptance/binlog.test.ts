import type { ChangeRecord } from "../../src/runtime/connector.js";
import { binlogSpec } from "../../src/sources/binlog/index.js";
import { createDatabase, dropDatabase, harness, mysqlConnection, uniqueName } from "../harness/index.js";
import { sourceAcceptanceSuite } from "./source-suite.js";

sourceAcceptanceSuite({
  name: "binlog on MariaDB",
  spec: binlogSpec,
  fixture: async () => {
    const database = await createDatabase("mariadb");
    const conn = await mysqlConnection(harness(), database);
    await conn.query("CREATE TABLE items (id INT AUTO_INCREMENT PRIMARY KEY, label VARCHAR(40) NOT NULL)");
    const name = uniqueName("binlog_acc");
    const { host, port, user, password } = harness().mariadb;
    return {
      config: binlogSpec.config.parse({ name, type: "binlog", connection: { host, port, user, password }, include: [`${database}.*`] }),
      produce: async (n: number) => {
        for (let i = 0; i < n; i++) await conn.query("INSERT INTO items (label) VALUES (?)", [`item ${i}`]);
      },
      identity: (r: ChangeRecord) => `${JSON.stringify(r.key)}:${r.value === null ? "tombstone" : (r.value as { op: string }).op}`,
      cleanup: async () => {
        await conn.end();
        await dropDatabase("mariadb", database);
      },
    };
  },
});

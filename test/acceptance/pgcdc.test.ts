import type { ChangeRecord } from "../../src/runtime/connector.js";
import { pgcdcSpec } from "../../src/sources/pgcdc/index.js";
import { createDatabase, harness, pgClient, uniqueName } from "../harness/index.js";
import { dropPgcdcDatabase } from "../integration/pgcdc/support.js";
import { sourceAcceptanceSuite } from "./source-suite.js";

sourceAcceptanceSuite({
  name: "pgcdc on PostgreSQL",
  spec: pgcdcSpec,
  fixture: async () => {
    const database = await createDatabase("postgres");
    const client = await pgClient(harness(), database);
    await client.query("CREATE TABLE items (id SERIAL PRIMARY KEY, label VARCHAR(40) NOT NULL)");
    const name = uniqueName("pgcdc_acc");
    const { host, port, user, password } = harness().postgres;
    return {
      config: pgcdcSpec.config.parse({ name, type: "pgcdc", connection: { host, port, user, password, database } }),
      produce: async (n: number) => {
        for (let i = 0; i < n; i++) await client.query("INSERT INTO items (label) VALUES ($1)", [`item ${i}`]);
      },
      identity: (r: ChangeRecord) => `${JSON.stringify(r.key)}:${r.value === null ? "tombstone" : (r.value as { op: string }).op}`,
      cleanup: async () => {
        await client.end();
        await dropPgcdcDatabase(database);
      },
    };
  },
});

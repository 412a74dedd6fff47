import { harness } from "../../harness/index.js";
import { describePostgresOracle } from "../../support/oracle/postgres-suite.js";

/*
 * The database as the oracle (issue 15) for the query source over PostgreSQL: every type of the
 * mapping table, written before the source starts and while it polls (incrementing by id).
 */
describePostgresOracle({
  path: "query",
  connector: (name, database, tables) => {
    const { host, port, user, password } = harness().postgres;
    return {
      name,
      type: "query",
      dialect: "postgres",
      connection: { host, port, user, password, database },
      tables: tables.map((t) => `public.${t}`),
      mode: "incrementing",
      pollIntervalMs: 100,
      delayMs: 200,
    };
  },
});

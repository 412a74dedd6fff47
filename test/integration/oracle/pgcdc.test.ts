import { describePostgresOracle } from "../../support/oracle/postgres-suite.js";
import { untilStreaming } from "../binlog/support.js";
import { dropPgcdcDatabase, pgcdcConnector } from "../pgcdc/support.js";

/*
 * The database as the oracle (issue 15 item 2) for the log-based PostgreSQL source: every type of
 * the mapping table through the pgcdc snapshot (rows there before it starts, read in the exported
 * snapshot) and through pgoutput (rows written while it streams, decoded from the replication
 * protocol's text), 1,000 generated values per column and path.
 */
describePostgresOracle({
  path: "pgcdc",
  connector: (name, database, tables) => pgcdcConnector(name, database, { include: tables.map((t) => `public.${t}`), snapshot: { chunkSize: 500 } }),
  ready: async (daemon, name) => {
    await untilStreaming(daemon, name, 240_000);
  },
  dropDatabase: dropPgcdcDatabase,
});

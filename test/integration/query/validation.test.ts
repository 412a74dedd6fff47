/**
 * Mistakes are reported before anything is read: by `liberator validate`, and at start, each
 * naming the table and the column.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LiberatorError } from "../../../src/runtime/errors.js";
import { freePort, uniqueName } from "../../harness/index.js";
import { startDaemon, untilFailed } from "../../support/daemon.js";
import { connectorEntry, databaseFor, openSource, queryConfig, validate, type TestDatabase } from "./fixtures.js";

async function openError(db: TestDatabase, fields: Record<string, unknown>): Promise<LiberatorError> {
  const source = openSource(queryConfig(db, fields));
  try {
    await source.open(null);
  } catch (err) {
    return err as LiberatorError;
  } finally {
    await source.close();
  }
  throw new Error("open() succeeded");
}

describe.each(["mariadb", "postgres"] as const)("query source configuration checks on %s", (kind) => {
  const db = databaseFor(kind);
  beforeAll(async () => {
    await db.exec("CREATE TABLE orders (id INT PRIMARY KEY, item VARCHAR(40) NOT NULL, updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)");
  });

  it("fails at start on a timestamp column the table does not have, naming the table and the column", async () => {
    const err = await openError(db, { tables: [`${db.schema}.orders`], mode: "timestamp", timestampColumn: "changed_at" });
    expect(err).toBeInstanceOf(LiberatorError);
    expect(err.code).toBe("QUERY_COLUMN_MISSING");
    expect(err.retriable).toBe(false);
    expect(err.message).toContain(`table ${db.schema}.orders has no column "changed_at" (timestampColumn)`);
    expect(err.message).toContain("its columns are: id, item, updated_at");
  });

  it("fails at start on timestamp mode over a column that is not a date-time, naming the table, the column and its type", async () => {
    const err = await openError(db, { tables: [`${db.schema}.orders`], mode: "timestamp", timestampColumn: "item" });
    expect(err.code).toBe("QUERY_COLUMN_TYPE");
    expect(err.message).toMatch(new RegExp(`table ${db.schema}\\.orders: timestampColumn "item" is (varchar|character varying)\\(40\\), not a date-time`));
  });

  it("fails at start on a table that does not exist", async () => {
    const err = await openError(db, { tables: [`${db.schema}.nope`], mode: "bulk" });
    expect(err.code).toBe("QUERY_TABLE_MISSING");
    expect(err.message).toContain(`table ${db.schema}.nope does not exist`);
  });

  it("validate: lists the column problem and the missing index with the CREATE INDEX to run, and exits non-zero", () => {
    const { code, out } = validate([
      connectorEntry(db, "broken", { tables: [`${db.schema}.orders`], mode: "timestamp", timestampColumn: "item" }),
      connectorEntry(db, "unindexed", { tables: [`${db.schema}.orders`], mode: "timestamp", timestampColumn: "updated_at" }),
    ]);
    expect(code, out).toBe(1);
    expect(out).toMatch(/FAIL connector "broken": tables\[0\]: table \S+\.orders: timestampColumn "item" is/);
    expect(out).toMatch(/ok {3}connector "unindexed": tables\[0\]: table \S+\.orders → unindexed\.\S+\.orders: mode timestamp/);
    expect(out).toMatch(/warn connector "unindexed": tables\[0\]: table \S+\.orders has no index starting with \(updated_at, id\)/);
    expect(out).toMatch(kind === "mariadb" ? /fix: CREATE INDEX `liberator_orders_updated_at_id` ON `\S+`\.`orders` \(`updated_at`, `id`\)/ : /fix: CREATE INDEX CONCURRENTLY "liberator_orders_updated_at_id" ON "public"\."orders" \("updated_at", "id"\)/);
  });

  it("validate: names host:port and the cause when the database cannot be reached", async () => {
    // free a moment ago: nothing listens there
    const port = await freePort();
    const { code, out } = validate([connectorEntry({ ...db, connection: { ...db.connection, host: "127.0.0.1", port } }, "away", { tables: ["x.orders"], mode: "bulk" })]);
    expect(code, out).toBe(1);
    expect(out).toContain(`FAIL connector "away": connect: cannot reach ${kind === "mariadb" ? "MySQL/MariaDB" : "PostgreSQL"} at 127.0.0.1:${port}: ECONNREFUSED`);
    expect(out).toContain("fix: nothing listens there");
  });
});

describe("query source without the PROCESS privilege (MariaDB)", () => {
  const db = databaseFor("mariadb");
  const user = uniqueName("noproc");
  beforeAll(async () => {
    await db.exec("CREATE TABLE orders (id INT PRIMARY KEY)");
    await db.exec(`CREATE USER '${user}'@'%' IDENTIFIED BY 'pw'`);
    await db.exec(`GRANT SELECT ON \`${db.name}\`.* TO '${user}'@'%'`);
  });
  afterAll(async () => {
    await db.exec(`DROP USER IF EXISTS '${user}'@'%'`);
  });

  it("validate warns that the horizon falls back to delayMs and names the GRANT", () => {
    const limited = { ...db, connection: { ...db.connection, user, password: "pw" } };
    const { code, out } = validate([connectorEntry(limited, "limited", { tables: [`${db.schema}.orders`], mode: "incrementing" })]);
    expect(code, out).toBe(0);
    expect(out).toContain(`warn connector "limited": horizon: user "${user}" cannot see other sessions' transactions`);
    expect(out).toContain(`fix: GRANT PROCESS ON *.* TO '${user}'@'%'`);
  });
});

describe("query source: a bad config stops the connector at start", () => {
  const db = databaseFor("mariadb");
  beforeAll(async () => {
    await db.exec("CREATE TABLE orders (id INT PRIMARY KEY, item VARCHAR(40) NOT NULL)");
  });

  it("marks the connector failed with the table and column in its error, without retrying", async () => {
    const name = uniqueName("bad");
    const daemon = await startDaemon({ connectors: [connectorEntry(db, name, { tables: [`${db.schema}.orders`], mode: "timestamp", timestampColumn: "item" })] });
    try {
      const status = await untilFailed(daemon, name, 20_000);
      expect(status.lastError?.code).toBe("QUERY_COLUMN_TYPE");
      expect(status.lastError?.message).toContain(`table ${db.schema}.orders: timestampColumn "item" is varchar(40), not a date-time`);
      expect(status.restarts).toBe(0);
    } finally {
      await daemon.stop();
    }
  });
});

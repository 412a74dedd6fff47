import mysql from "mysql2/promise";
import pg from "pg";
import type { HarnessInfo } from "./start.js";
import { uniqueName } from "./util.js";

export type DatabaseKind = "mariadb" | "postgres";

/*
 * Names are checked rather than quoted: uniqueName's output passes, and a test that builds names
 * some other way learns at once instead of from a puzzling SQL error.
 */
function checkName(name: string): string {
  if (!/^[a-z_][a-z0-9_]{0,62}$/i.test(name)) {
    throw new Error(`database name ${JSON.stringify(name)}: use letters, digits and _ (at most 63), e.g. uniqueName()`);
  }
  return name;
}

/**
 * A mysql2/promise connection to the harness MariaDB, as root. `multipleStatements` is on so a
 * test can run a fixture script in one call; override it or anything else with `options`.
 */
export function mysqlConnection(
  info: Pick<HarnessInfo, "mariadb">,
  database?: string,
  options: mysql.ConnectionOptions = {},
): Promise<mysql.Connection> {
  return mysql.createConnection({
    ...info.mariadb,
    ...(database ? { database } : {}),
    multipleStatements: true,
    ...options,
  });
}

/** A connected pg client to the harness PostgreSQL, as the `postgres` superuser. */
export async function pgClient(info: Pick<HarnessInfo, "postgres">, database?: string, options: pg.ClientConfig = {}): Promise<pg.Client> {
  const client = new pg.Client({ ...info.postgres, ...(database ? { database } : {}), ...options });
  await client.connect();
  return client;
}

/** Creates a database (a fresh one named by uniqueName when no name is given) and returns its name. */
export async function createDatabaseIn(info: Pick<HarnessInfo, DatabaseKind>, kind: DatabaseKind, name = uniqueName("db")): Promise<string> {
  checkName(name);
  if (kind === "mariadb") {
    const conn = await mysqlConnection(info);
    try {
      await conn.query(`CREATE DATABASE \`${name}\``);
    } finally {
      await conn.end();
    }
  } else {
    const client = await pgClient(info);
    try {
      await client.query(`CREATE DATABASE "${name}"`);
    } finally {
      await client.end();
    }
  }
  return name;
}

/** Drops a database if it exists (PostgreSQL: closing its open connections first). */
export async function dropDatabaseIn(info: Pick<HarnessInfo, DatabaseKind>, kind: DatabaseKind, name: string): Promise<void> {
  checkName(name);
  if (kind === "mariadb") {
    const conn = await mysqlConnection(info);
    try {
      await conn.query(`DROP DATABASE IF EXISTS \`${name}\``);
    } finally {
      await conn.end();
    }
  } else {
    const client = await pgClient(info);
    try {
      await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    } finally {
      await client.end();
    }
  }
}

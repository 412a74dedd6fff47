import { checkMysqlReachable } from "../../runtime/db/mysql.js";
import { checkPostgresReachable } from "../../runtime/db/postgres.js";
import type { PreflightCheck, PreflightContext } from "../../runtime/registry.js";
import type { OutboxConfig } from "./config.js";
import { notifyNames, notifyTriggerQuery } from "./ddl.js";
import { compile, readSchema } from "./event-schemas.js";
import { Router } from "./routing.js";
import { openSession, type Session } from "./session.js";
import { quoteIdentifier, qualifiedName, type TableName } from "../../runtime/db/identifiers.js";
import { outboxTableName } from "./sql.js";

/** `liberator validate` for an outbox: the database, the table and its columns, privileges, the NOTIFY trigger, the event schemas. */
export async function outboxPreflight(config: OutboxConfig, ctx: PreflightContext): Promise<PreflightCheck[]> {
  const checks = eventSchemaChecks(config);
  const reach = await (config.dialect === "postgres" ? checkPostgresReachable : checkMysqlReachable)(config.connection);
  if (!reach.ok) return [reach, ...checks];
  const name = outboxTableName(config);
  const session = await openSession(config, ctx.connector);
  try {
    return [reach, ...(await tableChecks(config, name, session)), ...checks];
  } finally {
    await session.close();
  }
}

const init = "run `liberator outbox init -c <config> --connector <name>` to see the DDL (--apply runs it)";

async function tableChecks(config: OutboxConfig, name: TableName, session: Session): Promise<PreflightCheck[]> {
  const where = `${name.schema}.${name.table}`;
  const description = await session.describe(name.schema, name.table);
  if (description.columns.length === 0) return [{ check: "table", ok: false, message: `the outbox table ${where} does not exist`, fix: init }];
  const c = config.columns;
  const wanted = [c.id, c.aggregateType, c.aggregateId, c.type, c.payload, c.headers, c.createdAt, ...(config.cleanup === "mark" ? [c.publishedAt] : []), ...new Router(config).extraColumns];
  const have = new Set(description.columns.map((col) => col.name));
  const missing = wanted.filter((col) => col && !have.has(col));
  const checks: PreflightCheck[] = [
    missing.length > 0
      ? { check: "columns", ok: false, message: `${where} has no column ${missing.join(", ")}`, fix: "fix `columns` in the config, or add them" }
      : { check: "columns", ok: true, message: `${where} has the columns the config names` },
  ];
  if (description.primaryKey.length !== 1 || description.primaryKey[0] !== c.id) {
    checks.push({
      check: "key",
      ok: false,
      severity: "warning",
      message: `${where}'s primary key is (${description.primaryKey.join(", ")}), not (${c.id}): reads in id order scan the whole table`,
      fix: `make ${c.id} an auto-increment (or identity) primary key`,
    });
  }
  checks.push(await privilegeCheck(config, name, session));
  if (config.dialect === "postgres" && config.notify) checks.push(await notifyCheck(config, name, session));
  return checks;
}

/** SELECT and DELETE (UPDATE for mark), tried in a transaction that is rolled back. */
async function privilegeCheck(config: OutboxConfig, name: TableName, session: Session): Promise<PreflightCheck> {
  const d = config.dialect;
  const table = qualifiedName(name, d);
  const cleanup =
    config.cleanup === "delete" ? `DELETE FROM ${table} WHERE 1 = 0` : `UPDATE ${table} SET ${quoteIdentifier(config.columns.publishedAt, d)} = NULL WHERE 1 = 0`;
  try {
    await session.query(`SELECT ${quoteIdentifier(config.columns.id, d)} FROM ${table} WHERE 1 = 0`);
    await session.query("BEGIN");
    try {
      await session.query(cleanup);
    } finally {
      await session.query("ROLLBACK");
    }
    return { check: "privileges", ok: true, message: `SELECT and ${config.cleanup === "delete" ? "DELETE" : "UPDATE"} on ${name.schema}.${name.table}` };
  } catch (err) {
    return {
      check: "privileges",
      ok: false,
      message: `cannot read and clean up ${name.schema}.${name.table}: ${(err as Error).message}`,
      fix: `GRANT SELECT, ${config.cleanup === "delete" ? "DELETE" : "UPDATE"} ON ${table} TO the connector's user`,
    };
  }
}

async function notifyCheck(config: OutboxConfig, name: TableName, session: Session): Promise<PreflightCheck> {
  const names = notifyNames(config, name);
  const rows = await session.query(notifyTriggerQuery(name, names.channel));
  if (rows.length > 0) return { check: "notify", ok: true, message: `trigger ${String(rows[0]!.name)} NOTIFYs channel ${names.channel}: the relay wakes at each commit` };
  return {
    check: "notify",
    ok: false,
    severity: "warning",
    message: `no NOTIFY trigger on ${name.schema}.${name.table}: the relay polls, and an idle outbox waits up to pollIntervalMs (${config.pollIntervalMs} ms)`,
    fix: init,
  };
}

/** Each listed schema file (or inline schema) is readable and valid Avro; registry subjects are read at start. */
function eventSchemaChecks(config: OutboxConfig): PreflightCheck[] {
  return Object.entries(config.events).map(([type, event]): PreflightCheck => {
    if (event.schema === undefined) return { check: `event ${type}`, ok: true, message: `schema taken from subject "${event.subject}" (version ${event.version}) at start` };
    try {
      compile(readSchema(event.schema, `events.${type}.schema`), `event type "${type}"`);
      return { check: `event ${type}`, ok: true, message: "schema is valid Avro" };
    } catch (err) {
      return { check: `event ${type}`, ok: false, message: (err as Error).message, fix: `fix events.${type}.schema` };
    }
  });
}

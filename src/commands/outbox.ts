import type { LoadedConfig } from "../runtime/config/load.js";
import { ConfigError, toLiberatorError } from "../runtime/errors.js";
import type { OutboxConfig } from "../sources/outbox/config.js";
import { initDdl } from "../sources/outbox/ddl.js";
import { openSession } from "../sources/outbox/session.js";
import { parseTableName } from "../runtime/db/identifiers.js";
import { outboxTableName } from "../sources/outbox/sql.js";
import { triggerDdl } from "../sources/outbox/triggers.js";
import { EXIT, loadOrExit } from "./load.js";

export interface InitOptions {
  connector: string;
  apply?: boolean;
}

export interface TriggersOptions {
  connector: string;
  table: string;
  /** Comma-separated; the primary key's columns are always captured. */
  columns?: string;
  apply?: boolean;
  drop?: boolean;
}

/** `liberator outbox init`: prints the outbox table's DDL (and PostgreSQL's NOTIFY trigger), or runs it. */
export async function outboxInitCommand(file: string, options: InitOptions): Promise<number> {
  const config = outboxOf(loadOrExit(file), options.connector);
  if (!config) return EXIT.config;
  let table;
  try {
    table = outboxTableName(config);
  } catch (err) {
    return fail(toLiberatorError(err).message);
  }
  return perform(config, initDdl(config, table), options.apply === true, `outbox ${table.schema}.${table.table}`);
}

/** `liberator outbox triggers`: change-capture triggers on a table that write into the outbox. */
export async function outboxTriggersCommand(file: string, options: TriggersOptions): Promise<number> {
  const config = outboxOf(loadOrExit(file), options.connector);
  if (!config) return EXIT.config;
  if (options.apply && options.drop) return fail("--apply and --drop exclude each other");
  let outbox;
  let table;
  try {
    outbox = outboxTableName(config);
    table = parseTableName(options.table, config.dialect, config.dialect === "postgres" ? "public" : config.connection.database, "--table");
  } catch (err) {
    return fail(toLiberatorError(err).message);
  }
  const session = await openSession(config, options.connector).catch((err: unknown) => err as Error);
  if (session instanceof Error) return fail(toLiberatorError(session).describe(), EXIT.failed);
  let ddl;
  try {
    const description = await session.describe(table.schema, table.table);
    if (description.columns.length === 0) return fail(`table ${table.schema}.${table.table} does not exist`, EXIT.failed);
    const capture = (options.columns ?? "").split(",").map((c) => c.trim()).filter(Boolean);
    const mariadb = config.dialect === "mysql" && /mariadb/i.test(String((await session.query("SELECT VERSION() AS v"))[0]?.v));
    ddl = triggerDdl({ dialect: config.dialect, outbox, columns: config.columns, table, description, capture, mariadb });
  } catch (err) {
    await session.close();
    return fail(err instanceof ConfigError ? err.problems.join("\n") : toLiberatorError(err).describe(), EXIT.failed);
  }
  await session.close();
  const on = `change-capture triggers on ${table.schema}.${table.table}`;
  if (options.drop) return perform(config, ddl.drop, true, `dropping ${on}`);
  return perform(config, ddl.create, options.apply === true, `${on} (columns ${ddl.columns.join(", ")})`);
}

function outboxOf(config: LoadedConfig, name: string): OutboxConfig | undefined {
  const connector = config.connectors.find((c) => c.name === name);
  // parsed by the outbox spec already, when the config was loaded
  if (connector?.type === "outbox") return connector.config as unknown as OutboxConfig;
  const outboxes = config.connectors.filter((c) => c.type === "outbox").map((c) => c.name);
  process.stderr.write(`${config.file}: no outbox connector "${name}"${outboxes.length ? ` (outbox connectors: ${outboxes.join(", ")})` : ""}\n`);
  return undefined;
}

/** Prints the statements (ready for psql or mysql), or runs them. */
async function perform(config: OutboxConfig, statements: string[], apply: boolean, what: string): Promise<number> {
  if (!apply) {
    process.stdout.write(`-- ${what} (${config.dialect}); run them, or add --apply\n\n${statements.map((s) => printable(s, config)).join("\n\n")}\n`);
    return EXIT.ok;
  }
  const session = await openSession(config).catch((err: unknown) => err as Error);
  if (session instanceof Error) return fail(toLiberatorError(session).describe(), EXIT.failed);
  try {
    await session.run(statements);
  } catch (err) {
    return fail(`${what}: ${(err as Error).message}`, EXIT.failed);
  } finally {
    await session.close();
  }
  process.stdout.write(`ok   ${what}: ${statements.length} statement(s) run\n`);
  return EXIT.ok;
}

/** A statement as a SQL client reads it; a MySQL body with `;` inside needs its own delimiter. */
function printable(statement: string, config: OutboxConfig): string {
  if (config.dialect === "mysql" && statement.includes(";")) return `DELIMITER //\n${statement} //\nDELIMITER ;`;
  return `${statement};`;
}

function fail(message: string, code: number = EXIT.config): number {
  process.stderr.write(`${message}\n`);
  return code;
}

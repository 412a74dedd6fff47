#!/usr/bin/env node
// first, so that the heap grows the way the daemon needs from its first collection on
import "./runtime/heap.js";
import { readFileSync } from "node:fs";
import { Command } from "commander";
import "./connectors.js";
import { aclsApplyCommand, aclsPlanCommand } from "./commands/acls.js";
import { outboxInitCommand, outboxTriggersCommand } from "./commands/outbox.js";
import { offsetsCli } from "./commands/offsets.js";
import { runCommand } from "./commands/run.js";
import { schemasCheckCommand } from "./commands/schemas.js";
import { snapshotCommand } from "./commands/snapshot.js";
import { statusCommand } from "./commands/status.js";
import { streamsListCommand, streamsShowCommand } from "./commands/streams.js";
import { validateCommand } from "./commands/validate.js";
import { verifyCommand } from "./commands/verify.js";

const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string };
const defaultConfig = process.env.LIBERATOR_CONFIG ?? "connectors.yaml";

const program = new Command()
  .name("liberator")
  .description("Liberates data from legacy databases into Kafka event streams, and streams back into datastores, exactly once.")
  .version(pkg.version, "-v, --version")
  .showHelpAfterError();

program
  .command("run")
  .description("run the connectors of the config until SIGTERM/SIGINT")
  .option("-c, --config <file>", "the config file", defaultConfig)
  .action(async (opts: { config: string }) => {
    await runCommand(opts.config);
  });

program
  .command("validate")
  .description("check the config, then reach Kafka and every database it names (privileges, binlog settings…)")
  .option("-c, --config <file>", "the config file", defaultConfig)
  .option("--offline", "check the config only, contact no server")
  .action(async (opts: { config: string; offline?: boolean }) => {
    process.exitCode = await validateCommand(opts.config, opts);
  });

program
  .command("schemas")
  .description("schema tools")
  .command("check")
  .description("compare every captured table's schema as it is now with the registry; exit 1 if a change would break consumers")
  .option("-c, --config <file>", "the config file", defaultConfig)
  .action(async (opts: { config: string }) => {
    process.exitCode = await schemasCheckCommand(opts.config);
  });

program
  .command("snapshot")
  .description("copy tables again while a binlog connector keeps streaming (an incremental snapshot), through the running daemon")
  .argument("<connector>", "the connector's name")
  .requiredOption("--table <db.table...>", "the table(s) to copy")
  .option("-c, --config <file>", "the config file (for the admin API's address and token)", defaultConfig)
  .option("--url <url>", "the admin API, e.g. http://127.0.0.1:8083 (default: from the config)")
  .action(async (connector: string, opts: { config: string; table: string[]; url?: string }) => {
    process.exitCode = await snapshotCommand(connector, opts);
  });

program
  .command("status")
  .description("every connector of the running daemon: snapshot progress bars with ETA, lag, rates and last errors")
  .option("-c, --config <file>", "the config file (for the admin API's address and token)", defaultConfig)
  .option("--url <url>", "the admin API, e.g. http://127.0.0.1:8083 (default: from the config; token from LIBERATOR_ADMIN_TOKEN without one)")
  .option("-w, --watch", "follow changes: redrawn in place on a terminal, printed one after another elsewhere")
  .option("--json", "the status document(s) as JSON")
  .option("--every-ms <ms>", "while watching, how often the daemon looks for changes", (v) => Number(v))
  .action(async (opts: { config: string; url?: string; watch?: boolean; json?: boolean; everyMs?: number }) => {
    process.exitCode = await statusCommand(opts);
  });

program.addCommand(offsetsCli(defaultConfig));

program
  .command("verify")
  .description("compare a source connector's tables with a sql sink's (and their topics with --through-kafka): row counts and every value, range by key range, tables without a key as multisets; exit 1 on a difference")
  .requiredOption("--source <connector>", "the source connector (its database and tables)")
  .requiredOption("--sink <connector>", "the sql sink connector (its database and table pattern)")
  .option("-c, --config <file>", "the config file", defaultConfig)
  .option("--table <db.table...>", "only these source tables")
  .option("--chunk <rows>", "rows per compared key range", (v) => Number(v), 10_000)
  .option("--through-kafka", "also read each table's topic (read_committed, its last state per key) and compare source, Kafka and sink three ways")
  .action(async (opts: { config: string; source: string; sink: string; table?: string[]; chunk: number; throughKafka?: boolean }) => {
    process.exitCode = await verifyCommand(opts.config, opts);
  });

const streams = program.command("streams").description("the stream catalog: every stream Liberator writes, its owner, schema version, PII and deprecation");
streams
  .command("list")
  .description("list every stream (and those the config declares that nothing wrote yet)")
  .option("-c, --config <file>", "the config file", defaultConfig)
  .option("--json", "print JSON")
  .action(async (opts: { config: string; json?: boolean }) => {
    process.exitCode = await streamsListCommand(opts.config, opts);
  });
streams
  .command("show")
  .description("show one stream in full, and what happens to each PII field")
  .argument("<topic>", "the stream's topic")
  .option("-c, --config <file>", "the config file", defaultConfig)
  .option("--json", "print JSON")
  .action(async (topic: string, opts: { config: string; json?: boolean }) => {
    process.exitCode = await streamsShowCommand(opts.config, topic, opts);
  });

const acls = program.command("acls").description("the Kafka ACLs (and client quotas) the config implies: only Liberator writes its topics");
acls
  .command("plan")
  .description("print the ACLs and quotas the config implies")
  .option("-c, --config <file>", "the config file", defaultConfig)
  .option("--format <format>", "table, json, or kafka-acls (kafka-acls.sh commands)", "table")
  .action(async (opts: { config: string; format: string }) => {
    process.exitCode = await aclsPlanCommand(opts.config, opts);
  });
acls
  .command("apply")
  .description("create the missing ACLs and set the quotas through the Kafka admin API")
  .option("-c, --config <file>", "the config file", defaultConfig)
  .option("--admin-user <name>", "apply as this SASL user (password from LIBERATOR_ADMIN_PASSWORD) instead of the config's")
  .action(async (opts: { config: string; adminUser?: string }) => {
    process.exitCode = await aclsApplyCommand(opts.config, opts);
  });

const outbox = program.command("outbox").description("transactional outbox: its table, and trigger-based change capture into it");
outbox
  .command("init")
  .description("print the outbox table's DDL (and PostgreSQL's NOTIFY trigger) for a connector, or run it with --apply")
  .option("-c, --config <file>", "the config file", defaultConfig)
  .requiredOption("--connector <name>", "the outbox connector")
  .option("--apply", "run the statements instead of printing them")
  .action(async (opts: { config: string; connector: string; apply?: boolean }) => {
    process.exitCode = await outboxInitCommand(opts.config, opts);
  });
outbox
  .command("triggers")
  .description("INSERT/UPDATE/DELETE triggers that write a table's changes into the outbox (no binlog or replication needed)")
  .option("-c, --config <file>", "the config file", defaultConfig)
  .requiredOption("--connector <name>", "the outbox connector")
  .requiredOption("--table <table>", "the table to capture: db.table (MySQL) or schema.table (PostgreSQL)")
  .option("--columns <a,b,c>", "capture only these columns (the primary key is always captured)")
  .option("--apply", "create the triggers instead of printing them")
  .option("--drop", "remove the triggers")
  .action(async (opts: { config: string; connector: string; table: string; columns?: string; apply?: boolean; drop?: boolean }) => {
    process.exitCode = await outboxTriggersCommand(opts.config, opts);
  });

await program.parseAsync(process.argv);

#!/usr/bin/env node
import { readFileSync } from "node:fs";
import { Command } from "commander";
import "./connectors.js";
import { runCommand } from "./commands/run.js";
import { schemasCheckCommand } from "./commands/schemas.js";
import { validateCommand } from "./commands/validate.js";

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

await program.parseAsync(process.argv);

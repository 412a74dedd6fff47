import { createKafka } from "../runtime/kafka/client.js";
import { createLogger } from "../runtime/log.js";
import { applyAcls, kafkaAclsCommands, planAcls, type AclPlan } from "../runtime/governance/acls.js";
import { planQuotas, type ClientQuota } from "../runtime/governance/quotas.js";
import { alterClientQuotas, describeClientQuotas } from "../runtime/kafka/client-quotas.js";
import { ConfigError, toLiberatorError } from "../runtime/errors.js";
import type { LoadedConfig } from "../runtime/config/load.js";
import { EXIT, loadOrExit } from "./load.js";

function plans(config: LoadedConfig): { acls: AclPlan; quotas: ClientQuota[] } | undefined {
  try {
    return { acls: planAcls(config), quotas: planQuotas(config) };
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${err.problems.join("\n")}\n`);
    return undefined;
  }
}

function printPlan(plan: AclPlan, quotas: readonly ClientQuota[]): void {
  const grouped = new Map<string, string[]>();
  for (const r of plan.rules) {
    const row = [r.resource, r.pattern, r.name, "", r.why];
    const key = row.join("\u0000");
    grouped.set(key, [...(grouped.get(key) ?? row), r.operation]);
  }
  const rows = [...grouped.values()].map(([resource, pattern, name, , why, ...ops]) => [resource!, pattern!, name!, ops.join(","), why!]);
  const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => r[i]!.length)));
  process.stdout.write(`Kafka ACLs for ${plan.principal} (ALLOW, host ${plan.rules[0]?.host ?? "*"}):\n`);
  for (const r of rows) process.stdout.write(`  ${r.map((c, i) => (i < 4 ? c.padEnd(widths[i]!) : c)).join("  ")}\n`);
  for (const w of plan.warnings) process.stdout.write(`warning: ${w}\n`);
  if (quotas.length > 0) {
    process.stdout.write("Client quotas (a rate not set is removed):\n");
    for (const q of quotas) {
      const set = Object.entries(q.values).filter(([, v]) => v !== null);
      process.stdout.write(`  ${q.clientId} (connector ${q.connector}): ${set.map(([k, v]) => `${k} ${v} B/s`).join(", ") || "none"}\n`);
    }
  }
}

/** `liberator acls plan`: the ACLs (and quotas) the config implies, as a table, JSON or kafka-acls.sh commands. */
export async function aclsPlanCommand(file: string, opts: { format?: string }): Promise<number> {
  const config = loadOrExit(file);
  const planned = plans(config);
  if (!planned) return EXIT.config;
  if (opts.format === "json") process.stdout.write(`${JSON.stringify({ ...planned.acls, quotas: planned.quotas }, null, 2)}\n`);
  else if (opts.format === "kafka-acls") process.stdout.write(`${kafkaAclsCommands(planned.acls).join("\n")}\n`);
  else printPlan(planned.acls, planned.quotas);
  return EXIT.ok;
}

/**
 * `liberator acls apply`: creates the ACLs the broker does not hold yet and sets the quotas, as the
 * config's Kafka user or, with --admin-user, as an admin (password in LIBERATOR_ADMIN_PASSWORD,
 * never on the command line).
 */
export async function aclsApplyCommand(file: string, opts: { adminUser?: string }): Promise<number> {
  const config = loadOrExit(file);
  const planned = plans(config);
  if (!planned) return EXIT.config;
  const log = createLogger({ level: process.env.LOG_LEVEL ?? "error" });
  let kafkaConfig = config.root.kafka;
  if (opts.adminUser) {
    const password = process.env.LIBERATOR_ADMIN_PASSWORD;
    if (password === undefined) {
      process.stderr.write("--admin-user needs the password in the LIBERATOR_ADMIN_PASSWORD environment variable\n");
      return EXIT.config;
    }
    kafkaConfig = { ...kafkaConfig, sasl: { mechanism: kafkaConfig.sasl?.mechanism ?? "plain", username: opts.adminUser, password } };
  }
  const kafka = createKafka(kafkaConfig, log, "acls");
  try {
    const { created, present } = await applyAcls(kafka, planned.acls);
    process.stdout.write(`ACLs for ${planned.acls.principal}: ${created.length} created, ${present} already there\n`);
    for (const r of created) process.stdout.write(`  + ${r.resource} ${r.pattern} ${r.name} ${r.operation} (${r.why})\n`);
    for (const w of planned.acls.warnings) process.stdout.write(`warning: ${w}\n`);
    if (planned.quotas.length > 0) {
      await alterClientQuotas(kafka, planned.quotas);
      const now = await describeClientQuotas(kafka, planned.quotas.map((q) => q.clientId));
      process.stdout.write("client quotas now:\n");
      for (const q of planned.quotas) {
        const values = Object.entries(now.get(q.clientId) ?? {});
        process.stdout.write(`  ${q.clientId}: ${values.length > 0 ? values.map(([k, v]) => `${k} ${v} B/s`).join(", ") : "none"}\n`);
      }
    }
    return EXIT.ok;
  } catch (err) {
    const e = toLiberatorError(err);
    const denied = /authoriz/i.test(e.message);
    process.stderr.write(`${e.describe()}${denied && !e.fix ? " — apply as a Kafka admin: --admin-user <name> with LIBERATOR_ADMIN_PASSWORD set" : ""}\n`);
    return EXIT.failed;
  }
}

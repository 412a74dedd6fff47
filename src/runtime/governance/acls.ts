/**
 * The Kafka ACLs a config implies, for the single-writer rule: only Liberator's principal may
 * write a connector's output topics, and it gets exactly what its connectors and internal topics
 * need. `liberator acls plan` prints them, `liberator acls apply` creates the missing ones.
 *
 * A connector's output topics come from its config: a literal `topic`, the fixed start of a
 * `topic` pattern (outbox routing, as a PREFIXED pattern), else `<topicPrefix>.` (the connector's
 * name by default) plus its streams' own topics outside that prefix (query sources' custom
 * queries); `governance.acls.topics` adds more.
 */
import kafkajs, { type Admin, type Kafka } from "kafkajs";
import type { ConnectorConfig, LoadedConfig } from "../config/load.js";
import { ConfigError } from "../errors.js";
import { withAdmin } from "../kafka/admin.js";
import { deadLetterTopic } from "../kafka/dead-letter.js";
import { SOURCE_OFFSETS_TOPIC } from "../offsets/source-offsets.js";
import { sinkGroupId } from "../pipeline/sink-pipeline.js";
import { SchemaChangeNotifier } from "./schema-changes.js";

// kafkajs is CommonJS: Node's ESM loader does not see these as named exports
const { AclOperationTypes, AclPermissionTypes, AclResourceTypes, ResourcePatternTypes } = kafkajs;

export type AclResource = "TOPIC" | "GROUP" | "TRANSACTIONAL_ID";
export type AclPattern = "LITERAL" | "PREFIXED";
export type AclOperation = "READ" | "WRITE" | "CREATE" | "DESCRIBE";

/** One ALLOW rule. */
export interface AclRule {
  resource: AclResource;
  name: string;
  pattern: AclPattern;
  operation: AclOperation;
  principal: string;
  host: string;
  /** Who needs it, for the plan's reader. */
  why: string;
}

export interface AclPlan {
  principal: string;
  rules: AclRule[];
  /** Connectors whose output topics the config does not tell. */
  warnings: string[];
}

/** The tail consumers of the internal topics: `liberator-tail-<topic>-<uuid>`, one group per process. */
export const TAIL_GROUP_PREFIX = "liberator-tail-";

const TOPIC_OWNER: AclOperation[] = ["READ", "WRITE", "CREATE", "DESCRIBE"];
const TOPIC_WRITER: AclOperation[] = ["WRITE", "CREATE", "DESCRIBE"];
const TOPIC_READER: AclOperation[] = ["READ", "DESCRIBE"];
const TXN: AclOperation[] = ["WRITE", "DESCRIBE"];

/** Where a source writes, as far as its config tells. */
export function outputTopics(connector: ConnectorConfig, extra: readonly string[]): { topics: { name: string; pattern: AclPattern }[]; unknown: boolean } {
  const config = connector.config as Record<string, unknown>;
  const topics: { name: string; pattern: AclPattern }[] = [];
  let unknown = false;
  const prefix = typeof config.topicPrefix === "string" ? config.topicPrefix : connector.name;
  if (typeof config.topic === "string") {
    const topic = config.topic.split("{topicPrefix}").join(prefix);
    const at = topic.indexOf("{");
    if (at < 0) topics.push({ name: topic, pattern: "LITERAL" });
    else if (at > 0) topics.push({ name: topic.slice(0, at), pattern: "PREFIXED" });
    else unknown = true;
  } else {
    topics.push({ name: `${prefix}.`, pattern: "PREFIXED" });
    for (const stream of Array.isArray(config.streams) ? (config.streams as unknown[]) : []) {
      const topic = (stream as { topic?: unknown } | null)?.topic;
      if (typeof topic === "string" && !topic.startsWith(`${prefix}.`)) topics.push({ name: topic, pattern: "LITERAL" });
    }
  }
  for (const e of extra) topics.push(e.endsWith("*") ? { name: e.slice(0, -1), pattern: "PREFIXED" } : { name: e, pattern: "LITERAL" });
  return { topics, unknown: unknown && extra.length === 0 };
}

/** The principal the workers authenticate as: governance.acls.principal, else User:<kafka.sasl.username>. */
export function principalOf(config: LoadedConfig): string {
  const configured = config.root.governance.acls.principal;
  if (configured) return configured;
  const user = config.root.kafka.sasl?.username;
  if (user) return `User:${user}`;
  throw new ConfigError([
    "governance.acls.principal: cannot tell Liberator's Kafka principal: kafka.sasl is not set; name it, e.g. principal: User:liberator (or User:CN=… for mTLS)",
  ]);
}

export function planAcls(config: LoadedConfig): AclPlan {
  const principal = principalOf(config);
  const { host } = config.root.governance.acls;
  const rules: AclRule[] = [];
  const warnings: string[] = [];
  const add = (resource: AclResource, name: string, pattern: AclPattern, operations: readonly AclOperation[], why: string) => {
    for (const operation of operations) {
      if (!rules.some((r) => r.resource === resource && r.name === name && r.pattern === pattern && r.operation === operation)) {
        rules.push({ resource, name, pattern, operation, principal, host, why });
      }
    }
  };
  const { root } = config;
  add("TOPIC", SOURCE_OFFSETS_TOPIC, "LITERAL", TOPIC_OWNER, "source positions");
  if (!root.schemaRegistry.url) add("TOPIC", root.schemaRegistry.topic, "LITERAL", TOPIC_OWNER, "the embedded schema registry");
  add("TOPIC", root.governance.catalogTopic, "LITERAL", TOPIC_OWNER, "the stream catalog");
  add("TOPIC", root.governance.schemaChangesTopic, "LITERAL", TOPIC_OWNER, "schema-change notices");
  add("TRANSACTIONAL_ID", SchemaChangeNotifier.transactionalId(root.governance.schemaChangesTopic), "LITERAL", TXN, "schema-change notices, exactly once");
  add("GROUP", TAIL_GROUP_PREFIX, "PREFIXED", ["READ"], "every process tails the internal topics with a group of its own");
  for (const c of config.connectors) {
    const why = `connector ${c.name}`;
    const dlq = deadLetterTopic(c.name, c.config.errors.deadLetterTopic);
    if (c.spec.kind === "source") {
      const { topics, unknown } = outputTopics(c, root.governance.acls.topics[c.name] ?? []);
      if (unknown) warnings.push(`connector "${c.name}" picks its topics from its data: list them in governance.acls.topics.${c.name} (a topic, or a prefix ending in *)`);
      for (const t of topics) add("TOPIC", t.name, t.pattern, TOPIC_WRITER, `${why}: its output`);
      add("TRANSACTIONAL_ID", `liberator-${c.name}`, "LITERAL", TXN, `${why}: its transactions (fences older instances)`);
      // its tasks' ids, of any count: a task of a new count fences those of the count before it
      if (c.spec.autoTasks) add("TRANSACTIONAL_ID", `liberator-${c.name}#`, "PREFIXED", TXN, `${why}: its tasks' transactions`);
    } else {
      for (const topic of c.spec.topics(c.config)) add("TOPIC", topic, "LITERAL", TOPIC_READER, `${why}: its input`);
      // a prefix: the sink reads with a group of each run's own, named after the one lag tools watch
      add("GROUP", sinkGroupId(c.name), "PREFIXED", ["READ"], `${why}: its consumer groups`);
    }
    add("TOPIC", dlq, "LITERAL", TOPIC_WRITER, `${why}: its dead letters`);
  }
  return { principal, rules, warnings };
}

const key = (r: { resource: string; name: string; pattern: string; operation: string; principal: string; host: string }) =>
  `${r.resource}|${r.pattern}|${r.name}|${r.operation}|${r.principal}|${r.host}`;

const RESOURCE_CODES: Record<AclResource, number> = { TOPIC: AclResourceTypes.TOPIC, GROUP: AclResourceTypes.GROUP, TRANSACTIONAL_ID: AclResourceTypes.TRANSACTIONAL_ID };
const PATTERN_CODES: Record<AclPattern, number> = { LITERAL: ResourcePatternTypes.LITERAL, PREFIXED: ResourcePatternTypes.PREFIXED };
const OPERATION_CODES: Record<AclOperation, number> = {
  READ: AclOperationTypes.READ,
  WRITE: AclOperationTypes.WRITE,
  CREATE: AclOperationTypes.CREATE,
  DESCRIBE: AclOperationTypes.DESCRIBE,
};
const nameOf = <T extends string>(codes: Record<T, number>, code: number): string =>
  (Object.entries(codes) as [T, number][]).find(([, c]) => c === code)?.[0] ?? String(code);

/** The ALLOW rules the broker holds for a principal, in the plan's terms. */
async function existingRules(admin: Admin, principal: string): Promise<Set<string>> {
  const answer = await admin.describeAcls({
    resourceType: AclResourceTypes.ANY,
    resourcePatternType: ResourcePatternTypes.ANY,
    principal,
    operation: AclOperationTypes.ANY,
    permissionType: AclPermissionTypes.ALLOW,
  });
  const out = new Set<string>();
  for (const r of answer.resources) {
    for (const acl of r.acls) {
      out.add(
        key({
          resource: nameOf(RESOURCE_CODES, r.resourceType),
          pattern: nameOf(PATTERN_CODES, r.resourcePatternType),
          name: r.resourceName,
          operation: nameOf(OPERATION_CODES, acl.operation),
          principal: acl.principal,
          host: acl.host,
        }),
      );
    }
  }
  return out;
}

/** Creates the rules the broker does not hold yet; resolves with what it created and what was there. */
export async function applyAcls(kafka: Kafka, plan: AclPlan): Promise<{ created: AclRule[]; present: number }> {
  return withAdmin(kafka, async (admin) => {
    const existing = await existingRules(admin, plan.principal);
    const missing = plan.rules.filter((r) => !existing.has(key(r)));
    if (missing.length > 0) {
      await admin.createAcls({
        acl: missing.map((r) => ({
          resourceType: RESOURCE_CODES[r.resource],
          resourceName: r.name,
          resourcePatternType: PATTERN_CODES[r.pattern],
          principal: r.principal,
          host: r.host,
          operation: OPERATION_CODES[r.operation],
          permissionType: AclPermissionTypes.ALLOW,
        })),
      });
    }
    return { created: missing, present: plan.rules.length - missing.length };
  });
}

/** The plan as `kafka-acls.sh` commands, for those who apply ACLs through their own tooling. */
export function kafkaAclsCommands(plan: AclPlan): string[] {
  const groups = new Map<string, AclRule[]>();
  for (const r of plan.rules) {
    const k = `${r.resource}|${r.pattern}|${r.name}`;
    groups.set(k, [...(groups.get(k) ?? []), r]);
  }
  const flag: Record<AclResource, string> = { TOPIC: "--topic", GROUP: "--group", TRANSACTIONAL_ID: "--transactional-id" };
  return [...groups.values()].map((rules) => {
    const r = rules[0]!;
    const ops = rules.map((x) => `--operation ${x.operation[0]}${x.operation.slice(1).toLowerCase()}`).join(" ");
    return `kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config admin.properties --add --allow-principal '${r.principal}' --allow-host '${r.host}' ${ops} ${flag[r.resource]} '${r.name}' --resource-pattern-type ${r.pattern.toLowerCase()}`;
  });
}

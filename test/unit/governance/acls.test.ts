import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import "../../../src/connectors.js";
import { parseConfig } from "../../../src/runtime/config/load.js";
import { kafkaAclsCommands, planAcls, type AclRule } from "../../../src/runtime/governance/acls.js";
import { planQuotas } from "../../../src/runtime/governance/quotas.js";

const db = { host: "127.0.0.1", user: "root" };
const config = (extra: Record<string, unknown> = {}) =>
  parseConfig(
    stringify({
      kafka: { brokers: "localhost:9092", sasl: { mechanism: "plain", username: "liberator", password: "secret" } },
      connectors: [
        { name: "shop-cdc", type: "binlog", connection: db, topicPrefix: "demo" },
        { name: "events", type: "outbox", dialect: "mysql", connection: { ...db, database: "app" }, topicPrefix: "orders" },
        { name: "gen", type: "generator", topic: "synthetic.events" },
        { name: "shop-to-pg", type: "sql", dialect: "postgres", connection: { ...db, database: "reporting" }, topics: ["demo.shop.orders"], errors: { tolerance: "all" } },
      ],
      ...extra,
    }),
    "connectors.yaml",
  );

const rules = (all: AclRule[], resource: string, name: string) =>
  all.filter((r) => r.resource === resource && r.name === name).map((r) => `${r.pattern}:${r.operation}`).sort();

describe("ACLs the config implies", () => {
  const plan = planAcls(config());

  it("lets only the worker principal write each source's output, under the prefix its config gives", () => {
    expect(plan.principal).toBe("User:liberator");
    expect(rules(plan.rules, "TOPIC", "demo.")).toEqual(["PREFIXED:CREATE", "PREFIXED:DESCRIBE", "PREFIXED:WRITE"]);
    // the outbox routes by aggregate type: everything under its topic prefix
    expect(rules(plan.rules, "TOPIC", "orders.")).toEqual(["PREFIXED:CREATE", "PREFIXED:DESCRIBE", "PREFIXED:WRITE"]);
    expect(rules(plan.rules, "TOPIC", "synthetic.events")).toEqual(["LITERAL:CREATE", "LITERAL:DESCRIBE", "LITERAL:WRITE"]);
    for (const c of ["shop-cdc", "events", "gen"]) expect(rules(plan.rules, "TRANSACTIONAL_ID", `liberator-${c}`)).toEqual(["LITERAL:DESCRIBE", "LITERAL:WRITE"]);
    expect(plan.rules.every((r) => r.host === "*" && r.principal === "User:liberator")).toBe(true);
  });

  it("gives sinks read on their inputs and their group, and every connector its dead-letter topic", () => {
    expect(rules(plan.rules, "TOPIC", "demo.shop.orders")).toEqual(["LITERAL:DESCRIBE", "LITERAL:READ"]);
    expect(rules(plan.rules, "GROUP", "liberator-shop-to-pg")).toEqual(["PREFIXED:READ"]);
    expect(rules(plan.rules, "TOPIC", "_liberator_dlq.shop-to-pg")).toEqual(["LITERAL:CREATE", "LITERAL:DESCRIBE", "LITERAL:WRITE"]);
    expect(rules(plan.rules, "TOPIC", "_liberator_dlq.events")).toEqual(["LITERAL:CREATE", "LITERAL:DESCRIBE", "LITERAL:WRITE"]);
  });

  it("covers the internal topics, the notices' transactional id and the tail consumers' groups", () => {
    for (const topic of ["_liberator_offsets", "_liberator_schemas", "_liberator_schema_changes", "_liberator_streams"]) {
      expect(rules(plan.rules, "TOPIC", topic)).toEqual(["LITERAL:CREATE", "LITERAL:DESCRIBE", "LITERAL:READ", "LITERAL:WRITE"]);
    }
    expect(rules(plan.rules, "TRANSACTIONAL_ID", "liberator-_liberator_schema_changes")).toEqual(["LITERAL:DESCRIBE", "LITERAL:WRITE"]);
    expect(rules(plan.rules, "GROUP", "liberator-tail-")).toEqual(["PREFIXED:READ"]);
    expect(planAcls(config({ schemaRegistry: { url: "http://registry:8081" } })).rules.some((r) => r.name === "_liberator_schemas")).toBe(false);
  });

  it("needs a principal when Kafka has no SASL user, and takes extra topics from governance.acls", () => {
    const noSasl = parseConfig(stringify({ kafka: { brokers: "k:9092" }, connectors: [] }), "c.yaml");
    expect(() => planAcls(noSasl)).toThrow(expect.objectContaining({ code: "CONFIG_INVALID" }));
    const mtls = parseConfig(
      stringify({ kafka: { brokers: "k:9092" }, governance: { acls: { principal: "User:CN=liberator", topics: { gen: ["extra.*", "one.more"] } } }, connectors: [{ name: "gen", type: "generator", topic: "t" }] }),
      "c.yaml",
    );
    const p = planAcls(mtls);
    expect(p.principal).toBe("User:CN=liberator");
    expect(rules(p.rules, "TOPIC", "extra.")).toContain("PREFIXED:WRITE");
    expect(rules(p.rules, "TOPIC", "one.more")).toContain("LITERAL:WRITE");
  });

  it("prints kafka-acls.sh commands, one per resource", () => {
    const commands = kafkaAclsCommands(plan);
    expect(commands.find((c) => c.includes("--topic 'demo.'"))).toBe(
      "kafka-acls.sh --bootstrap-server \"$BOOTSTRAP\" --command-config admin.properties --add --allow-principal 'User:liberator' --allow-host '*' --operation Write --operation Create --operation Describe --topic 'demo.' --resource-pattern-type prefixed",
    );
    expect(new Set(commands).size).toBe(commands.length);
  });

  it("plans byte-rate quotas per connector client id, removing the rate a connector no longer sets", () => {
    const quotas = planQuotas(config({ governance: { quotas: { "shop-cdc": { producerByteRate: "5MiB" } } } }));
    expect(quotas).toEqual([{ connector: "shop-cdc", clientId: "liberator-shop-cdc", values: { producer_byte_rate: 5 * 1024 * 1024, consumer_byte_rate: null } }]);
  });
});

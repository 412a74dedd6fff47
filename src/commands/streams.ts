import { describeDeprecation } from "../runtime/governance/index.js";
import { StreamDeclarations } from "../runtime/governance/metadata.js";
import { catalogItems, StreamCatalog, type CatalogItem } from "../runtime/governance/stream-catalog.js";
import { toLiberatorError } from "../runtime/errors.js";
import { createKafka } from "../runtime/kafka/client.js";
import { createLogger } from "../runtime/log.js";
import { EXIT, loadOrExit } from "./load.js";

/**
 * The catalog as every worker sees it (read from its topic, no daemon needed), with the declared
 * streams; undefined, with the reason printed, when it cannot be read.
 */
async function readCatalog(file: string): Promise<CatalogItem[] | undefined> {
  const config = loadOrExit(file);
  const log = createLogger({ level: process.env.LOG_LEVEL ?? "error" });
  try {
    const catalog = await StreamCatalog.open(createKafka(config.root.kafka, log), config.root.governance.catalogTopic, log, config.root.kafka.topics.replicationFactor);
    try {
      return catalogItems(await catalog.list(), new StreamDeclarations(config.root.streams));
    } finally {
      await catalog.close();
    }
  } catch (err) {
    process.stderr.write(`cannot read the stream catalog: ${toLiberatorError(err).describe()}\n`);
    return undefined;
  }
}

const piiText = (item: CatalogItem) => item.pii.map((p) => `${p.field}:${p.handling}`).join(" ") || "-";

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join("  ")).join("\n");
}

/** `liberator streams list`: every stream, its connector, owner, schema version, PII and deprecation. */
export async function streamsListCommand(file: string, opts: { json?: boolean }): Promise<number> {
  const items = await readCatalog(file);
  if (!items) return EXIT.failed;
  if (opts.json) {
    process.stdout.write(`${JSON.stringify(items, null, 2)}\n`);
    return EXIT.ok;
  }
  if (items.length === 0) {
    process.stdout.write("no streams yet: no connector has written one, and the config declares none\n");
    return EXIT.ok;
  }
  const rows = [["TOPIC", "CONNECTOR", "OWNER", "VERSION", "PII", "DEPRECATED"]];
  for (const s of items) {
    rows.push([
      s.topic,
      s.written ? s.connector : "(not written yet)",
      s.owner ?? "-",
      s.written && s.schemaVersion !== null ? String(s.schemaVersion) : "-",
      piiText(s),
      s.deprecated ? (s.deprecated.date ?? "yes") : "-",
    ]);
  }
  process.stdout.write(`${table(rows)}\n`);
  return EXIT.ok;
}

/** `liberator streams show <topic>`: one stream in full, and what happens to each PII field. */
export async function streamsShowCommand(file: string, topic: string, opts: { json?: boolean }): Promise<number> {
  const items = await readCatalog(file);
  if (!items) return EXIT.failed;
  const s = items.find((i) => i.topic === topic);
  if (!s) {
    process.stderr.write(`no stream "${topic}": no connector has written it and the config does not declare it (liberator streams list shows them)\n`);
    return EXIT.failed;
  }
  if (opts.json) {
    process.stdout.write(`${JSON.stringify(s, null, 2)}\n`);
    return EXIT.ok;
  }
  const lines: [string, string][] = [["stream", s.topic]];
  if (s.written) {
    lines.push(["connector", `${s.connector} (${s.connectorType})${s.source ? `, table ${s.source.db}${s.source.table ? `.${s.source.table}` : ""}` : ""}`]);
  } else {
    lines.push(["connector", "none yet: declared in the config, not written"]);
  }
  lines.push(["owner", s.owner ?? "-"], ["namespace", s.namespace ?? "-"], ["description", s.description ?? "-"]);
  if (s.written) {
    const key = s.key === null ? "none (null keys)" : s.key.length > 0 ? s.key.join(", ") : "a single value";
    lines.push(["key", `${key}${s.keySubject ? ` (subject ${s.keySubject.subject} v${s.keySubject.version ?? "?"})` : ""}`]);
    for (const v of s.valueSubjects) lines.push(["schema", `${v.subject} v${v.version ?? "?"} (id ${v.id ?? "?"}, ${v.record})`]);
  }
  lines.push(["deprecated", s.deprecated ? `yes: ${describeDeprecation(s.deprecated)}` : "no"]);
  if (s.pii.length === 0) lines.push(["pii", "none declared"]);
  for (const p of s.pii) {
    const how = { clear: "published in clear (flagged)", masked: 'masked ("****")', hashed: "hashed (keyed HMAC-SHA256: joins still work)", dropped: "dropped (not published)" }[p.handling] ?? p.handling;
    const by = "by" in p ? ` — by the ${p.by === "stream" ? "stream declaration" : "connector's column policy"}` : "";
    lines.push(["pii", `${p.field}: ${how}${by}`]);
  }
  lines.push(["financial", s.financial.join(", ") || "-"]);
  if (s.written) lines.push(["updated", s.updatedAt]);
  process.stdout.write(`${lines.map(([k, v]) => `${k.padEnd(12)} ${v}`).join("\n")}\n`);
  return EXIT.ok;
}

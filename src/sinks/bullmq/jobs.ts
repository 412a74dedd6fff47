/**
 * A Kafka record as a BullMQ job: its id (from the event id, so a redelivered record is the same
 * job), its queue and name from the config's patterns, and its data as JSON.
 */
import type { SinkRecord } from "../../runtime/connector.js";
import type { BullmqSinkConfig } from "./config.js";

/** The event id header an outbox record carries (DESIGN.md §3). */
const EVENT_ID_HEADER = "id";
const TYPE_HEADER = "type";

export interface JobSpec {
  queue: string;
  name: string;
  jobId: string;
  data: unknown;
}

const header = (record: SinkRecord, name: string): string | undefined => {
  const v = record.headers[name];
  return v === undefined ? undefined : Buffer.isBuffer(v) ? v.toString("utf8") : v;
};

/**
 * BullMQ refuses ids that are integers or contain ":" (FACTS-bullmq.md, "Ids and cost"), and a bare
 * id could equal one of the queue's own key names: every id gets a prefix, ":" and "%" are escaped.
 */
export function jobIdOf(record: SinkRecord): string {
  const id = header(record, EVENT_ID_HEADER);
  if (id) return `evt-${id.replace(/%/g, "%25").replace(/:/g, "%3A")}`;
  return `kafka-${record.topic}-${record.partition}-${record.offset}`;
}

const PLACEHOLDER = /\{(topic|table|op|type)\}/g;

export function jobOf(record: SinkRecord, config: BullmqSinkConfig): JobSpec {
  const value = record.value as { op?: unknown; source?: { table?: unknown } } | null;
  const envelope = value !== null && typeof value === "object" && "op" in value && "source" in value;
  const values: Record<string, string> = {
    topic: record.topic,
    table: envelope && typeof value.source?.table === "string" ? value.source.table : (record.topic.split(".").pop() ?? record.topic),
    op: envelope && typeof value.op === "string" ? value.op : "",
    type: header(record, TYPE_HEADER) ?? "",
  };
  const fill = (pattern: string) => pattern.replace(PLACEHOLDER, (_, name: string) => values[name]!);
  const data =
    config.data === "value"
      ? json(record.value)
      : { topic: record.topic, partition: record.partition, offset: record.offset, timestamp: record.timestamp, key: json(record.key), value: json(record.value), headers: json(record.headers) };
  return { queue: fill(config.queue), name: fill(config.jobName), jobId: jobIdOf(record), data };
}

/** A canonical value (values.ts) as JSON can hold it: bigints and decimals as exact strings, bytes as base64. */
export function json(value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (Buffer.isBuffer(value)) return value.toString("base64");
  if (Array.isArray(value)) return value.map(json);
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = json(v);
    return out;
  }
  return value;
}

import type { Headers } from "../../runtime/connector.js";
import { ConfigError, DataError, ErrorCode } from "../../runtime/errors.js";
import { parseTimestamp } from "../../runtime/avro/values.js";
import type { OutboxConfig } from "./config.js";
import type { OutboxRow } from "./table.js";

const PLACEHOLDER = /\{([^{}]+)\}/g;
const TOPIC = /^[A-Za-z0-9._-]{1,249}$/;

/**
 * Where an event goes and what travels with it: the topic from the pattern over the row's
 * columns, the Kafka timestamp from created_at, the headers (`id`, then the row's own).
 */
export class Router {
  /** Columns the pattern names beyond the standard ones: the relay selects them too. */
  readonly extraColumns: string[];
  private readonly parts: ((row: OutboxRow) => string)[];
  /** Topic names already checked. */
  private readonly valid = new Set<string>();

  constructor(private readonly config: Pick<OutboxConfig, "topic" | "topicPrefix" | "columns">) {
    const c = config.columns;
    const standard: Record<string, (row: OutboxRow) => string> = {
      topicPrefix: () => config.topicPrefix,
      [c.aggregateType]: (row) => row.aggregateType,
      [c.aggregateId]: (row) => row.aggregateId,
      [c.type]: (row) => row.type,
      [c.id]: (row) => String(row.id),
    };
    this.extraColumns = [];
    this.parts = [];
    let last = 0;
    for (const m of config.topic.matchAll(PLACEHOLDER)) {
      const literal = config.topic.slice(last, m.index);
      this.parts.push(() => literal);
      const name = m[1]!;
      let part = standard[name];
      if (!part) {
        if ([c.payload, c.headers, c.createdAt].includes(name)) throw new ConfigError([`topic "${config.topic}": {${name}} cannot name a topic`]);
        this.extraColumns.push(name);
        part = (row) => row.extra[name] ?? "";
      }
      this.parts.push(part);
      last = m.index + m[0].length;
    }
    const tail = config.topic.slice(last);
    this.parts.push(() => tail);
  }

  /** The row's topic; DataError when its columns make no valid Kafka topic name. */
  topic(row: OutboxRow): string {
    let topic = "";
    for (const part of this.parts) topic += part(row);
    if (this.valid.has(topic)) return topic;
    if (!TOPIC.test(topic) || topic === "." || topic === "..") {
      throw new DataError(ErrorCode.OUTBOX_TOPIC_INVALID, `routes to "${topic}" (pattern "${this.config.topic}"), which is no valid Kafka topic name`, {
        fix: "topic names take letters, digits, '.', '_' and '-' (at most 249): fix the row, or the `topic` pattern",
      });
    }
    // a pattern over an unbounded column (an id) must not grow this without end
    if (this.valid.size >= 10_000) this.valid.clear();
    this.valid.add(topic);
    return topic;
  }
}

/** Kafka headers of an event: `id` (the row id) and the row's own headers, as strings. */
export function eventHeaders(row: OutboxRow): Headers {
  const headers: Headers = {};
  if (row.headers !== null) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(row.headers);
    } catch (err) {
      throw new DataError(ErrorCode.OUTBOX_HEADERS_INVALID, `headers are not JSON (${(err as Error).message})`);
    }
    if (parsed !== null && (typeof parsed !== "object" || Array.isArray(parsed))) {
      throw new DataError(ErrorCode.OUTBOX_HEADERS_INVALID, `headers must be a JSON object of strings, got ${row.headers.slice(0, 64)}`);
    }
    for (const [name, value] of Object.entries((parsed ?? {}) as Record<string, unknown>)) {
      if (value !== null && value !== undefined) headers[name] = typeof value === "string" ? value : JSON.stringify(value);
    }
  }
  headers.id = String(row.id);
  return headers;
}

/** created_at in ms since the epoch (a zone-less time is taken as UTC); now when the row has none. */
export function eventTime(row: OutboxRow): number {
  if (row.createdAt === null) return Date.now();
  try {
    return Math.floor(Number(parseTimestamp(row.createdAt, true)) / 1000);
  } catch {
    return Date.now();
  }
}

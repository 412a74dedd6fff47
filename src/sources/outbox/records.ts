import type { ChangeRecord, SourceContext } from "../../runtime/connector.js";
import { DataError, ErrorCode, type LiberatorError } from "../../runtime/errors.js";
import { deadLetterMessage, deadLetterTopic } from "../../runtime/kafka/dead-letter.js";
import type { ChangeEvents } from "./changes.js";
import type { OutboxConfig } from "./config.js";
import { unknownEventType, type EventSchemas } from "./event-schemas.js";
import { PayloadError, fromJson } from "./payload.js";
import { eventHeaders, eventTime, type Router } from "./routing.js";
import type { OutboxRow } from "./table.js";
import { CHANGE_EVENT_TYPE } from "./triggers.js";

/** One row as the records it becomes, or the reason it cannot be published. */
export interface ConvertedRow {
  row: OutboxRow;
  records: ChangeRecord[];
  /** Set when the row went to the dead-letter topic (records holds its dead letter) or, with tolerance none, stops the relay. */
  error?: DataError;
}

export interface Batch {
  records: ChangeRecord[];
  /** The rows the records stand for: all, unless a bad row ended the batch. */
  rows: OutboxRow[];
  deadLetters: number;
}

/**
 * Outbox rows as the records that leave: each event validated against its type's schema and
 * encoded in the canonical forms; a row that cannot be turned into its record goes to the
 * dead-letter topic with the reason (errors.tolerance: all), or ends the batch before it (none),
 * so everything before it is published and the relay stops at it on the next read.
 */
export class EventRecords {
  private readonly dlq: string;

  constructor(
    private readonly config: OutboxConfig,
    private readonly ctx: Pick<SourceContext, "connector">,
    private readonly schemas: EventSchemas,
    private readonly router: Router,
    private readonly changes: ChangeEvents,
    private readonly origin: string,
  ) {
    this.dlq = deadLetterTopic(ctx.connector, config.errors.deadLetterTopic);
  }

  /** Each row converted on its own, so rows read ahead can be converted before they are known to go out. */
  async convert(rows: readonly OutboxRow[]): Promise<ConvertedRow[]> {
    const out = new Array<ConvertedRow>(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]!;
      let topic: string | undefined;
      try {
        topic = this.router.topic(row);
        out[i] = { row, records: row.type === CHANGE_EVENT_TYPE ? await this.changes.records(row, topic) : [await this.event(row, topic)] };
      } catch (raw) {
        if (!(raw instanceof DataError)) throw raw;
        const error = aboutRow(row, raw);
        out[i] = { row, error, records: this.config.errors.tolerance === "all" ? [this.deadLetter(row, error, topic)] : [] };
      }
    }
    return out;
  }

  /** Converted rows (in id order) as one batch; with tolerance none it ends before the first bad row, or throws when that is the first. */
  batch(converted: readonly ConvertedRow[]): Batch {
    const records: ChangeRecord[] = [];
    const rows: OutboxRow[] = [];
    let deadLetters = 0;
    for (const c of converted) {
      if (c.error && this.config.errors.tolerance === "none") {
        if (rows.length === 0) throw c.error;
        break;
      }
      if (c.error) deadLetters++;
      for (const r of c.records) records.push(r);
      rows.push(c.row);
    }
    return { records, rows, deadLetters };
  }

  private async event(row: OutboxRow, topic: string): Promise<ChangeRecord> {
    let schema = this.schemas.cached(row.type) ?? (await this.schemas.get(row.type));
    if (!schema) throw unknownEventType(row.type, this.config);
    let json: unknown;
    try {
      json = JSON.parse(row.payload);
    } catch (err) {
      throw new DataError(ErrorCode.OUTBOX_PAYLOAD_NOT_JSON, `the payload is not JSON (${(err as Error).message})`);
    }
    let value: unknown;
    try {
      value = fromJson(schema.type, json);
    } catch (err) {
      // the application may have registered a newer version the payload was written for
      if (!(err instanceof PayloadError) || !(await this.schemas.refresh(row.type))) throw err;
      schema = this.schemas.cached(row.type)!;
      value = fromJson(schema.type, json);
    }
    return {
      topic,
      key: row.aggregateId,
      keySchema: "string",
      value,
      valueSchema: schema.schema,
      valueSubject: schema.subjectFor(topic),
      headers: eventHeaders(row),
      timestamp: eventTime(row),
    };
  }

  /** The row as it was (key = aggregate id, value = payload text) with the reason in headers. */
  private deadLetter(row: OutboxRow, error: LiberatorError, topic: string | undefined): ChangeRecord {
    let headers;
    try {
      headers = eventHeaders(row);
    } catch {
      headers = { id: String(row.id) };
    }
    headers["liberator.original.type"] = row.type;
    headers["liberator.original.aggregate_type"] = row.aggregateType;
    const message = deadLetterMessage(
      this.dlq,
      { key: Buffer.from(row.aggregateId), value: Buffer.from(row.payload), headers },
      error,
      { topic: topic ?? "", source: `${this.origin} row ${row.id}` },
      this.ctx.connector,
    );
    return { topic: message.topic, key: message.key, keySchema: null, value: message.value, valueSchema: null, headers: message.headers!, timestamp: eventTime(row) };
  }
}

/** The error with the row it is about: id, type and aggregate. */
function aboutRow(row: OutboxRow, err: DataError): DataError {
  const what = `outbox row ${row.id} (type "${row.type}", aggregate ${row.aggregateType}/${row.aggregateId})`;
  return new DataError(err.code, `${what}: ${err.message}`, { cause: err, ...(err.fix ? { fix: err.fix } : {}) });
}

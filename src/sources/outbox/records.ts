import type { ChangeRecord, SourceContext } from "../../runtime/connector.js";
import { DataError, type LiberatorError } from "../../runtime/errors.js";
import { deadLetterMessage, deadLetterTopic } from "../../runtime/kafka/dead-letter.js";
import type { ChangeEvents } from "./changes.js";
import type { OutboxConfig } from "./config.js";
import { unknownEventType, type EventSchemas } from "./event-schemas.js";
import { PayloadError, fromJson } from "./payload.js";
import { eventHeaders, eventTime, type Router } from "./routing.js";
import type { OutboxRow } from "./table.js";
import { CHANGE_EVENT_TYPE } from "./triggers.js";

export interface Converted {
  records: ChangeRecord[];
  /** How many of the rows the records stand for (all, unless a bad row ended the batch). */
  rows: number;
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

  async convert(rows: readonly OutboxRow[]): Promise<Converted> {
    const records: ChangeRecord[] = [];
    let deadLetters = 0;
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]!;
      let topic: string | undefined;
      try {
        topic = this.router.topic(row);
        if (row.type === CHANGE_EVENT_TYPE) records.push(...(await this.changes.records(row, topic)));
        else records.push(await this.event(row, topic));
      } catch (raw) {
        if (!(raw instanceof DataError)) throw raw;
        const err = aboutRow(row, raw);
        if (this.config.errors.tolerance === "none") {
          if (i === 0) throw err;
          return { records, rows: i, deadLetters };
        }
        records.push(this.deadLetter(row, err, topic));
        deadLetters++;
      }
    }
    return { records, rows: rows.length, deadLetters };
  }

  private async event(row: OutboxRow, topic: string): Promise<ChangeRecord> {
    let schema = await this.schemas.get(row.type);
    if (!schema) throw unknownEventType(row.type, this.config);
    let json: unknown;
    try {
      json = JSON.parse(row.payload);
    } catch (err) {
      throw new DataError("OUTBOX_PAYLOAD_NOT_JSON", `the payload is not JSON (${(err as Error).message})`);
    }
    let value: unknown;
    try {
      value = fromJson(schema.type, json);
    } catch (err) {
      // the application may have registered a newer version the payload was written for
      if (!(err instanceof PayloadError) || !(await this.schemas.refresh(row.type))) throw err;
      schema = (await this.schemas.get(row.type))!;
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

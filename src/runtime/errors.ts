import { classifyDbError, dbFailureCode } from "./db/errors.js";
import { ERROR_CATALOGUE, ErrorCode, type ErrorCategory } from "./error-catalogue.js";
import { classifyKafkaError, isKafkaError } from "./kafka/errors.js";
import { classifyTlsError, tlsFix } from "./tls.js";

export { ERROR_CATALOGUE, ErrorCode, isErrorCode, type ErrorCategory } from "./error-catalogue.js";

/**
 * One base error for the whole product. Callers decide by `code` (against `ErrorCode`, never a
 * string) and by its `category` and `retriable` flag, which come from the one catalogue
 * (error-catalogue.ts), never by message text (kafkajs and Conduit do the same).
 */
export interface LiberatorErrorOptions {
  connector?: string;
  cause?: unknown;
  /** What the user should do about it; printed after the message. */
  fix?: string;
}

export class LiberatorError extends Error {
  readonly code: ErrorCode;
  /**
   * Never set after the fact: one error can reach several connectors (a schema lookup they
   * shared), so naming one on it would name it for all of them; `forConnector` makes a copy.
   */
  readonly connector: string | undefined;
  readonly fix: string | undefined;

  constructor(code: ErrorCode, message: string, options: LiberatorErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.connector = options.connector;
    this.fix = options.fix;
  }

  /** This error naming `connector`: a copy of the same class and fields, the original untouched. */
  forConnector(connector: string): this {
    return Object.create(Object.getPrototypeOf(this) as object, {
      ...Object.getOwnPropertyDescriptors(this),
      connector: { value: connector, enumerable: true, writable: false, configurable: true },
    }) as this;
  }

  get category(): ErrorCategory {
    return ERROR_CATALOGUE[this.code].category;
  }

  /** Worth retrying at once with backoff: the catalogue says so of transient failures only. */
  get retriable(): boolean {
    return ERROR_CATALOGUE[this.code].retriable;
  }

  /** The message a human reads: connector, what happened, what to do. */
  describe(): string {
    const who = this.connector ? `connector "${this.connector}": ` : "";
    return `${who}${this.message}${this.fix ? ` — ${this.fix}` : ""}`;
  }
}

/** The config file cannot be used as written. Never retried: a human has to edit it. */
export class ConfigError extends LiberatorError {
  readonly problems: readonly string[];
  constructor(problems: readonly string[], options: LiberatorErrorOptions = {}) {
    super(ErrorCode.CONFIG_INVALID, problems.join("\n"), options);
    this.problems = problems;
  }
}

/** A server could not be reached or dropped the connection; worth retrying with backoff. */
export class ConnectionError extends LiberatorError {
  constructor(message: string, options: LiberatorErrorOptions = {}) {
    super(ErrorCode.CONNECTION_FAILED, message, options);
  }
}

/**
 * Another instance of the same connector took over (Kafka transactional id or sink epoch).
 * Never retried: the newer instance owns the connector now, and writing on would duplicate data.
 */
export class FencedError extends LiberatorError {
  /**
   * The partitions a sink task lost to another (per-partition fencing): the task goes on with the
   * others. Unset: the whole connector was taken over.
   */
  readonly partitions: readonly { topic: string; partition: number }[] | undefined;

  constructor(message: string, options: LiberatorErrorOptions & { partitions?: readonly { topic: string; partition: number }[] } = {}) {
    super(ErrorCode.FENCED, message, options);
    this.partitions = options.partitions;
  }
}

/** The source database is not set up the way the connector needs (binlog format, privileges…). */
export class PreconditionError extends LiberatorError {}

/** A record or value could not be turned into what the stream promises; it goes to the DLQ or stops the connector. */
export class DataError extends LiberatorError {}

/** A new schema version breaks the subject's compatibility rule. */
export class SchemaIncompatibleError extends LiberatorError {
  constructor(message: string, options: LiberatorErrorOptions = {}) {
    super(ErrorCode.SCHEMA_INCOMPATIBLE, message, options);
  }
}

/**
 * Turns anything thrown into a LiberatorError, classified by its cause: kafkajs errors by
 * kafka/errors.ts, database and socket errors by db/errors.ts; what neither knows is INTERNAL.
 */
export function toLiberatorError(err: unknown, connector?: string): LiberatorError {
  if (err instanceof LiberatorError) return connector === undefined || err.connector !== undefined ? err : err.forConnector(connector);
  const e = err instanceof Error ? err : new Error(String(err));
  const opts: LiberatorErrorOptions = { cause: e };
  if (connector !== undefined) opts.connector = connector;
  const code = isKafkaError(e) ? classifyKafkaError(e) : (dbFailureCode(classifyDbError(e)) ?? ErrorCode.INTERNAL);
  const tls = code === ErrorCode.KAFKA_TLS_FAILED ? classifyTlsError(e) : undefined;
  if (tls) opts.fix = tlsFix(tls, "kafka.ssl", "kafka.brokers");
  return code === ErrorCode.CONNECTION_FAILED ? new ConnectionError(e.message, opts) : new LiberatorError(code, e.message, opts);
}

/**
 * One base error for the whole product. Callers decide by `code` and `retriable`, never by message
 * text (kafkajs and Conduit do the same). Codes are stable: they appear in metrics (`errors_total{code}`),
 * in the admin API and in dead-letter headers, so renaming one is a breaking change.
 */
export interface LiberatorErrorOptions {
  retriable?: boolean;
  connector?: string;
  cause?: unknown;
  /** What the user should do about it; printed after the message. */
  fix?: string;
}

export class LiberatorError extends Error {
  readonly code: string;
  readonly retriable: boolean;
  /** Filled in by the runner when the code that threw did not know its connector. */
  connector: string | undefined;
  readonly fix: string | undefined;

  constructor(code: string, message: string, options: LiberatorErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retriable = options.retriable ?? false;
    this.connector = options.connector;
    this.fix = options.fix;
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
    super("CONFIG_INVALID", problems.join("\n"), options);
    this.problems = problems;
  }
}

/** A server could not be reached or dropped the connection; worth retrying with backoff. */
export class ConnectionError extends LiberatorError {
  constructor(message: string, options: LiberatorErrorOptions = {}) {
    super("CONNECTION_FAILED", message, { retriable: true, ...options });
  }
}

/**
 * Another instance of the same connector took over (Kafka transactional id or sink epoch).
 * Never retried: the newer instance owns the connector now, and writing on would duplicate data.
 */
export class FencedError extends LiberatorError {
  constructor(message: string, options: LiberatorErrorOptions = {}) {
    super("FENCED", message, { ...options, retriable: false });
  }
}

/** The source database is not set up the way the connector needs (binlog format, privileges…). */
export class PreconditionError extends LiberatorError {
  constructor(code: string, message: string, options: LiberatorErrorOptions = {}) {
    super(code, message, { ...options, retriable: false });
  }
}

/** A record or value could not be turned into what the stream promises; it goes to the DLQ or stops the connector. */
export class DataError extends LiberatorError {
  constructor(code: string, message: string, options: LiberatorErrorOptions = {}) {
    super(code, message, { ...options, retriable: false });
  }
}

/** A new schema version breaks the subject's compatibility rule. */
export class SchemaIncompatibleError extends LiberatorError {
  constructor(message: string, options: LiberatorErrorOptions = {}) {
    super("SCHEMA_INCOMPATIBLE", message, { ...options, retriable: false });
  }
}

/** Turns anything thrown into a LiberatorError, keeping retriable-ness of known transient failures. */
export function toLiberatorError(err: unknown, connector?: string): LiberatorError {
  if (err instanceof LiberatorError) {
    err.connector ??= connector;
    return err;
  }
  const e = err instanceof Error ? err : new Error(String(err));
  const opts: LiberatorErrorOptions = { cause: e };
  if (connector !== undefined) opts.connector = connector;
  if (isTransientNetworkError(e)) return new ConnectionError(e.message, opts);
  return new LiberatorError("INTERNAL", e.message, opts);
}

const TRANSIENT_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EAI_AGAIN",
  "PROTOCOL_CONNECTION_LOST",
  "ER_LOCK_DEADLOCK",
  "ER_LOCK_WAIT_TIMEOUT",
  "57P01", // postgres admin_shutdown
  "40001", // serialization_failure
  "40P01", // deadlock_detected
]);

/** Network drops, deadlocks and serialization failures: the same operation may well succeed later. */
export function isTransientNetworkError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === "string" && TRANSIENT_CODES.has(code)) return true;
  const retriable = (err as { retriable?: unknown }).retriable;
  return retriable === true;
}

import { pino, type Logger, type DestinationStream } from "pino";

export type { Logger } from "pino";

/** Keys whose values are never written to a log line, wherever they appear. */
export const SECRET_KEY = /pass(word)?|secret|token|credential|private.?key|sasl|apikey/i;

const REDACT_PATHS = [
  "password",
  "*.password",
  "*.*.password",
  "*.*.*.password",
  "secret",
  "*.secret",
  "token",
  "*.token",
  "*.sasl",
  "*.*.sasl",
  "headers.authorization",
  "*.headers.authorization",
];

export interface LogOptions {
  level?: string;
  destination?: DestinationStream;
}

/**
 * Root logger: pino JSON to stdout, one line per state change. Every connector gets a child with
 * `connector` bound, so each line names it.
 */
export function createLogger(options: LogOptions = {}): Logger {
  const level = options.level ?? process.env.LOG_LEVEL ?? "info";
  return pino(
    {
      name: "liberator",
      level,
      base: { pid: process.pid },
      redact: { paths: REDACT_PATHS, censor: "[redacted]" },
      // the cause as its own object: pino's default appends its message to the error's, and ours
      // often quote it already ("… refused user "x": Access denied …: Access denied …")
      serializers: { err: pino.stdSerializers.errWithCause },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    options.destination ?? pino.destination({ sync: false }),
  );
}

/** Deep copy with every secret-looking key replaced, for printing configs and errors. */
export function redactSecrets<T>(value: T): T {
  if (Array.isArray(value)) return value.map((v: unknown) => redactSecrets(v)) as T;
  if (value && typeof value === "object" && !(value instanceof Date) && !Buffer.isBuffer(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = SECRET_KEY.test(k) && v != null ? "[redacted]" : redactSecrets(v);
    return out as T;
  }
  return value;
}

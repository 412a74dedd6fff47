/**
 * A source's dead letters carry a row as it was (an outbox payload that failed its schema), with
 * the reason in headers (kafka/dead-letter.ts): without care, the PII a stream masks would land
 * in clear in the dead-letter topic. A JSON payload gets the stream's handling field by field;
 * anything else is withheld. The values taken out are also cut from the error headers, whose
 * messages may quote them.
 */
import type { ChangeRecord, Headers } from "../connector.js";
import { MASK, replacedValue } from "./pii.js";
import type { StreamMetadata } from "./metadata.js";

export const ORIGINAL_TOPIC_HEADER = "liberator.original.topic";
export const WITHHELD_HEADER = "liberator.pii.withheld";
const ERROR_HEADER_PREFIX = "liberator.error.";

/** True when the stream publishes some PII field other than in clear. */
export function protectsPii(meta: StreamMetadata): boolean {
  for (const how of meta.pii.values()) if (how !== "clear") return true;
  return false;
}

function headerText(value: string | Buffer | undefined): string | undefined {
  return value === undefined ? undefined : Buffer.isBuffer(value) ? value.toString("utf8") : value;
}

/** The dead letter with the stream's PII handling applied to its payload and error headers. */
export function scrubDeadLetter(record: ChangeRecord, topic: string, meta: StreamMetadata, hashKey: string | undefined): ChangeRecord {
  const headers: Headers = { ...record.headers };
  const payload = Buffer.isBuffer(record.value) ? record.value.toString("utf8") : undefined;
  let parsed: unknown;
  try {
    parsed = payload === undefined ? undefined : JSON.parse(payload);
  } catch {
    parsed = undefined;
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    headers[WITHHELD_HEADER] = `stream "${topic}" declares PII and this payload is not a JSON object: it is withheld`;
    for (const key of Object.keys(headers)) if (key.startsWith(ERROR_HEADER_PREFIX) && key !== "liberator.error.code") headers[key] = MASK;
    return { ...record, value: null, headers };
  }
  const fields = { ...(parsed as Record<string, unknown>) };
  const removed: string[] = [];
  for (const [field, how] of meta.pii) {
    if (how === "clear" || !(field in fields)) continue;
    const value = fields[field];
    if (value !== null && value !== undefined) removed.push(typeof value === "string" ? value : JSON.stringify(value));
    if (how === "drop") delete fields[field];
    else fields[field] = replacedValue(how === "mask" ? "masked" : "hashed", hashKey)(value);
  }
  for (const key of Object.keys(headers)) {
    const text = headerText(headers[key]);
    if (!key.startsWith(ERROR_HEADER_PREFIX) || text === undefined) continue;
    headers[key] = removed.reduce((t, clear) => (clear === "" ? t : t.split(clear).join(MASK)), text);
  }
  return { ...record, value: Buffer.from(JSON.stringify(fields)), headers };
}

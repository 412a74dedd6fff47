/**
 * What a schema registry does for Liberator, whether it is a Confluent-compatible server
 * (registry-client.ts) or the embedded one (embedded-registry.ts), and the Confluent error codes
 * both sides of the REST API speak. Failures are LiberatorErrors with the codes below.
 */
import type { CompatibilityLevel } from "../avro/compatibility.js";
import { ErrorCode, LiberatorError } from "../errors.js";

/** A schema under a subject, as Confluent's `GET /subjects/{s}/versions/{v}` shows it. */
export interface RegisteredSchema {
  subject: string;
  version: number;
  id: number;
  schema: string;
}

export interface CompatibilityAnswer {
  compatible: boolean;
  /** Why not, one line per broken rule. */
  messages: string[];
}

export interface SchemaRegistry {
  /** The id of `schema` under `subject`, registering it as a new version when it is not there yet. */
  register(subject: string, schema: string): Promise<number>;
  /** The version of `schema` under `subject`, or null when it was never registered there. */
  lookup(subject: string, schema: string): Promise<RegisteredSchema | null>;
  /** The schema text of an id (SCHEMA_NOT_FOUND when there is none). */
  schemaById(id: number): Promise<string>;
  subjects(): Promise<string[]>;
  /** Versions of a subject, oldest first (SCHEMA_SUBJECT_NOT_FOUND when it has none). */
  versions(subject: string): Promise<number[]>;
  version(subject: string, version: number | "latest"): Promise<RegisteredSchema>;
  /** The subject's own level, or the global level without `subject`; null when none is set. */
  compatibility(subject?: string): Promise<CompatibilityLevel | null>;
  setCompatibility(level: CompatibilityLevel, subject?: string): Promise<void>;
  /** Would `schema` be accepted as the next version of `subject`? */
  testCompatibility(subject: string, schema: string): Promise<CompatibilityAnswer>;
  close(): Promise<void>;
}

/** Our error codes and the HTTP status and Confluent `error_code` they travel as. */
export const REGISTRY_ERRORS = {
  SCHEMA_SUBJECT_NOT_FOUND: { status: 404, errorCode: 40401 },
  SCHEMA_VERSION_NOT_FOUND: { status: 404, errorCode: 40402 },
  SCHEMA_NOT_FOUND: { status: 404, errorCode: 40403 },
  SCHEMA_COMPATIBILITY_NOT_SET: { status: 404, errorCode: 40408 },
  // Confluent sends 409 as both status and error_code (newer servers 40901: the client reads either)
  SCHEMA_INCOMPATIBLE: { status: 409, errorCode: 409 },
  SCHEMA_INVALID: { status: 422, errorCode: 42201 },
  SCHEMA_VERSION_INVALID: { status: 422, errorCode: 42202 },
  SCHEMA_COMPATIBILITY_INVALID: { status: 422, errorCode: 42203 },
  SCHEMA_REGISTRY_UNAVAILABLE: { status: 500, errorCode: 50001 },
} as const;

export type RegistryErrorCode = keyof typeof REGISTRY_ERRORS;

export const subjectNotFound = (subject: string) =>
  new LiberatorError(ErrorCode.SCHEMA_SUBJECT_NOT_FOUND, `Subject '${subject}' not found.`);
export const versionNotFound = (version: number | string) =>
  new LiberatorError(ErrorCode.SCHEMA_VERSION_NOT_FOUND, `Version ${version} not found.`);
export const schemaNotFound = (id?: number) =>
  new LiberatorError(ErrorCode.SCHEMA_NOT_FOUND, id === undefined ? "Schema not found" : `Schema ${id} not found`);
export const invalidVersion = (version: string) =>
  new LiberatorError(
    ErrorCode.SCHEMA_VERSION_INVALID,
    `The specified version '${version}' is not a valid version id. Allowed values are between [1, 2^31-1] and the string "latest"`,
  );
export const invalidCompatibility = () =>
  new LiberatorError(
    ErrorCode.SCHEMA_COMPATIBILITY_INVALID,
    "Invalid compatibility level. Valid values are none, backward, forward, full, backward_transitive, forward_transitive, and full_transitive",
  );

/** Confluent's version path segment: 1..2^31-1, "latest", or -1 (also latest). */
export function parseVersion(text: string): number | "latest" {
  if (text === "latest" || text === "-1") return "latest";
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > 0x7fffffff) throw invalidVersion(text);
  return n;
}

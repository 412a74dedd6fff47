/**
 * The root config's `schemaRegistry` block. Its own file so the config loader can check it (with
 * line numbers, in `liberator validate`) without loading the registry code.
 */
import { z } from "zod";
import { bool, duration, int } from "../config/fields.js";
import { SCHEMAS_TOPIC } from "./embedded-registry.js";
import { COMPATIBILITY_LEVELS } from "../avro/compatibility.js";

export const schemaRegistryConfig = z.strictObject({
  /** A Confluent-compatible registry; without it the embedded registry is used. */
  url: z.string().url().optional(),
  basicAuth: z.strictObject({ username: z.string(), password: z.string() }).optional(),
  /** PEM texts (use ${file:…}). */
  tls: z
    .strictObject({
      ca: z.string().optional(),
      cert: z.string().optional(),
      key: z.string().optional(),
      rejectUnauthorized: bool().default(true),
    })
    .optional(),
  /** The global level of the embedded registry until one is set through its API; a remote registry keeps its own. */
  compatibility: z.enum(COMPATIBILITY_LEVELS).default("BACKWARD"),
  requestTimeoutMs: duration().default(10_000),
  /** Retries of a failed registry request (connection errors, 5xx, 429) before the connector sees the error. */
  retries: int(0, 100).default(5),
  /** Embedded registry: its topic, and how long to wait for it to be read to its end. */
  topic: z.string().default(SCHEMAS_TOPIC),
  readTimeoutMs: duration().default(30_000),
});

export type SchemaRegistryConfig = z.infer<typeof schemaRegistryConfig>;

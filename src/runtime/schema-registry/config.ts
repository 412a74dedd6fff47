/**
 * The root config's `schemaRegistry` block. Its own file so the config loader can check it (with
 * line numbers, in `liberator validate`) without loading the registry code.
 */
import { z } from "zod";
import { bool, duration, int } from "../config/fields.js";
import { SCHEMAS_TOPIC } from "./embedded-registry.js";
import { COMPATIBILITY_LEVELS } from "../avro/compatibility.js";

export const schemaRegistryConfig = z.strictObject({
  url: z
    .string()
    .url()
    .optional()
    .meta({ defaultText: "the embedded registry", description: "a Confluent-compatible registry; without it the embedded registry (served on the admin port) is used" }),
  basicAuth: z.strictObject({ username: z.string(), password: z.string() }).optional().describe("`{ username, password }` for the registry"),
  tls: z
    .strictObject({
      ca: z.string().optional(),
      cert: z.string().optional(),
      key: z.string().optional(),
      rejectUnauthorized: bool().default(true),
    })
    .optional()
    .describe("`{ ca, cert, key, rejectUnauthorized }`, PEM texts (use `${file:…}`)"),
  compatibility: z
    .enum(COMPATIBILITY_LEVELS)
    .default("BACKWARD")
    .describe("the global level of the embedded registry until one is set through its API; a remote registry keeps its own"),
  requestTimeoutMs: duration().default(10_000).describe("how long a registry request may take"),
  retries: int(0, 100).default(5).describe("retries of a failed registry request (connection errors, 5xx, 429) before the connector sees the error"),
  topic: z.string().default(SCHEMAS_TOPIC).describe("embedded registry: the compacted topic its schemas live in"),
  readTimeoutMs: duration().default(30_000).describe("embedded registry: how long to wait for its topic to be read to its end"),
});

export type SchemaRegistryConfig = z.infer<typeof schemaRegistryConfig>;

/**
 * A client for any Confluent-compatible registry (Confluent, Karapace, Apicurio's ccompat API,
 * Redpanda, and our embedded one). Requests go over keep-alive connections with optional basic
 * auth and TLS; retriable failures (connection errors, 5xx, 429) are retried by retry.ts. Ids and
 * registrations are immutable and cached, so a steady stream makes no calls at all.
 */
import http from "node:http";
import https from "node:https";
import { ErrorCode, LiberatorError, SchemaIncompatibleError } from "../errors.js";
import type { Logger } from "../log.js";
import { retry, type RetryPolicy } from "../retry.js";
import { REGISTRY_ERRORS, type CompatibilityAnswer, type RegisteredSchema, type RegistryErrorCode, type SchemaRegistry } from "./registry-api.js";
import { type CompatibilityLevel } from "../avro/compatibility.js";

export const REGISTRY_CONTENT_TYPE = "application/vnd.schemaregistry.v1+json";
const ACCEPT = `${REGISTRY_CONTENT_TYPE}, application/vnd.schemaregistry+json; qs=0.9, application/json; qs=0.5`;

export interface RegistryClientOptions {
  url: string;
  basicAuth?: { username: string; password: string } | undefined;
  /** PEM texts; `rejectUnauthorized: false` only for a test registry with a self-signed certificate. */
  tls?: { ca?: string | undefined; cert?: string | undefined; key?: string | undefined; rejectUnauthorized?: boolean | undefined } | undefined;
  requestTimeoutMs: number;
  retry?: Partial<RetryPolicy>;
  log?: Logger;
}

export class RegistryClient implements SchemaRegistry {
  private readonly base: URL;
  private readonly agent: http.Agent;
  private readonly authorization: string | undefined;
  private readonly schemasById = new Map<number, Promise<string>>();
  /** subject \0 schema text → id */
  private readonly registered = new Map<string, number>();

  constructor(private readonly options: RegistryClientOptions) {
    this.base = new URL(options.url.endsWith("/") ? options.url : `${options.url}/`);
    const secure = this.base.protocol === "https:";
    this.agent = secure
      ? new https.Agent({ keepAlive: true, ca: options.tls?.ca, cert: options.tls?.cert, key: options.tls?.key, rejectUnauthorized: options.tls?.rejectUnauthorized ?? true })
      : new http.Agent({ keepAlive: true });
    const auth = options.basicAuth;
    this.authorization = auth ? `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString("base64")}` : undefined;
  }

  async register(subject: string, schema: string): Promise<number> {
    const key = `${subject}\u0000${schema}`;
    const known = this.registered.get(key);
    if (known !== undefined) return known;
    const { id } = await this.call<{ id: number }>("POST", `subjects/${enc(subject)}/versions`, { schema });
    this.registered.set(key, id);
    return id;
  }

  async lookup(subject: string, schema: string): Promise<RegisteredSchema | null> {
    try {
      const found = await this.call<RegisteredSchema>("POST", `subjects/${enc(subject)}`, { schema });
      this.registered.set(`${subject}\u0000${schema}`, found.id);
      return found;
    } catch (err) {
      if (isCode(err, ErrorCode.SCHEMA_SUBJECT_NOT_FOUND, ErrorCode.SCHEMA_NOT_FOUND)) return null;
      throw err;
    }
  }

  schemaById(id: number): Promise<string> {
    let pending = this.schemasById.get(id);
    if (!pending) {
      pending = this.call<{ schema: string; schemaType?: string }>("GET", `schemas/ids/${id}`).then(({ schema, schemaType }) => {
        if (schemaType !== undefined && schemaType !== "AVRO") {
          throw new LiberatorError(ErrorCode.SCHEMA_INVALID, `schema ${id} is ${schemaType}, and Liberator reads Avro only`);
        }
        return schema;
      });
      pending.catch(() => this.schemasById.delete(id));
      this.schemasById.set(id, pending);
    }
    return pending;
  }

  subjects(): Promise<string[]> {
    return this.call<string[]>("GET", "subjects");
  }

  versions(subject: string): Promise<number[]> {
    return this.call<number[]>("GET", `subjects/${enc(subject)}/versions`);
  }

  version(subject: string, version: number | "latest"): Promise<RegisteredSchema> {
    return this.call<RegisteredSchema>("GET", `subjects/${enc(subject)}/versions/${version}`);
  }

  async compatibility(subject?: string): Promise<CompatibilityLevel | null> {
    try {
      const config = await this.call<{ compatibilityLevel?: CompatibilityLevel; compatibility?: CompatibilityLevel }>(
        "GET",
        subject === undefined ? "config" : `config/${enc(subject)}`,
      );
      return config.compatibilityLevel ?? config.compatibility ?? null;
    } catch (err) {
      // servers before 7.x answer 40401 where newer ones answer 40408 "not configured"
      if (subject !== undefined && isCode(err, ErrorCode.SCHEMA_COMPATIBILITY_NOT_SET, ErrorCode.SCHEMA_SUBJECT_NOT_FOUND)) return null;
      throw err;
    }
  }

  async setCompatibility(level: CompatibilityLevel, subject?: string): Promise<void> {
    await this.call("PUT", subject === undefined ? "config" : `config/${enc(subject)}`, { compatibility: level });
  }

  async testCompatibility(subject: string, schema: string): Promise<CompatibilityAnswer> {
    try {
      const answer = await this.call<{ is_compatible: boolean; messages?: string[] }>(
        "POST",
        `compatibility/subjects/${enc(subject)}/versions/latest?verbose=true`,
        { schema },
      );
      return { compatible: answer.is_compatible, messages: answer.messages ?? [] };
    } catch (err) {
      if (isCode(err, ErrorCode.SCHEMA_SUBJECT_NOT_FOUND, ErrorCode.SCHEMA_VERSION_NOT_FOUND)) return { compatible: true, messages: [] };
      throw err;
    }
  }

  async close(): Promise<void> {
    this.agent.destroy();
  }

  private call<T>(method: string, path: string, body?: unknown): Promise<T> {
    return retry(() => this.request<T>(method, path, body), {
      ...(this.options.retry ? { policy: this.options.retry } : {}),
      onRetry: (err, attempt, delayMs) => this.options.log?.warn({ method, path, attempt, delayMs, err: err.message }, "schema registry request failed: retrying"),
    });
  }

  private request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const url = new URL(path, this.base);
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const headers: http.OutgoingHttpHeaders = { accept: ACCEPT };
    if (payload) {
      headers["content-type"] = REGISTRY_CONTENT_TYPE;
      headers["content-length"] = payload.length;
    }
    if (this.authorization) headers.authorization = this.authorization;
    const send = url.protocol === "https:" ? https.request : http.request;
    return new Promise<T>((resolve, reject) => {
      const req = send(url, { method, headers, agent: this.agent, timeout: this.options.requestTimeoutMs }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("error", reject);
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) {
            try {
              resolve(JSON.parse(text) as T);
            } catch {
              reject(new LiberatorError(ErrorCode.SCHEMA_REGISTRY_ERROR, `${method} ${url.pathname}: the registry answered ${status} with no JSON: ${text.slice(0, 200)}`));
            }
          } else {
            reject(responseError(method, url, status, text));
          }
        });
      });
      req.on("timeout", () => req.destroy(Object.assign(new Error(`no answer from the schema registry within ${this.options.requestTimeoutMs} ms`), { code: "ETIMEDOUT" })));
      req.on("error", reject);
      req.end(payload);
    });
  }
}

const enc = encodeURIComponent;

function isCode(err: unknown, ...codes: RegistryErrorCode[]): boolean {
  return err instanceof LiberatorError && (codes as string[]).includes(err.code);
}

const CODE_BY_ERROR = new Map<number, RegistryErrorCode>(
  Object.entries(REGISTRY_ERRORS).map(([code, { errorCode }]) => [errorCode, code as RegistryErrorCode]),
);

/** A registry's `{error_code, message}` as our error: by its code, retriable when the server is at fault. */
export function responseError(method: string, url: URL, status: number, text: string): LiberatorError {
  let body: { error_code?: unknown; message?: unknown } = {};
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    // not JSON (a proxy's error page): the status decides
  }
  const message = typeof body.message === "string" ? body.message : `${method} ${url.pathname} answered ${status}: ${text.slice(0, 200)}`;
  if (status === 409) return new SchemaIncompatibleError(message);
  const code = typeof body.error_code === "number" ? CODE_BY_ERROR.get(body.error_code) : undefined;
  if (code) return new LiberatorError(code, message);
  if (status === 401 || status === 403) {
    return new LiberatorError(ErrorCode.SCHEMA_REGISTRY_AUTH, `the schema registry refused the credentials (${status}): ${message}`, {
      fix: "check schemaRegistry.basicAuth",
    });
  }
  const retriable = status >= 500 || status === 429 || status === 408;
  return new LiberatorError(retriable ? ErrorCode.SCHEMA_REGISTRY_UNAVAILABLE : ErrorCode.SCHEMA_REGISTRY_ERROR, message);
}

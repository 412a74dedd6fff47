import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Fastify, { type FastifyInstance, type FastifyServerOptions } from "fastify";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { registryRoutes } from "../../../src/runtime/http/registry-routes.js";
import { EmbeddedRegistry } from "../../../src/runtime/schema-registry/embedded-registry.js";
import { RegistryClient } from "../../../src/runtime/schema-registry/registry-client.js";
import { MemoryTopic } from "./memory-log.js";

const CONFLUENT = "application/vnd.schemaregistry.v1+json; charset=utf-8";
const v1 = JSON.stringify({ type: "record", name: "R", fields: [{ name: "id", type: "long" }] });
const v2 = JSON.stringify({ type: "record", name: "R", fields: [{ name: "id", type: "long" }, { name: "n", type: ["null", "string"], default: null }] });
const broken = JSON.stringify({ type: "record", name: "R", fields: [{ name: "id", type: "string" }] });

async function embedded(): Promise<EmbeddedRegistry> {
  const registry = new EmbeddedRegistry({ log: new MemoryTopic().tail(), logger: pino({ level: "silent" }), defaultCompatibility: "BACKWARD" });
  await registry.start();
  return registry;
}

/** A real fastify server with the registry routes, on a free port. */
async function serve(registry: EmbeddedRegistry, options: FastifyServerOptions & { https?: unknown } = {}, setup?: (app: FastifyInstance) => void) {
  const app = Fastify(options as FastifyServerOptions);
  setup?.(app);
  await app.register(registryRoutes(async () => registry));
  await app.listen({ host: "127.0.0.1", port: 0 });
  const { port } = app.server.address() as { port: number };
  return { app, url: `${options.https ? "https" : "http"}://127.0.0.1:${port}` };
}

describe("the Confluent REST API of the embedded registry, over HTTP", () => {
  let app: FastifyInstance;
  let url: string;
  const call = async (method: string, path: string, body?: unknown, contentType = CONFLUENT) => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: body === undefined ? {} : { "content-type": contentType.split(";")[0]! },
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
    return { status: res.status, type: res.headers.get("content-type"), body: (await res.json()) };
  };

  beforeAll(async () => {
    ({ app, url } = await serve(await embedded()));
  });
  afterAll(() => app.close());

  it("POST /subjects/{subject}/versions registers and answers {id}", async () => {
    const res = await call("POST", "/subjects/orders-value/versions", { schema: v1 });
    expect(res).toEqual({ status: 200, type: CONFLUENT, body: { id: expect.any(Number) } });
    expect((await call("POST", "/subjects/orders-value/versions", { schema: v1, schemaType: "AVRO" }, "application/json")).body).toEqual(res.body);
  });

  it("GET /schemas/ids/{id} answers {schema} and 40403 for an unknown id", async () => {
    const { body } = await call("POST", "/subjects/orders-value/versions", { schema: v1 });
    const { id } = body as { id: number };
    expect(await call("GET", `/schemas/ids/${id}`)).toEqual({ status: 200, type: CONFLUENT, body: { schema: v1 } });
    expect(await call("GET", `/schemas/ids/${id === 1 ? 2 : 1}`)).toMatchObject({ status: 404, body: { error_code: 40403, message: expect.stringMatching(/^Schema \d+ not found$/) } });
  });

  it("GET /subjects, /subjects/{s}/versions and /subjects/{s}/versions/{v|latest}", async () => {
    await call("POST", "/subjects/orders-value/versions", { schema: v2 });
    expect((await call("GET", "/subjects")).body).toEqual(["orders-value"]);
    expect((await call("GET", "/subjects/orders-value/versions")).body).toEqual([1, 2]);
    const latest = await call("GET", "/subjects/orders-value/versions/latest");
    expect(latest).toEqual({ status: 200, type: CONFLUENT, body: { subject: "orders-value", version: 2, id: expect.any(Number), schema: v2 } });
    expect((await call("GET", "/subjects/orders-value/versions/1")).body).toMatchObject({ version: 1, schema: v1 });
    expect((await call("GET", "/subjects/orders-value/versions/-1")).body).toEqual(latest.body);
  });

  it("answers Confluent's error codes: 40401 subject, 40402 version, 42202 invalid version", async () => {
    expect(await call("GET", "/subjects/nope/versions")).toEqual({ status: 404, type: CONFLUENT, body: { error_code: 40401, message: "Subject 'nope' not found." } });
    expect(await call("GET", "/subjects/orders-value/versions/99")).toEqual({ status: 404, type: CONFLUENT, body: { error_code: 40402, message: "Version 99 not found." } });
    expect(await call("GET", "/subjects/orders-value/versions/zero")).toMatchObject({ status: 422, body: { error_code: 42202 } });
  });

  it("POST /subjects/{subject} looks a schema up: the version, or 40401 / 40403", async () => {
    expect(await call("POST", "/subjects/orders-value", { schema: v1 })).toMatchObject({ status: 200, body: { subject: "orders-value", version: 1, schema: v1 } });
    expect(await call("POST", "/subjects/orders-value", { schema: broken })).toMatchObject({ status: 404, body: { error_code: 40403, message: "Schema not found" } });
    expect(await call("POST", "/subjects/other", { schema: v1 })).toMatchObject({ status: 404, body: { error_code: 40401 } });
  });

  it("refuses an invalid schema with 42201 and an incompatible one with 409 naming the field", async () => {
    expect(await call("POST", "/subjects/orders-value/versions", { schema: "{not json" })).toMatchObject({ status: 422, body: { error_code: 42201 } });
    expect(await call("POST", "/subjects/orders-value/versions", { schema: v1, schemaType: "PROTOBUF" })).toMatchObject({ status: 422, body: { error_code: 42201 } });
    const refused = await call("POST", "/subjects/orders-value/versions", { schema: broken });
    expect(refused).toMatchObject({ status: 409, type: CONFLUENT, body: { error_code: 409 } });
    expect((refused.body as { message: string }).message).toContain('field "id" changed from long to string, which BACKWARD forbids');
    expect(await call("POST", "/subjects/orders-value/versions", "{oops")).toMatchObject({ status: 400, body: { error_code: 400 } });
  });

  it("POST /compatibility/subjects/{s}/versions/latest answers is_compatible, with messages when verbose", async () => {
    expect(await call("POST", "/compatibility/subjects/orders-value/versions/latest", { schema: v2 })).toEqual({ status: 200, type: CONFLUENT, body: { is_compatible: true } });
    const verbose = await call("POST", "/compatibility/subjects/orders-value/versions/latest?verbose=true", { schema: broken });
    expect(verbose.body).toEqual({ is_compatible: false, messages: [expect.stringContaining('field "id" changed from long to string')] });
    expect((await call("POST", "/compatibility/subjects/new-subject/versions/latest", { schema: broken })).body).toEqual({ is_compatible: true });
  });

  it("GET and PUT /config and /config/{subject} with Confluent's field names and 40408 / 42203", async () => {
    expect(await call("GET", "/config")).toEqual({ status: 200, type: CONFLUENT, body: { compatibilityLevel: "BACKWARD" } });
    expect(await call("GET", "/config/orders-value")).toMatchObject({
      status: 404,
      body: { error_code: 40408, message: "Subject 'orders-value' does not have subject-level compatibility configured" },
    });
    expect((await call("GET", "/config/orders-value?defaultToGlobal=true")).body).toEqual({ compatibilityLevel: "BACKWARD" });
    expect(await call("PUT", "/config/orders-value", { compatibility: "NONE" })).toEqual({ status: 200, type: CONFLUENT, body: { compatibility: "NONE" } });
    expect((await call("GET", "/config/orders-value")).body).toEqual({ compatibilityLevel: "NONE" });
    expect(await call("PUT", "/config/orders-value", { compatibility: "SIDEWAYS" })).toMatchObject({ status: 422, body: { error_code: 42203 } });
    expect((await call("POST", "/subjects/orders-value/versions", { schema: broken })).status).toBe(200);
  });
});

describe("the registry client, against a real server", () => {
  let folder: string;
  beforeAll(() => {
    folder = mkdtempSync(join(tmpdir(), "liberator-tls-"));
  });
  afterAll(() => rmSync(folder, { recursive: true, force: true }));

  it("registers, looks up, fetches by id and reads versions and levels", async () => {
    const { app, url } = await serve(await embedded());
    const client = new RegistryClient({ url, requestTimeoutMs: 5000 });
    try {
      const id = await client.register("s-value", v1);
      expect(await client.schemaById(id)).toBe(v1);
      expect(await client.lookup("s-value", v1)).toMatchObject({ id, version: 1 });
      expect(await client.lookup("s-value", v2)).toBe(null);
      expect(await client.lookup("nope", v2)).toBe(null);
      expect(await client.versions("s-value")).toEqual([1]);
      expect(await client.version("s-value", "latest")).toMatchObject({ id, schema: v1 });
      expect(await client.subjects()).toEqual(["s-value"]);
      expect(await client.compatibility()).toBe("BACKWARD");
      expect(await client.compatibility("s-value")).toBe(null);
      await client.setCompatibility("FULL", "s-value");
      expect(await client.compatibility("s-value")).toBe("FULL");
      expect(await client.testCompatibility("s-value", broken)).toEqual({
        compatible: false,
        messages: [expect.stringContaining("FULL forbids (consumers on the new schema"), expect.stringContaining("FULL forbids (consumers on the old schema")],
      });
      await expect(client.register("s-value", broken)).rejects.toMatchObject({ code: "SCHEMA_INCOMPATIBLE" });
      await expect(client.schemaById(123)).rejects.toMatchObject({ code: "SCHEMA_NOT_FOUND", retriable: false });
    } finally {
      await client.close();
      await app.close();
    }
  });

  it("sends basic auth, and says so when the credentials are refused", async () => {
    const expected = `Basic ${Buffer.from("sr:secret").toString("base64")}`;
    const { app, url } = await serve(await embedded(), {}, (a) =>
      a.addHook("onRequest", async (req, reply) => {
        if (req.headers.authorization !== expected) await reply.code(401).send({ error_code: 401, message: "Unauthorized" });
      }),
    );
    const good = new RegistryClient({ url, basicAuth: { username: "sr", password: "secret" }, requestTimeoutMs: 5000 });
    const bad = new RegistryClient({ url, basicAuth: { username: "sr", password: "wrong" }, requestTimeoutMs: 5000 });
    try {
      expect(await good.register("s", v1)).toEqual(expect.any(Number));
      await expect(bad.subjects()).rejects.toMatchObject({ code: "SCHEMA_REGISTRY_AUTH", fix: "check schemaRegistry.basicAuth" });
    } finally {
      await Promise.all([good.close(), bad.close(), app.close()]);
    }
  });

  it("talks TLS with the CA it is given and refuses a certificate it cannot verify", async () => {
    execFileSync("openssl", [
      "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
      "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", join(folder, "key.pem"), "-out", join(folder, "cert.pem"),
    ], { stdio: "ignore" });
    const cert = readFileSync(join(folder, "cert.pem"), "utf8");
    const key = readFileSync(join(folder, "key.pem"), "utf8");
    const { app, url } = await serve(await embedded(), { https: { cert, key } });
    const trusted = new RegistryClient({ url, tls: { ca: cert }, requestTimeoutMs: 5000 });
    const untrusted = new RegistryClient({ url, requestTimeoutMs: 5000, retry: { retries: 0 } });
    try {
      expect(await trusted.register("s", v1)).toEqual(expect.any(Number));
      await expect(untrusted.subjects()).rejects.toThrow(/certificate/);
    } finally {
      await Promise.all([trusted.close(), untrusted.close(), app.close()]);
    }
  });

  it("retries what the server failed at (503, 50001) and not what it refused", async () => {
    let failures = 2;
    let requests = 0;
    const { app, url } = await serve(await embedded(), {}, (a) =>
      a.addHook("onRequest", async (_req, reply) => {
        requests++;
        if (failures-- > 0) await reply.code(500).send({ error_code: 50001, message: "Error in the backend data store" });
      }),
    );
    const client = new RegistryClient({ url, requestTimeoutMs: 5000, retry: { retries: 3, initialDelayMs: 10 } });
    try {
      expect(await client.register("s", v1)).toEqual(expect.any(Number));
      expect(requests).toBe(3);
      requests = 0;
      await expect(client.register("s", broken)).rejects.toMatchObject({ code: "SCHEMA_INCOMPATIBLE" });
      expect(requests).toBe(1);
    } finally {
      await client.close();
      await app.close();
    }
  });

  it("reports a registry that does not answer as retriable", async () => {
    const client = new RegistryClient({ url: "http://127.0.0.1:1", requestTimeoutMs: 1000, retry: { retries: 0 } });
    await expect(client.subjects()).rejects.toMatchObject({ retriable: true });
    await client.close();
  });
});

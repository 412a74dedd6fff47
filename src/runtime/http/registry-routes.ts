/**
 * Confluent's Schema Registry REST API on the admin port, answered by a SchemaRegistry (the
 * embedded one), so Confluent serializers and deserializers, kcat and ksqlDB can point at
 * Liberator. Paths, JSON shapes, content type and error codes follow Confluent's server:
 * errors are `{ "error_code": 40401, "message": "Subject 'x' not found." }`.
 */
import type { FastifyError, FastifyPluginAsync, FastifyReply } from "fastify";
import { ErrorCode, LiberatorError } from "../errors.js";
import { REGISTRY_CONTENT_TYPE } from "../schema-registry/registry-client.js";
import { REGISTRY_ERRORS, invalidCompatibility, parseVersion, schemaNotFound, subjectNotFound, type RegistryErrorCode, type SchemaRegistry } from "../schema-registry/registry-api.js";
import { isCompatibilityLevel, type CompatibilityLevel } from "../avro/compatibility.js";

interface SchemaBody {
  schema?: unknown;
  schemaType?: unknown;
  references?: unknown;
}

/** Request bodies Confluent clients send, besides application/json (fastify parses that already). */
const BODY_TYPES = ["application/vnd.schemaregistry.v1+json", "application/vnd.schemaregistry+json", "application/octet-stream"];

/** `registry` is resolved per request: the worker builds its schema layer lazily. */
export function registryRoutes(registry: () => Promise<SchemaRegistry>): FastifyPluginAsync {
  return async (app) => {
    app.addContentTypeParser(BODY_TYPES, { parseAs: "string" }, (_req, body, done) => {
      try {
        done(null, body === "" ? {} : JSON.parse(body as string));
      } catch (err) {
        done(Object.assign(err as Error, { statusCode: 400 }), undefined);
      }
    });
    app.addHook("onRequest", async (_req, reply) => {
      reply.header("content-type", REGISTRY_CONTENT_TYPE);
    });
    app.setErrorHandler((err: FastifyError | LiberatorError, _req, reply) => {
      const { status, errorCode } = statusOf(err);
      return send(reply, status, { error_code: errorCode, message: err.message });
    });

    app.get<{ Params: { id: string } }>("/schemas/ids/:id", async (req) => {
      const id = /^\d+$/.test(req.params.id) ? Number(req.params.id) : NaN;
      if (!Number.isSafeInteger(id)) throw schemaNotFound();
      return { schema: await (await registry()).schemaById(id) };
    });

    app.get("/subjects", async () => (await registry()).subjects());

    app.get<{ Params: { subject: string } }>("/subjects/:subject/versions", async (req) => (await registry()).versions(req.params.subject));

    app.get<{ Params: { subject: string; version: string } }>("/subjects/:subject/versions/:version", async (req) =>
      (await registry()).version(req.params.subject, parseVersion(req.params.version)),
    );

    app.post<{ Params: { subject: string }; Body: SchemaBody }>("/subjects/:subject/versions", async (req) => ({
      id: await (await registry()).register(req.params.subject, avroSchemaOf(req.body)),
    }));

    app.post<{ Params: { subject: string }; Body: SchemaBody }>("/subjects/:subject", async (req) => {
      const reg = await registry();
      const found = await reg.lookup(req.params.subject, avroSchemaOf(req.body));
      if (found) return found;
      if (!(await reg.subjects()).includes(req.params.subject)) throw subjectNotFound(req.params.subject);
      throw schemaNotFound();
    });

    app.post<{ Params: { subject: string }; Querystring: { verbose?: string }; Body: SchemaBody }>(
      "/compatibility/subjects/:subject/versions/latest",
      async (req) => {
        const answer = await (await registry()).testCompatibility(req.params.subject, avroSchemaOf(req.body));
        return req.query.verbose === "true" ? { is_compatible: answer.compatible, messages: answer.messages } : { is_compatible: answer.compatible };
      },
    );

    app.get("/config", async () => ({ compatibilityLevel: await (await registry()).compatibility() }));

    app.get<{ Params: { subject: string }; Querystring: { defaultToGlobal?: string } }>("/config/:subject", async (req) => {
      const reg = await registry();
      const level = (await reg.compatibility(req.params.subject)) ?? (req.query.defaultToGlobal === "true" ? await reg.compatibility() : null);
      if (level === null) {
        throw new LiberatorError(ErrorCode.SCHEMA_COMPATIBILITY_NOT_SET, `Subject '${req.params.subject}' does not have subject-level compatibility configured`);
      }
      return { compatibilityLevel: level };
    });

    app.put<{ Body: { compatibility?: unknown } }>("/config", async (req) => {
      const level = levelOf(req.body);
      await (await registry()).setCompatibility(level);
      return { compatibility: level };
    });

    app.put<{ Params: { subject: string }; Body: { compatibility?: unknown } }>("/config/:subject", async (req) => {
      const level = levelOf(req.body);
      await (await registry()).setCompatibility(level, req.params.subject);
      return { compatibility: level };
    });
  };
}

function send(reply: FastifyReply, status: number, body: unknown): FastifyReply {
  return reply.code(status).header("content-type", REGISTRY_CONTENT_TYPE).send(body);
}

/** The Avro schema text of a register, lookup or compatibility request; 42201 for anything else. */
function avroSchemaOf(body: SchemaBody | undefined): string {
  if (body?.schemaType !== undefined && body.schemaType !== "AVRO") {
    throw new LiberatorError(ErrorCode.SCHEMA_INVALID, `Invalid schema type ${JSON.stringify(body.schemaType)}: this registry holds Avro schemas only`);
  }
  if (Array.isArray(body?.references) && body.references.length > 0) {
    throw new LiberatorError(ErrorCode.SCHEMA_INVALID, "Invalid schema: schema references are not supported by this registry");
  }
  if (typeof body?.schema !== "string" || body.schema.trim() === "") throw new LiberatorError(ErrorCode.SCHEMA_INVALID, "Empty schema");
  return body.schema;
}

function levelOf(body: { compatibility?: unknown } | undefined): CompatibilityLevel {
  const level = typeof body?.compatibility === "string" ? body.compatibility.toUpperCase() : undefined;
  if (!isCompatibilityLevel(level)) throw invalidCompatibility();
  return level;
}

function statusOf(err: FastifyError | LiberatorError): { status: number; errorCode: number } {
  if (err instanceof LiberatorError) {
    const known = REGISTRY_ERRORS[err.code as RegistryErrorCode] as { status: number; errorCode: number } | undefined;
    if (known) return known;
    // the backing store (Kafka) failing is Confluent's "error in the backend data store"
    if (err.retriable) return REGISTRY_ERRORS.SCHEMA_REGISTRY_UNAVAILABLE;
    return { status: 500, errorCode: 500 };
  }
  const status = err.statusCode ?? 500;
  return { status, errorCode: status };
}

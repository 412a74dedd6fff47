/**
 * Who may do what through the admin API. Probes and metrics are always open, so Kubernetes and
 * Prometheus need no secret, and so are the status page's files (the page sends the token for what
 * it reads and does). With `admin.token` set, everything else takes it. Without one, reads stay
 * open and changes are refused unless `admin.auth: none` says so: otherwise any process that
 * reaches the port could pause connectors, move offsets or set a subject's compatibility to NONE.
 */
import { timingSafeEqual } from "node:crypto";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { PreflightCheck } from "../registry.js";
import { PAGE_PATHS } from "./status-page.js";

export interface AdminAuth {
  token?: string | undefined;
  auth: "token" | "none";
  host: string;
}

const OPEN_PATHS = new Set(["/healthz", "/readyz", "/metrics", ...PAGE_PATHS]);
const READ_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);
/** Confluent's registry API answers these POSTs without changing anything: a schema lookup and a compatibility test. */
const READ_ONLY_POSTS = [/^\/subjects\/[^/]+\/?$/, /^\/compatibility\//];

export const TOKEN_FIX =
  "set admin.token (e.g. token: ${file:/etc/liberator/secrets/admin-token}) and send Authorization: Bearer <token>, or set admin.auth: none to let any process that reaches the port make changes";

function changes(method: string, path: string): boolean {
  if (READ_METHODS.has(method)) return false;
  return !(method === "POST" && READ_ONLY_POSTS.some((p) => p.test(path)));
}

/** The onRequest hook that enforces `admin`; undefined when everything is open. */
export function adminAuthHook(admin: AdminAuth): ((request: FastifyRequest, reply: FastifyReply) => Promise<void>) | undefined {
  if (admin.token) {
    const expected = Buffer.from(`Bearer ${admin.token}`);
    return async (request, reply) => {
      if (OPEN_PATHS.has(request.url.split("?")[0]!)) return;
      const got = Buffer.from(request.headers.authorization ?? "");
      if (got.length !== expected.length || !timingSafeEqual(got, expected)) {
        await reply.code(401).send({ error_code: 401, message: "missing or wrong bearer token: send Authorization: Bearer <admin.token>" });
      }
    };
  }
  if (admin.auth === "none") return undefined;
  return async (request, reply) => {
    const path = request.url.split("?")[0]!;
    if (!changes(request.method, path)) return;
    await reply.code(403).send({ error_code: 403, message: `${request.method} ${path} changes the daemon, and the admin API has no token: ${TOKEN_FIX}` });
  };
}

const LOOPBACK = /^(localhost|127\.\d+\.\d+\.\d+|::1|\[::1\])$/i;

/** For `validate`: an admin API that listens beyond this machine without a token. */
export function adminExposure(admin: AdminAuth & { enabled: boolean; port: number }): PreflightCheck | undefined {
  if (!admin.enabled || admin.token || LOOPBACK.test(admin.host)) return undefined;
  const what = admin.auth === "none" ? "anyone who reaches it may pause, restart and rewind connectors and change the schema registry" : "anyone who reaches it may read connector status and schemas (changes are refused)";
  return { check: "admin", ok: false, severity: "warning", message: `the admin API listens on ${admin.host}:${admin.port} without a token: ${what}`, fix: TOKEN_FIX };
}

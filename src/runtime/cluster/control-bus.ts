import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import type { Json } from "../connector.js";
import { ErrorCode, isErrorCode, LiberatorError, toLiberatorError } from "../errors.js";
import type { Logger } from "../log.js";
import type { ClusterKeys } from "./keys.js";

export interface ControlRequest {
  id: string;
  /** Who gets the answer (a worker, or a CLI process). */
  from: string;
  op: string;
  args: Record<string, Json>;
}

type ControlReply =
  | { id: string; ok: true; result: Json }
  | { id: string; ok: false; error: { code: string; message: string; fix?: string; connector?: string } };

export type ControlHandler = (request: ControlRequest) => Promise<Json>;

/**
 * Request and answer between workers over Redis pub/sub: an admin call that reaches any worker is
 * carried out by the worker that runs the connector. Each client listens on its own reply channel;
 * a worker also listens on its control channel. Nothing is queued: a request to a worker that is
 * gone fails at once (nobody subscribed) or times out, and the caller looks the owner up again.
 */
export class ControlBus {
  private readonly pending = new Map<string, { resolve: (r: ControlReply) => void; timer: NodeJS.Timeout }>();
  private handler: ControlHandler | undefined;

  constructor(
    private readonly pub: Redis,
    /** A connection of its own: a subscribed connection can do nothing else. */
    private readonly sub: Redis,
    private readonly keys: ClusterKeys,
    readonly clientId: string,
    private readonly timeoutMs: number,
    private readonly log: Logger,
  ) {}

  /** Starts listening for answers and, with a handler, for requests to this worker. */
  async start(handler?: ControlHandler): Promise<void> {
    this.handler = handler;
    this.sub.on("message", (channel: string, raw: string) => this.onMessage(channel, raw));
    const channels = [this.keys.replies(this.clientId)];
    if (handler) channels.push(this.keys.control(this.clientId));
    await this.sub.subscribe(...channels);
  }

  /** `timeoutMs` for work that takes longer than an answer (stopping and starting a connector). */
  async request(workerId: string, op: string, args: Record<string, Json>, timeoutMs = this.timeoutMs): Promise<Json> {
    const id = randomUUID();
    const reply = new Promise<ControlReply>((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        resolve({
          id,
          ok: false,
          error: {
            code: ErrorCode.CLUSTER_TIMEOUT,
            message: `worker ${workerId} did not answer "${op}" within ${timeoutMs} ms`,
            fix: "check that worker's logs and its connection to Redis; cluster.requestTimeoutMs sets the wait",
          },
        });
      }, timeoutMs);
      this.pending.set(id, { resolve, timer });
    });
    const request: ControlRequest = { id, from: this.clientId, op, args };
    const receivers = await this.pub.publish(this.keys.control(workerId), JSON.stringify(request));
    if (receivers === 0) this.settle({ id, ok: false, error: { code: ErrorCode.WORKER_GONE, message: `worker ${workerId} is not listening` } });
    const answer = await reply;
    if (answer.ok) return answer.result;
    const { code, message, fix, connector } = answer.error;
    // a worker of a newer version may send a code this one does not know
    throw new LiberatorError(isErrorCode(code) ? code : ErrorCode.INTERNAL, message, { ...(fix ? { fix } : {}), ...(connector ? { connector } : {}) });
  }

  async stop(): Promise<void> {
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.resolve({ id, ok: false, error: { code: ErrorCode.CLUSTER_CLOSED, message: "this worker is shutting down" } });
    }
    this.pending.clear();
    await this.sub.unsubscribe().catch(() => undefined);
  }

  private onMessage(channel: string, raw: string): void {
    let message: unknown;
    try {
      message = JSON.parse(raw);
    } catch {
      this.log.warn({ channel }, "ignoring an unreadable control message");
      return;
    }
    if (channel === this.keys.replies(this.clientId)) this.settle(message as ControlReply);
    else if (this.handler) void this.answer(message as ControlRequest, this.handler);
  }

  private settle(reply: ControlReply): void {
    const p = this.pending.get(reply.id);
    if (!p) return;
    this.pending.delete(reply.id);
    clearTimeout(p.timer);
    p.resolve(reply);
  }

  private async answer(request: ControlRequest, handler: ControlHandler): Promise<void> {
    let reply: ControlReply;
    try {
      reply = { id: request.id, ok: true, result: await handler(request) };
    } catch (err) {
      const e = toLiberatorError(err);
      const error = { code: e.code, message: e.message, ...(e.fix ? { fix: e.fix } : {}), ...(e.connector ? { connector: e.connector } : {}) };
      reply = { id: request.id, ok: false, error };
    }
    await this.pub.publish(this.keys.replies(request.from), JSON.stringify(reply)).catch((err: unknown) => {
      this.log.warn({ err, op: request.op }, "could not send the answer to a control request");
    });
  }
}

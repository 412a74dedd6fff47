import { setTimeout as sleep } from "node:timers/promises";
import type { Position, Source, SourceBatch, SourceContext } from "../../runtime/connector.js";
import type { GeneratorConfig } from "./config.js";
import { parsePosition } from "./position.js";
import { generatedRecord } from "./records.js";

/** Synthetic records at a steady rate: the demo's first pipeline and the acceptance suite's baseline source. */
export class GeneratorSource implements Source {
  private seq = 0;
  private startedAt = 0;
  private startSeq = 0;

  constructor(
    private readonly config: GeneratorConfig,
    private readonly ctx: SourceContext,
  ) {}

  async open(position: Position | null): Promise<void> {
    this.seq = this.startSeq = parsePosition(position).seq;
    this.startedAt = Date.now();
  }

  async read(): Promise<SourceBatch | null> {
    const { count, ratePerSecond, topic } = this.config;
    if (count !== undefined && this.seq >= count) return null;
    let due = this.due();
    if (due === 0) {
      // wait for the next record to be due, but no longer than a second, and not past a stop
      const wait = Math.min(1000, Math.ceil(1000 / Math.max(ratePerSecond, 1)));
      await sleep(wait, undefined, { signal: this.ctx.signal }).catch(() => undefined);
      due = this.due();
    }
    const now = Date.now();
    const records = Array.from({ length: due }, (_, i) => generatedRecord(topic, this.seq + i + 1, now));
    this.seq += due;
    return { records, position: { seq: this.seq } };
  }

  async ack(): Promise<void> {}

  async close(): Promise<void> {}

  async topics(): Promise<string[]> {
    return [this.config.topic];
  }

  status() {
    return { seq: this.seq };
  }

  private due(): number {
    const { count, ratePerSecond } = this.config;
    const limit = this.ctx.limits.maxBatchRecords;
    const left = count === undefined ? Infinity : count - this.seq;
    const byRate = ratePerSecond === 0 ? Infinity : Math.floor(((Date.now() - this.startedAt) / 1000) * ratePerSecond) - (this.seq - this.startSeq);
    return Math.max(0, Math.min(limit, left, byRate));
  }
}

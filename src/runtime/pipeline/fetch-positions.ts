/**
 * Where each partition's next fetch must begin, for a sink task: the offset it sent the consumer
 * to, then past each fetch it took. A sink stores the offset after every record it writes, so a
 * fetch that began further on would store an offset past records it never saw. Keys are the
 * pipeline's `topic:partition`.
 */
export type FetchVerdict =
  /** Take the fetch. */
  | undefined
  /** Do not: send the consumer back here first. */
  | { back: bigint }
  /** It was sent back here already and began past it again: Kafka holds those records no more. */
  | { gone: { from: bigint; oldest: bigint } };

export class FetchPositions {
  private readonly expected = new Map<string, bigint>();
  /** Where a fetch that began too far was sent back to. */
  private readonly sentBack = new Map<string, bigint>();

  /** The consumer was sent to `offset`: its next fetch of the partition begins there. */
  sought(key: string, offset: bigint): void {
    this.expected.set(key, offset);
  }

  /** A fetch ending at `last` (a record or a transaction marker) was taken: the next begins after it. */
  passed(key: string, last: bigint): void {
    this.expected.set(key, last + 1n);
  }

  /**
   * A fetch that began at `fetched`. Sent back, it goes to `stored` (the offset the target holds)
   * when there is one, else to where the fetch should have begun.
   */
  check(key: string, fetched: bigint, stored: bigint | undefined): FetchVerdict {
    const want = this.expected.get(key);
    if (want === undefined || fetched <= want) {
      // a fetch where it should be: a later one that goes too far is sent back again
      this.sentBack.delete(key);
      return undefined;
    }
    const back = stored ?? want;
    if (this.sentBack.get(key) === back) return { gone: { from: back, oldest: fetched } };
    this.sentBack.set(key, back);
    return { back };
  }
}

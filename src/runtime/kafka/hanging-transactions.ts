/**
 * Transactions left open on a partition that no coordinator will ever end: "hanging" (KIP-664).
 * A broker killed mid-transaction can leave one: after its restart the coordinator of the
 * transactional id knew nothing open (state Empty), so registering the id again aborted nothing,
 * while the partitions kept the transaction open. Measured here: a generator restarted after its
 * broker's kill -9 found `_liberator_offsets` and its topic each held by a transaction of its own
 * producer id at epoch 0, the coordinator at epoch 3 and Empty; read_committed readers stopped at
 * its first offset, for good (the broker's transaction timeout does not end what it does not know).
 *
 * Found as Kafka's `kafka-transactions.sh find-hanging` finds them: the producers each partition's
 * leader has a transaction open for (DescribeProducers), judged by what the coordinators list of
 * their producer ids (`judge`), and of those judged hanging, the ones still open at the same offset
 * when asked again (a transaction that ended in between is not hanging). Ended as its `abort` does:
 * an abort marker written to the partition (WriteTxnMarkers, which needs ClusterAction).
 */
import kafkajs, { type Admin } from "kafkajs";
import type { Logger } from "../log.js";
import { describeProducers, kafkaError, listTransactions, writeAbortMarkers, type TopicPartitions, type TransactionMarker } from "./transaction-requests.js";

export interface OpenTransaction extends TransactionMarker {
  /** The node id of the partition's leader, which was asked and takes the abort marker. */
  leader: number;
  startOffset: bigint;
  /** When the producer last wrote to the partition (its batches' timestamp, ms). */
  lastTimestamp: bigint;
}

/** Coordinator states of a transaction that is still going on, or ending with its markers. */
const LIVE = new Set(["Ongoing", "PrepareCommit", "PrepareAbort", "PrepareEpochFence"]);

/** What the coordinators list of a producer id: a live transaction, or its id in a state that is not. */
export type Listed = "live" | "ended";

/** Room for the clocks of the producer (its batches' timestamps) and of this process to differ. */
const CLOCK_MARGIN_MS = 60_000;

/** The brokers' default `transaction.max.timeout.ms`. */
const DEFAULT_MAX_TIMEOUT_MS = 900_000;

/**
 * Which open transactions hang. One whose producer id a coordinator lists in a state that is not
 * live is ended for its coordinator (the case a crash leaves). One whose producer id no coordinator
 * lists may still be live: a listing leaves out the transactional ids this principal may not
 * describe (ACLs); it hangs only once its producer has written nothing there for longer than any
 * transaction may last (the brokers' transaction.max.timeout.ms), as a coordinator ends every
 * transaction it knows by then.
 */
export function judge(open: readonly OpenTransaction[], listed: ReadonlyMap<bigint, Listed>, nowMs: number, maxTimeoutMs: number): OpenTransaction[] {
  return open.filter((t) => {
    const known = listed.get(t.producerId);
    if (known) return known === "ended";
    return nowMs - Number(t.lastTimestamp) > maxTimeoutMs + CLOCK_MARGIN_MS;
  });
}

const where = (t: OpenTransaction) => `${t.topic}/${t.partition}`;
const same = (a: OpenTransaction, b: OpenTransaction) => a.topic === b.topic && a.partition === b.partition && a.producerId === b.producerId && a.producerEpoch === b.producerEpoch && a.startOffset === b.startOffset;

async function leaders(admin: Admin, topics: readonly string[]): Promise<Map<number, TopicPartitions[]>> {
  const { topics: found } = await admin.fetchTopicMetadata({ topics: [...topics] });
  const byLeader = new Map<number, TopicPartitions[]>();
  for (const { name, partitions } of found) {
    for (const p of partitions) {
      if (p.leader < 0) continue;
      const list = byLeader.get(p.leader) ?? [];
      const entry = list.find((e) => e.topic === name) ?? { topic: name, partitions: [] };
      if (!list.includes(entry)) list.push(entry);
      entry.partitions.push(p.partitionId);
      byLeader.set(p.leader, list);
    }
  }
  return byLeader;
}

async function openTransactions(admin: Admin, topics: readonly string[]): Promise<OpenTransaction[]> {
  const open: OpenTransaction[] = [];
  for (const [leader, partitions] of await leaders(admin, topics)) {
    for (const p of await describeProducers(admin, leader, partitions)) {
      const error = kafkaError(p.errorCode);
      // a partition created a moment ago (its leader not serving it yet) or moving holds nothing to
      // find now; the next look (the next start, the next read to the end) asks it again
      if (error && (error as { retriable?: boolean }).retriable) continue;
      if (error) throw error;
      for (const s of p.producers) {
        if (s.currentTxnStartOffset < 0n) continue;
        const { producerId, producerEpoch, coordinatorEpoch, lastTimestamp } = s;
        open.push({ topic: p.topic, partition: p.partition, leader, producerId, producerEpoch, coordinatorEpoch, startOffset: s.currentTxnStartOffset, lastTimestamp });
      }
    }
  }
  return open;
}

/** The hanging transactions on the partitions of `topics`, and the brokers' addresses (for the command that aborts one). */
export async function findHanging(admin: Admin, topics: readonly string[]): Promise<{ hanging: OpenTransaction[]; bootstrap: string }> {
  const first = await openTransactions(admin, topics);
  if (first.length === 0) return { hanging: [], bootstrap: "" };
  const producerIds = [...new Set(first.map((t) => t.producerId))];
  const { brokers } = await admin.describeCluster();
  const listed = new Map<bigint, Listed>();
  for (const { nodeId } of brokers) {
    const listing = await listTransactions(admin, nodeId, producerIds);
    const error = kafkaError(listing.errorCode);
    if (error) throw error;
    for (const t of listing.transactions) if (listed.get(t.producerId) !== "live") listed.set(t.producerId, LIVE.has(t.state) ? "live" : "ended");
  }
  const bootstrap = brokers.map((b) => `${b.host}:${b.port}`).join(",");
  const unlisted = first.some((t) => !listed.has(t.producerId));
  const suspects = judge(first, listed, Date.now(), unlisted ? await maxTransactionTimeout(admin, brokers[0]?.nodeId) : DEFAULT_MAX_TIMEOUT_MS);
  if (suspects.length === 0) return { hanging: [], bootstrap };
  // as asked again: a partition's leader may have moved in between
  const again = await openTransactions(admin, [...new Set(suspects.map((t) => t.topic))]);
  return { hanging: again.filter((a) => suspects.some((s) => same(a, s))), bootstrap };
}

/** The longest a transaction may last on these brokers (their transaction.max.timeout.ms). */
export async function maxTransactionTimeout(admin: Admin, nodeId: number | undefined): Promise<number> {
  if (nodeId === undefined) return DEFAULT_MAX_TIMEOUT_MS;
  const { resources } = await admin.describeConfigs({
    resources: [{ type: kafkajs.ConfigResourceTypes.BROKER, name: String(nodeId), configNames: ["transaction.max.timeout.ms"] }],
    includeSynonyms: false,
  });
  const value = Number(resources[0]?.configEntries.find((e) => e.configName === "transaction.max.timeout.ms")?.configValue);
  return Number.isFinite(value) && value > 0 ? value : DEFAULT_MAX_TIMEOUT_MS;
}

/**
 * Aborts the hanging transactions on the partitions of `topics`. Returns what a person must do
 * about those it could not abort ("" when none is left), for the error of whoever waits on them.
 */
export async function abortHanging(admin: Admin, topics: readonly string[], log: Logger): Promise<string> {
  const { hanging, bootstrap } = await findHanging(admin, topics);
  const left: string[] = [];
  const byLeader = new Map<number, OpenTransaction[]>();
  for (const t of hanging) byLeader.set(t.leader, [...(byLeader.get(t.leader) ?? []), t]);
  for (const [nodeId, transactions] of byLeader) {
    const results = await writeAbortMarkers(admin, nodeId, transactions);
    for (const t of transactions) {
      const what = `a transaction of producer ${t.producerId} (epoch ${t.producerEpoch}) open on ${where(t)} since offset ${t.startOffset}`;
      const error = kafkaError(results.find((r) => r.topic === t.topic && r.partition === t.partition)?.errorCode ?? 0);
      const details = { topic: t.topic, partition: t.partition, producerId: t.producerId.toString(), producerEpoch: t.producerEpoch, startOffset: t.startOffset.toString() };
      if (!error) {
        log.warn(details, `aborted ${what}, which no transaction coordinator knows (a hanging transaction, as a broker's crash can leave): read_committed readers of the partition were held at that offset`);
        continue;
      }
      const command = `kafka-transactions.sh --bootstrap-server ${bootstrap} abort --topic ${t.topic} --partition ${t.partition} --start-offset ${t.startOffset}`;
      const fix = error.type === "CLUSTER_AUTHORIZATION_FAILED" ? "grant Liberator's principal ClusterAction on the cluster, or run: " : "run: ";
      log.warn({ ...details, err: error }, `cannot abort ${what}, which no transaction coordinator knows (a hanging transaction): ${error.message}; ${fix}${command}`);
      left.push(`${where(t)} is held at offset ${t.startOffset} by a hanging transaction of producer ${t.producerId}, which Liberator could not abort (${error.message}): ${fix}${command}`);
    }
  }
  return left.join("; ");
}

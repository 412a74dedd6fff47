import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import fsp from "node:fs/promises";
import path from "node:path";
import { Kafka, logLevel, Partitioners, type KafkaConfig, type SASLOptions } from "kafkajs";
import { createTopicsWithLeaders } from "../../src/runtime/kafka/admin.js";
import type { Certificates } from "./certs.js";
import { cacheDir, repoRoot } from "./paths.js";
import { freePort, portAccepts } from "./ports.js";
import {
  makeTempDir,
  removeDir,
  restartable,
  run,
  spawnServer,
  waitUntilReady,
  withPortRetry,
  type ExitInfo,
  type Restartable,
  type ServerProcess,
} from "./process.js";

export interface KafkaSaslOptions {
  /**
   * PLAIN users (name → password) the broker accepts. A super user `admin` is always added for
   * the harness itself (with a random password unless given here); its credentials are returned.
   */
  users: Record<string, string>;
}

export interface KafkaOptions {
  /** Clients connect over SASL_PLAINTEXT with the PLAIN mechanism instead of PLAINTEXT. */
  sasl?: KafkaSaslOptions;
  /**
   * Enables ACLs (StandardAuthorizer, `super.users=User:admin`, no access without an ACL).
   * Needs `sasl`: without authentication every client would be the same ANONYMOUS principal.
   */
  authorizer?: boolean;
  /** Extra or overriding server.properties entries. */
  brokerConfig?: Record<string, string | number | boolean>;
  /** JVM heap, MB (default 512: the machine's 2 cores and memory are shared with the databases). */
  heapMb?: number;
  /**
   * A class-data-sharing archive of Kafka's classes makes the JVMs start about 1 s sooner each
   * (format and broker). "auto" (default) uses it, or records it when this broker stops if there
   * is none yet; "use" never records one (for brokers that outlive this process); "off".
   */
  classDataSharing?: "auto" | "use" | "off";
  readyTimeoutMs?: number;
  /**
   * A second listener, `PROXIED`, for clients that must reach the broker through a TCP proxy
   * (the fault tests): it listens on `port` and advertises `advertisedPort`, the proxy's, so the
   * metadata those clients get back keeps them behind the proxy. The harness's own clients use
   * the first listener and never pass through the proxy.
   */
  proxiedListener?: { port: number; advertisedPort: number };
  /**
   * A listener `TLS` that speaks TLS with this keystore (made by makeCertificates), SASL_SSL with
   * `sasl`, else SSL; its address is `tlsBrokers`. The harness's own clients keep the first listener.
   */
  tlsListener?: Pick<Certificates, "keystoreFile" | "keystorePassword">;
}

/** What a client needs to reach a started broker. */
export interface KafkaConnection {
  brokers: string[];
  /** Set when the broker was started with `sasl`: the harness's super user. */
  sasl?: { mechanism: "plain"; username: string; password: string };
}

export interface KafkaServer extends KafkaConnection, Restartable {
  /** The TLS listener's address, when started with `tlsListener`. */
  readonly tlsBrokers?: string[];
  readonly process: ServerProcess;
  stop(): Promise<void>;
}

/** The broker version, read from scripts/kafka/pom.xml: the one place that names it. */
export function kafkaVersion(): string {
  const pom = fs.readFileSync(path.join(repoRoot, "scripts", "kafka", "pom.xml"), "utf8");
  const match = /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(pom);
  if (!match?.[1]) throw new Error("scripts/kafka/pom.xml names no <kafka.version>");
  return match[1].trim();
}

/**
 * The folder of broker jars, fetched from Maven Central by scripts/fetch-kafka.sh on first use,
 * so `npx vitest run` also works on a fresh clone. The script is a no-op once the jars are there.
 */
export async function kafkaLibs(): Promise<string> {
  const version = kafkaVersion();
  const dir = path.join(cacheDir, "kafka", version);
  if (!fs.existsSync(path.join(dir, ".complete"))) {
    await run("bash", [path.join(repoRoot, "scripts", "fetch-kafka.sh")], { timeoutMs: 600_000 });
  }
  return path.join(dir, "libs");
}

/** A cluster id as Kafka's own Uuid.randomUuid makes them: 16 random bytes, base64url, not starting with "-". */
function clusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString("base64url");
    if (!id.startsWith("-")) return id;
  }
}

const LOG4J2 = `Configuration:
  status: warn
  Appenders:
    Console:
      name: STDOUT
      PatternLayout:
        pattern: "[%d] %p %m (%c)%n"
  Loggers:
    Logger:
      # one line when the broker is up, so a log tail shows how far a failed start got
      - name: kafka.server.KafkaRaftServer
        level: info
      # the coordinators' transitions (producer ids, transaction markers, group generations): a
      # producer or group that does not recover after a broker restart leaves its trace here
      - name: kafka.coordinator.transaction
        level: info
      - name: org.apache.kafka.coordinator.group
        level: info
    Root:
      level: warn
      AppenderRef:
        - ref: STDOUT
`;

function jaas(users: Record<string, string>, self: { username: string; password: string }): string {
  const quote = (s: string) => `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
  const entries = Object.entries(users).map(([user, password]) => `user_${user}=${quote(password)}`);
  return `org.apache.kafka.common.security.plain.PlainLoginModule required username=${quote(self.username)} password=${quote(self.password)} ${entries.join(" ")};`;
}

function serverProperties(
  dir: string,
  ports: { client: number; controller: number; tls: number },
  options: KafkaOptions,
  admin: { username: string; password: string } | undefined,
): string {
  const port = ports.client;
  const controllerPort = ports.controller;
  const props: Record<string, string | number | boolean> = {
    "process.roles": "broker,controller",
    "node.id": 1,
    "controller.quorum.bootstrap.servers": `127.0.0.1:${controllerPort}`,
    listeners: `CLIENT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    "advertised.listeners": `CLIENT://127.0.0.1:${port}`,
    "controller.listener.names": "CONTROLLER",
    "inter.broker.listener.name": "CLIENT",
    "log.dirs": path.join(dir, "data"),
    // one broker: every internal topic must make do with one replica, or transactions and
    // consumer groups never become available
    "offsets.topic.replication.factor": 1,
    "transaction.state.log.replication.factor": 1,
    "transaction.state.log.min.isr": 1,
    "share.coordinator.state.topic.replication.factor": 1,
    "share.coordinator.state.topic.min.isr": 1,
    // 50 partitions each by default: creating them lazily on the first group or transaction
    // costs seconds on this machine, and one broker gains nothing from them
    "offsets.topic.num.partitions": 4,
    "transaction.state.log.num.partitions": 4,
    "group.initial.rebalance.delay.ms": 0,
    // a daemon killed mid-transaction holds read_committed readers of the shared offsets topic
    // until its transaction times out; look for timed-out ones every second, not every 10
    "transaction.abort.timed.out.transaction.cleanup.interval.ms": 1000,
    "num.partitions": 1,
    "default.replication.factor": 1,
    "min.insync.replicas": 1,
    "log.cleaner.backoff.ms": 500,
    "log.segment.bytes": 16 * 1024 * 1024,
    "num.network.threads": 2,
    "num.io.threads": 4,
    "num.recovery.threads.per.data.dir": 1,
  };
  if (admin && options.sasl) {
    const users = { ...options.sasl.users, [admin.username]: admin.password };
    Object.assign(props, {
      "listener.security.protocol.map": "CLIENT:SASL_PLAINTEXT,CONTROLLER:SASL_PLAINTEXT",
      "sasl.enabled.mechanisms": "PLAIN",
      "sasl.mechanism.inter.broker.protocol": "PLAIN",
      "sasl.mechanism.controller.protocol": "PLAIN",
      "listener.name.client.plain.sasl.jaas.config": jaas(users, admin),
      // the controller listener is authenticated too, so no client reaches the cluster as ANONYMOUS
      "listener.name.controller.plain.sasl.jaas.config": jaas(users, admin),
    });
  } else {
    props["listener.security.protocol.map"] = "CLIENT:PLAINTEXT,CONTROLLER:PLAINTEXT";
  }
  const proxied = options.proxiedListener;
  if (proxied) {
    props.listeners = `${props.listeners},PROXIED://127.0.0.1:${proxied.port}`;
    props["advertised.listeners"] = `${props["advertised.listeners"]},PROXIED://127.0.0.1:${proxied.advertisedPort}`;
    // the same protocol (and users) as the client listener
    const protocol = admin && options.sasl ? "SASL_PLAINTEXT" : "PLAINTEXT";
    props["listener.security.protocol.map"] = `${props["listener.security.protocol.map"]},PROXIED:${protocol}`;
    if (props["listener.name.client.plain.sasl.jaas.config"]) {
      props["listener.name.proxied.plain.sasl.jaas.config"] = props["listener.name.client.plain.sasl.jaas.config"];
    }
  }
  const tls = options.tlsListener;
  if (tls) {
    props.listeners = `${props.listeners},TLS://127.0.0.1:${ports.tls}`;
    props["advertised.listeners"] = `${props["advertised.listeners"]},TLS://127.0.0.1:${ports.tls}`;
    props["listener.security.protocol.map"] = `${props["listener.security.protocol.map"]},TLS:${admin && options.sasl ? "SASL_SSL" : "SSL"}`;
    Object.assign(props, {
      "listener.name.tls.ssl.keystore.type": "PKCS12",
      "listener.name.tls.ssl.keystore.location": tls.keystoreFile,
      "listener.name.tls.ssl.keystore.password": tls.keystorePassword,
    });
    if (props["listener.name.client.plain.sasl.jaas.config"]) {
      props["listener.name.tls.plain.sasl.jaas.config"] = props["listener.name.client.plain.sasl.jaas.config"];
    }
  }
  if (options.authorizer) {
    Object.assign(props, {
      "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
      "super.users": `User:${admin?.username ?? "admin"}`,
      "allow.everyone.if.no.acl.found": false,
    });
  }
  Object.assign(props, options.brokerConfig ?? {});
  // java.util.Properties treats "\" as an escape; none of our values needs one except the JAAS quotes
  return Object.entries(props)
    .map(([key, value]) => `${key}=${String(value).replace(/\\/g, "\\\\")}`)
    .join("\n") + "\n";
}

/** kafkajs client options for a connection, with the noise of retries during start-up silenced. */
export function kafkaClientConfig(connection: KafkaConnection, clientId = "liberator-harness"): KafkaConfig {
  const sasl: SASLOptions | undefined = connection.sasl
    ? { mechanism: "plain", username: connection.sasl.username, password: connection.sasl.password }
    : undefined;
  return {
    clientId,
    brokers: connection.brokers,
    logLevel: logLevel.NOTHING,
    ...(sasl ? { sasl, ssl: false } : {}),
  };
}

/**
 * Ready means more than an open port: the metadata answers, a topic can be created, and the
 * group and transaction coordinators are loaded. kafkajs retries a coordinator that is still
 * loading with backoff, which would otherwise make the first test of a run slow and flaky.
 */
async function warmUp(connection: KafkaConnection): Promise<boolean> {
  const kafka = new Kafka({ ...kafkaClientConfig(connection), retry: { retries: 2, initialRetryTime: 100 } });
  const admin = kafka.admin();
  const probe = `_harness_probe_${randomBytes(4).toString("hex")}`;
  await admin.connect();
  try {
    await admin.describeCluster();
    await createTopicsWithLeaders(admin, [{ topic: probe, numPartitions: 1 }]);
    const producer = kafka.producer({
      transactionalId: probe,
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await producer.connect();
    try {
      const tx = await producer.transaction();
      await tx.send({ topic: probe, messages: [{ value: "warm-up" }] });
      await tx.commit();
    } finally {
      await producer.disconnect();
    }
    // finds (and so creates) the group coordinator's __consumer_offsets
    await admin.describeGroups([probe]);
    await admin.deleteTopics({ topics: [probe] });
    return true;
  } finally {
    await admin.disconnect();
  }
}

/*
 * Class-data sharing (AppCDS): a JVM started with -XX:ArchiveClassesAtExit dumps the classes it
 * loaded when it exits; later JVMs map that archive instead of loading and verifying the same
 * ~1 s of classes again. The archive is only valid for one JVM build and one class path, so its
 * name hashes both. A JVM that cannot use an archive says so and runs without it.
 */
let javaVersion: Promise<string> | undefined;

async function cdsArchive(libs: string): Promise<string> {
  javaVersion ??= run("java", ["-Xshare:off", "-version"]);
  const key = createHash("sha256").update(await javaVersion).update(libs).digest("hex").slice(0, 12);
  return path.join(path.dirname(libs), "cds", `kafka-${key}.jsa`);
}

interface Cds {
  jvmArgs: string[];
  /** Called once the broker has exited: publishes the archive it recorded, if it did. */
  finish(exit: ExitInfo | undefined): Promise<void>;
}

async function classDataSharing(libs: string, mode: KafkaOptions["classDataSharing"] = "auto"): Promise<Cds> {
  const nothingToPublish = async () => {};
  const none: Cds = { jvmArgs: [], finish: nothingToPublish };
  if (mode === "off") return none;
  const archive = await cdsArchive(libs);
  if (fs.existsSync(archive)) return { jvmArgs: [`-XX:SharedArchiveFile=${archive}`], finish: nothingToPublish };
  if (mode === "use") return none;
  await fsp.mkdir(path.dirname(archive), { recursive: true });
  // recordings left by runs that were killed before they could publish them
  for (const name of await fsp.readdir(path.dirname(archive))) {
    const file = path.join(path.dirname(archive), name);
    if (name.includes(".jsa.tmp-") && Date.now() - (await fsp.stat(file)).mtimeMs > 3_600_000) await fsp.rm(file, { force: true });
  }
  const recording = `${archive}.tmp-${process.pid}-${randomBytes(3).toString("hex")}`;
  return {
    jvmArgs: [`-XX:ArchiveClassesAtExit=${recording}`],
    async finish(exit) {
      // SIGTERM makes the JVM exit with 143 after its shutdown hooks and the dump; SIGKILL may cut the dump short
      const clean = exit !== undefined && exit.signal === null && (exit.code === 0 || exit.code === 143);
      try {
        if (clean && (await fsp.stat(recording)).size > 0 && !fs.existsSync(archive)) await fsp.rename(recording, archive);
      } catch {
        // no recording: the JVM could not dump one; the next broker tries again
      } finally {
        await fsp.rm(recording, { force: true });
      }
    },
  };
}

async function startOnce(options: KafkaOptions): Promise<KafkaServer> {
  if (options.authorizer && !options.sasl) {
    throw new Error("startKafka: `authorizer` needs `sasl`, or every client is the same ANONYMOUS principal");
  }
  const libs = await kafkaLibs();
  const [port, controllerPort, tlsPort, dir] = await Promise.all([freePort(), freePort(), freePort(), makeTempDir("kafka")]);
  try {
    const admin = options.sasl
      ? { username: "admin", password: options.sasl.users.admin ?? randomBytes(12).toString("hex") }
      : undefined;
    const propertiesFile = path.join(dir, "server.properties");
    const log4jFile = path.join(dir, "log4j2.yaml");
    const logFile = path.join(dir, "broker.log");
    await fsp.writeFile(propertiesFile, serverProperties(dir, { client: port, controller: controllerPort, tls: tlsPort }, options, admin), { mode: 0o600 });
    await fsp.writeFile(log4jFile, LOG4J2);

    const classpath = `${libs}/*`;
    let cds = await classDataSharing(libs, options.classDataSharing);
    const jvm = () => [...cds.jvmArgs, `-Dlog4j2.configurationFile=${log4jFile}`, `-Dkafka.logs.dir=${dir}`, "-Djava.awt.headless=true"];
    const formatted = await run(
      "java",
      ["-Xmx256m", ...jvm(), "-cp", classpath, "kafka.tools.StorageTool", "format", "-t", clusterId(), "-c", propertiesFile, "--standalone"],
      { cwd: dir },
    );
    if (/Unable to use shared archive/i.test(formatted)) {
      // stale or cut short: drop it, and let this broker record a new one
      await fsp.rm(await cdsArchive(libs), { force: true });
      cds = await classDataSharing(libs, options.classDataSharing);
    }

    const heap = options.heapMb ?? 512;
    const server = spawnServer({
      name: "kafka",
      command: "java",
      args: [`-Xmx${heap}m`, `-Xms${Math.min(heap, 256)}m`, ...jvm(), "-cp", classpath, "kafka.Kafka", propertiesFile],
      dir,
      logFile,
      stopSignal: "SIGTERM",
      stopTimeoutMs: 5000,
    });
    const connection: KafkaConnection = {
      brokers: [`127.0.0.1:${port}`],
      ...(admin ? { sasl: { mechanism: "plain" as const, ...admin } } : {}),
    };
    // every listener, not only the harness's own: a restarted broker that lacks the one its other
    // clients use (the fault suite's proxy) fails here, with its log, and not as a client that never recovers
    const listenerPorts = [port, ...(options.proxiedListener ? [options.proxiedListener.port] : []), ...(options.tlsListener ? [tlsPort] : [])];
    const ready = async () => (await Promise.all(listenerPorts.map((p) => portAccepts(p)))).every(Boolean) && (await warmUp(connection));
    const readyTimeoutMs = options.readyTimeoutMs ?? 90_000;
    try {
      await waitUntilReady(server, ready, { timeoutMs: readyTimeoutMs, intervalMs: 200 });
    } catch (error) {
      await server.stop();
      await cds.finish(undefined);
      throw error;
    }
    const stop = async () => {
      await server.stop();
      await cds.finish(await server.exited);
    };
    const tlsBrokers = options.tlsListener ? { tlsBrokers: [`127.0.0.1:${tlsPort}`] } : {};
    return { ...connection, ...tlsBrokers, process: server, stop, ...restartable(server, ready, readyTimeoutMs) };
  } catch (error) {
    await removeDir(dir);
    throw error;
  }
}

/**
 * Starts a single-node KRaft Kafka broker (broker and controller in one JVM) from the official
 * jars, in a fresh temporary folder, on free ports; resolves once clients can produce
 * transactionally and join groups.
 */
export function startKafka(options: KafkaOptions = {}): Promise<KafkaServer> {
  return withPortRetry(() => startOnce(options));
}

/*
 * Long-lived test servers for development: `npm run servers -- start|stop|status|env`.
 *
 * `start` launches Kafka, MariaDB, PostgreSQL (and Redis when the machine has none) detached and
 * records them in .cache/harness/servers.json; test runs then reuse them instead of starting
 * their own, which saves Kafka's start-up on every run. `env` prints the LIBERATOR_TEST_*
 * variables for a shell: eval "$(npx tsx scripts/servers.ts env)".
 */
import { serversStateFile } from "../test/harness/paths.js";
import { ALL_SERVERS, harnessEnv, startServers, type HarnessInfo } from "../test/harness/start.js";
import { isOurProcess, probeServers, readServersState, reusableServers, stopServersFromState, writeServersState } from "../test/harness/state.js";

function describe(info: HarnessInfo): string {
  return [
    `kafka     ${info.kafka.brokers.join(",")}`,
    `mariadb   mysql://${info.mariadb.user}@${info.mariadb.host}:${info.mariadb.port}`,
    `postgres  postgres://${info.postgres.user}@${info.postgres.host}:${info.postgres.port}/${info.postgres.database}`,
    `redis     ${info.redis.url}`,
  ].join("\n");
}

async function start(): Promise<void> {
  const running = await reusableServers();
  if (running) {
    console.log(`already running (${serversStateFile}):\n${describe(running)}`);
    return;
  }
  const stale = readServersState();
  if (stale) await stopServersFromState(stale);

  const started = Date.now();
  // a broker that outlives this process cannot record the class-data archive when it stops
  const harness = await startServers(undefined, { kafka: { classDataSharing: "use" } });
  // from here on they belong to no process: `stop` ends them
  for (const kind of ALL_SERVERS) harness.servers[kind]?.process?.release();
  await writeServersState(harness);
  const times = Object.entries(harness.startupMs)
    .map(([kind, ms]) => `${kind} ${(ms / 1000).toFixed(1)} s`)
    .join(", ");
  console.log(`started in ${((Date.now() - started) / 1000).toFixed(1)} s (${times}); recorded in ${serversStateFile}`);
  console.log(describe(harness.info));
}

async function stop(): Promise<void> {
  const state = readServersState();
  if (!state) {
    console.log("no dev servers recorded");
    return;
  }
  await stopServersFromState(state);
  console.log("stopped");
}

async function status(): Promise<number> {
  const state = readServersState();
  if (!state) {
    console.log("no dev servers recorded (start them with: npm run servers -- start)");
    return 1;
  }
  const answers = await probeServers(state.info);
  const pids = new Map(state.processes.map((p) => [p.kind, p]));
  console.log(`started ${state.startedAt}`);
  for (const line of describe(state.info).split("\n")) {
    const kind = line.split(/\s+/)[0] as keyof HarnessInfo;
    const proc = pids.get(kind);
    const owner = proc ? `pid ${proc.pid}${isOurProcess(proc) ? "" : " (gone)"}` : "machine's";
    console.log(`${answers[kind] ? "up  " : "DOWN"}  ${line}  [${owner}]`);
  }
  return Object.values(answers).every(Boolean) ? 0 : 1;
}

function env(): number {
  const state = readServersState();
  if (!state) {
    console.error("no dev servers recorded (start them with: npm run servers -- start)");
    return 1;
  }
  const quote = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`;
  for (const [key, value] of Object.entries(harnessEnv(state.info))) console.log(`export ${key}=${quote(value)}`);
  return 0;
}

// `npm run servers -- status | head` must not end in a stack trace
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(0);
  throw error;
});

const command = process.argv[2] ?? "status";
switch (command) {
  case "start":
    await start();
    break;
  case "stop":
    await stop();
    break;
  case "status":
    process.exitCode = await status();
    break;
  case "env":
    process.exitCode = env();
    break;
  default:
    console.error("usage: npm run servers -- start|stop|status|env");
    process.exitCode = 2;
}

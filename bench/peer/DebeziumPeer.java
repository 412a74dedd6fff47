import io.debezium.embedded.Connect;
import io.debezium.engine.ChangeEvent;
import io.debezium.engine.DebeziumEngine;
import io.debezium.engine.RecordChangeEvent;
import io.debezium.engine.format.ChangeEventFormat;
import io.debezium.engine.format.Json;
import java.io.BufferedReader;
import java.io.FileReader;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.connect.source.SourceRecord;

/**
 * The peer of `npm run bench -- peer` and `npm run bench -- pgcdc`: Debezium's embedded engine with
 * the connector its properties name (MySQL, or PostgreSQL with pgoutput), as a user would embed it,
 * counting the change records of one table until `expected` have gone by.
 *
 *   java DebeziumPeer handler|kafka ENGINE_PROPERTIES TOPIC EXPECTED
 *
 * - handler: the records (Kafka Connect SourceRecords, no conversion) are only counted;
 * - kafka: each record is converted to JSON (Debezium's default converter, schemas included) and
 *   produced to the same broker Liberator uses (acks=all, idempotent, not transactional: how
 *   Debezium Server and most embedders run it); a batch is marked processed once every send of it
 *   is acknowledged, and a record counts then.
 *
 * It prints one JSON line when the connector's task has started and one when the count is reached,
 * with the wall and process CPU time between them, then closes the engine (which commits its
 * offsets, so the next run resumes after them) when "stop" arrives on stdin.
 */
public final class DebeziumPeer {
  private static final com.sun.management.OperatingSystemMXBean OS =
      (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();

  private static final AtomicLong COUNT = new AtomicLong();
  private static volatile long startedNanos;
  private static volatile long startedCpu;
  private static volatile boolean reported;
  private static String topic;
  private static long expected;

  public static void main(String[] args) throws Exception {
    String mode = args[0];
    Properties props = new Properties();
    try (FileReader in = new FileReader(args[1])) {
      props.load(in);
    }
    topic = args[2];
    expected = Long.parseLong(args[3]);

    DebeziumEngine.ConnectorCallback started = new DebeziumEngine.ConnectorCallback() {
      @Override
      public void taskStarted() {
        startedNanos = System.nanoTime();
        startedCpu = OS.getProcessCpuTime();
        System.out.println("{\"event\":\"started\"}");
      }
    };
    DebeziumEngine.CompletionCallback completed = (success, message, error) -> {
      if (!success) {
        System.out.println("{\"event\":\"failed\",\"message\":" + quote(message + (error == null ? "" : ": " + error)) + "}");
        System.exit(1);
      }
    };

    KafkaProducer<String, String> producer = null;
    DebeziumEngine<?> engine;
    if (mode.equals("handler")) {
      engine = DebeziumEngine.create(ChangeEventFormat.of(Connect.class))
          .using(props)
          .using(started)
          .using(completed)
          .notifying((List<RecordChangeEvent<SourceRecord>> records, DebeziumEngine.RecordCommitter<RecordChangeEvent<SourceRecord>> committer) -> {
            long ours = 0;
            for (RecordChangeEvent<SourceRecord> r : records) {
              if (topic.equals(r.record().topic())) ours++;
              committer.markProcessed(r);
            }
            committer.markBatchFinished();
            counted(ours);
          })
          .build();
    } else {
      Properties p = new Properties();
      p.put("bootstrap.servers", props.getProperty("peer.kafka.bootstrap.servers"));
      p.put("acks", "all");
      p.put("enable.idempotence", "true");
      p.put("key.serializer", "org.apache.kafka.common.serialization.StringSerializer");
      p.put("value.serializer", "org.apache.kafka.common.serialization.StringSerializer");
      KafkaProducer<String, String> kafka = new KafkaProducer<>(p);
      producer = kafka;
      engine = DebeziumEngine.create(Json.class)
          .using(props)
          .using(started)
          .using(completed)
          .notifying((List<ChangeEvent<String, String>> records, DebeziumEngine.RecordCommitter<ChangeEvent<String, String>> committer) -> {
            List<Future<RecordMetadata>> sent = new ArrayList<>(records.size());
            long ours = 0;
            for (ChangeEvent<String, String> r : records) {
              sent.add(kafka.send(new ProducerRecord<>(r.destination(), r.key(), r.value())));
              if (topic.equals(r.destination())) ours++;
            }
            try {
              for (Future<RecordMetadata> f : sent) f.get();
            } catch (java.util.concurrent.ExecutionException e) {
              throw new RuntimeException("a send failed", e);
            }
            for (ChangeEvent<String, String> r : records) committer.markProcessed(r);
            committer.markBatchFinished();
            counted(ours);
          })
          .build();
    }

    ExecutorService executor = Executors.newSingleThreadExecutor();
    executor.execute(engine);
    // the count every second, so the caller tells a stalled run (lost rows) from a slow one
    ScheduledExecutorService progress = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "progress");
      t.setDaemon(true);
      return t;
    });
    progress.scheduleAtFixedRate(() -> System.out.println("{\"event\":\"progress\",\"count\":" + COUNT.get() + "}"), 1, 1, TimeUnit.SECONDS);
    BufferedReader stdin = new BufferedReader(new InputStreamReader(System.in));
    for (String line; (line = stdin.readLine()) != null && !line.trim().equals("stop"); ) {
      // only "stop" (or the end of stdin) ends the run
    }
    engine.close();
    executor.shutdown();
    executor.awaitTermination(60, TimeUnit.SECONDS);
    if (producer != null) producer.close();
    System.out.println("{\"event\":\"stopped\",\"count\":" + COUNT.get() + "}");
    System.exit(0);
  }

  private static void counted(long n) {
    long total = COUNT.addAndGet(n);
    if (total >= expected && !reported) {
      reported = true;
      long nanos = System.nanoTime() - startedNanos;
      long cpu = OS.getProcessCpuTime() - startedCpu;
      System.out.println("{\"event\":\"done\",\"count\":" + total + ",\"ms\":" + nanos / 1e6 + ",\"cpuMs\":" + cpu / 1e6 + "}");
    }
  }

  private static String quote(String s) {
    return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n") + "\"";
  }
}

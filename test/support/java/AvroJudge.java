import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.math.BigDecimal;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import org.apache.avro.Conversions;
import org.apache.avro.LogicalType;
import org.apache.avro.LogicalTypes;
import org.apache.avro.NameValidator;
import org.apache.avro.Schema;
import org.apache.avro.data.TimeConversions;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericEnumSymbol;
import org.apache.avro.generic.GenericFixed;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * The second judge of the tests (test/support/java-avro.ts): Apache Avro's own Java library reads
 * what Liberator wrote, knowing nothing of Liberator but the Confluent wire format and the schema
 * registry's REST API.
 *
 *   java AvroJudge BROKERS REGISTRY_URL TIMEOUT_MS TOPIC...
 *
 * Every registered schema (each version of each subject) must parse with Avro's strict name rules
 * and default validation, and each logical type in it must be one the specification defines, with
 * valid parameters. Every record of the topics, read to their end under read_committed, is
 * decoded with GenericDatumReader and the standard conversions (LocalDate, Instant, LocalTime,
 * LocalDateTime, BigDecimal, UUID), and each value must mean what the specification says: a date
 * or timestamp in years 1-9999, a time-micros within a day (the conversion itself refuses
 * others), a decimal within its precision, the payload read to its last byte.
 *
 * Output, one JSON line each: {"schema": id, "subject", "version"} per schema checked, {"topic",
 * "partition", "offset", "key", "value"} per record, {"error", "where"} per problem, then
 * {"done": records}. A value is rendered as Java decoded it: null, true/false, text for every
 * other scalar (timestamps with six fraction digits, decimals as plain text, bytes and fixed as
 * hex, floats and doubles as the hex of their IEEE bits, so nothing is rounded by printing),
 * arrays, and objects for records and maps.
 */
public final class AvroJudge {
  private static final DateTimeFormatter DATE = DateTimeFormatter.ofPattern("uuuu-MM-dd");
  private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss.SSSSSS");
  private static final DateTimeFormatter LOCAL = DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSSSSS");
  private static final DateTimeFormatter UTC = DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSSSSS'Z'").withZone(ZoneOffset.UTC);
  private static final HexFormat HEX = HexFormat.of();
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

  private static final JsonFactory FACTORY = new JsonFactory();

  private final String registry;
  private final OutputStream stdout = new BufferedOutputStream(System.out, 1 << 16);
  /** Each line is built here first: a value that fails half-way through leaves nothing behind. */
  private final ByteArrayOutputStream line = new ByteArrayOutputStream();
  private JsonGenerator out;
  private final GenericData data = new GenericData();
  private final Map<Integer, GenericDatumReader<Object>> readers = new HashMap<>();
  private int errors;

  private AvroJudge(String registry) {
    this.registry = registry.replaceAll("/+$", "");
    data.addLogicalTypeConversion(new Conversions.DecimalConversion());
    data.addLogicalTypeConversion(new Conversions.UUIDConversion());
    data.addLogicalTypeConversion(new TimeConversions.DateConversion());
    data.addLogicalTypeConversion(new TimeConversions.TimeMillisConversion());
    data.addLogicalTypeConversion(new TimeConversions.TimeMicrosConversion());
    data.addLogicalTypeConversion(new TimeConversions.TimestampMillisConversion());
    data.addLogicalTypeConversion(new TimeConversions.TimestampMicrosConversion());
    data.addLogicalTypeConversion(new TimeConversions.LocalTimestampMillisConversion());
    data.addLogicalTypeConversion(new TimeConversions.LocalTimestampMicrosConversion());
  }

  public static void main(String[] args) throws Exception {
    String brokers = args[0];
    long timeoutMs = Long.parseLong(args[2]);
    List<String> topics = List.of(args).subList(3, args.length);
    AvroJudge judge = new AvroJudge(args[1]);
    try {
      judge.checkRegistry();
      long records = judge.readTopics(brokers, topics, timeoutMs);
      judge.emit(() -> {
        judge.out.writeNumberField("done", records);
        judge.out.writeNumberField("errors", judge.errors);
      });
    } finally {
      judge.stdout.flush();
    }
  }

  private interface Fields {
    void write() throws Exception;
  }

  /** One JSON object on a line of its own, written only when all of it could be. */
  private void emit(Fields fields) throws Exception {
    line.reset();
    out = FACTORY.createGenerator(line);
    out.writeStartObject();
    fields.write();
    out.writeEndObject();
    out.close();
    line.write('\n');
    line.writeTo(stdout);
  }

  // -------------------------------------------------------------------------------------------
  // Schemas

  private JsonNode get(String path) throws IOException, InterruptedException {
    HttpRequest request = HttpRequest.newBuilder(URI.create(registry + path)).timeout(Duration.ofSeconds(30)).GET().build();
    HttpResponse<String> response = HTTP.send(request, HttpResponse.BodyHandlers.ofString());
    if (response.statusCode() != 200) throw new IOException("GET " + path + ": HTTP " + response.statusCode() + " " + response.body());
    return JSON.readTree(response.body());
  }

  private static String encode(String segment) {
    return URLEncoder.encode(segment, StandardCharsets.UTF_8).replace("+", "%20");
  }

  /** Every version of every subject: parsed strictly, logical types checked. */
  private void checkRegistry() throws Exception {
    for (JsonNode subject : get("/subjects")) {
      String name = subject.asText();
      for (JsonNode version : get("/subjects/" + encode(name) + "/versions")) {
        JsonNode entry = get("/subjects/" + encode(name) + "/versions/" + version.asText());
        String where = "subject " + name + " version " + version.asText();
        try {
          checkLogicalTypes(parse(entry.get("schema").asText()), new ArrayList<>());
          emit(() -> {
            out.writeNumberField("schema", entry.get("id").asInt());
            out.writeStringField("subject", name);
            out.writeNumberField("version", version.asInt());
          });
        } catch (Exception e) {
          error(where, e);
        }
      }
    }
  }

  private static Schema parse(String text) {
    return new Schema.Parser(NameValidator.STRICT_VALIDATOR).setValidateDefaults(true).parse(text);
  }

  /** Schema.Parser ignores invalid logical types (the type is then read as its plain type): ask for each. */
  private static void checkLogicalTypes(Schema schema, List<Schema> seen) {
    for (Schema s : seen) if (s == schema) return;
    seen.add(schema);
    String name = schema.getProp(LogicalType.LOGICAL_TYPE_PROP);
    if (name != null && LogicalTypes.fromSchema(schema) == null) {
      throw new IllegalArgumentException("logical type \"" + name + "\" is not one Avro 1.12 defines: " + schema);
    }
    switch (schema.getType()) {
      case RECORD -> schema.getFields().forEach(f -> checkLogicalTypes(f.schema(), seen));
      case UNION -> schema.getTypes().forEach(t -> checkLogicalTypes(t, seen));
      case ARRAY -> checkLogicalTypes(schema.getElementType(), seen);
      case MAP -> checkLogicalTypes(schema.getValueType(), seen);
      default -> {}
    }
  }

  private GenericDatumReader<Object> reader(int id) throws IOException, InterruptedException {
    GenericDatumReader<Object> reader = readers.get(id);
    if (reader == null) {
      Schema schema = parse(get("/schemas/ids/" + id).get("schema").asText());
      checkLogicalTypes(schema, new ArrayList<>());
      reader = new GenericDatumReader<>(schema, schema, data);
      readers.put(id, reader);
    }
    return reader;
  }

  // -------------------------------------------------------------------------------------------
  // Records

  private long readTopics(String brokers, List<String> topics, long timeoutMs) throws Exception {
    Properties props = new Properties();
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, brokers);
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    long records = 0;
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props)) {
      List<TopicPartition> partitions = new ArrayList<>();
      for (String topic : topics) {
        List<PartitionInfo> infos = consumer.partitionsFor(topic, Duration.ofSeconds(30));
        if (infos == null || infos.isEmpty()) {
          error("topic " + topic, new IllegalStateException("no such topic"));
          continue;
        }
        for (PartitionInfo p : infos) partitions.add(new TopicPartition(topic, p.partition()));
      }
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      // under read_committed these are the last stable offsets: every transaction there has ended
      Map<TopicPartition, Long> ends = consumer.endOffsets(partitions, Duration.ofSeconds(30));
      long deadline = System.currentTimeMillis() + timeoutMs;
      while (partitions.stream().anyMatch(tp -> consumer.position(tp) < ends.get(tp))) {
        if (System.currentTimeMillis() > deadline) {
          error("topics", new IllegalStateException("not read to their end in " + timeoutMs + " ms"));
          break;
        }
        for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(500))) {
          records++;
          String where = record.topic() + "/" + record.partition() + "@" + record.offset();
          try {
            Decoded key = decode(record.key());
            Decoded value = decode(record.value());
            emit(() -> {
              out.writeStringField("topic", record.topic());
              out.writeNumberField("partition", record.partition());
              out.writeStringField("offset", Long.toString(record.offset()));
              out.writeFieldName("key");
              render(key);
              out.writeFieldName("value");
              render(value);
            });
          } catch (Exception e) {
            error(where, e);
          }
        }
      }
    }
    return records;
  }

  /** A decoded payload and its writer's schema, or null for a null payload (a tombstone). */
  private record Decoded(Object datum, Schema schema) {}

  private Decoded decode(byte[] bytes) throws IOException, InterruptedException {
    if (bytes == null) return null;
    if (bytes.length < 5 || bytes[0] != 0) throw new IOException("not the Confluent wire format (magic byte 0, 4-byte schema id)");
    int id = ByteBuffer.wrap(bytes, 1, 4).getInt();
    GenericDatumReader<Object> reader = reader(id);
    BinaryDecoder decoder = DecoderFactory.get().binaryDecoder(bytes, 5, bytes.length - 5, null);
    Object datum = reader.read(null, decoder);
    if (!decoder.isEnd()) throw new IOException("schema " + id + " leaves bytes after the record");
    return new Decoded(datum, reader.getSchema());
  }

  private void render(Decoded decoded) throws IOException {
    if (decoded == null) out.writeNull();
    else render(decoded.datum(), decoded.schema());
  }

  private void render(Object datum, Schema schema) throws IOException {
    LogicalType logical = schema.getLogicalType();
    switch (schema.getType()) {
      case NULL -> out.writeNull();
      case BOOLEAN -> out.writeBoolean((Boolean) datum);
      case UNION -> render(datum, schema.getTypes().get(data.resolveUnion(schema, datum)));
      case RECORD -> {
        GenericRecord record = (GenericRecord) datum;
        out.writeStartObject();
        for (Schema.Field f : schema.getFields()) {
          out.writeFieldName(f.name());
          render(record.get(f.pos()), f.schema());
        }
        out.writeEndObject();
      }
      case ARRAY -> {
        out.writeStartArray();
        for (Object item : (Iterable<?>) datum) render(item, schema.getElementType());
        out.writeEndArray();
      }
      case MAP -> {
        out.writeStartObject();
        for (Map.Entry<?, ?> e : ((Map<?, ?>) datum).entrySet()) {
          out.writeFieldName(e.getKey().toString());
          render(e.getValue(), schema.getValueType());
        }
        out.writeEndObject();
      }
      case ENUM -> out.writeString(((GenericEnumSymbol<?>) datum).toString());
      case FLOAT -> out.writeString("f" + Integer.toHexString(Float.floatToIntBits((Float) datum)));
      case DOUBLE -> out.writeString("d" + Long.toHexString(Double.doubleToLongBits((Double) datum)));
      default -> out.writeString(scalar(datum, logical));
    }
  }

  /** Text of a scalar as Java holds it, checked against what its logical type promises. */
  private static String scalar(Object datum, LogicalType logical) {
    if (datum instanceof LocalDate d) return DATE.format(inYears(d.getYear(), d));
    if (datum instanceof LocalTime t) return TIME.format(t);
    if (datum instanceof Instant i) return UTC.format(inYears(i.atOffset(ZoneOffset.UTC).getYear(), i));
    if (datum instanceof LocalDateTime t) return LOCAL.format(inYears(t.getYear(), t));
    if (datum instanceof BigDecimal d) {
      int precision = ((LogicalTypes.Decimal) logical).getPrecision();
      if (d.precision() > precision) throw new IllegalStateException("decimal " + d.toPlainString() + " has more than " + precision + " digits");
      return d.toPlainString();
    }
    if (datum instanceof UUID u) return u.toString();
    if (datum instanceof ByteBuffer b) {
      byte[] bytes = new byte[b.remaining()];
      b.duplicate().get(bytes);
      return HEX.formatHex(bytes);
    }
    if (datum instanceof GenericFixed f) return HEX.formatHex(f.bytes());
    if (logical != null) throw new IllegalStateException("logical type " + logical.getName() + " decoded as a plain " + datum.getClass().getSimpleName());
    return datum.toString();
  }

  private static <T> T inYears(int year, T value) {
    if (year < 1 || year > 9999) throw new IllegalStateException(value + " is outside years 0001-9999, which decoders hold");
    return value;
  }

  private void error(String where, Exception e) throws Exception {
    errors++;
    emit(() -> {
      out.writeStringField("error", e.getClass().getSimpleName() + ": " + e.getMessage());
      out.writeStringField("where", where);
    });
  }
}

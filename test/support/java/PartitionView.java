import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;

/**
 * Partitions of a topic as the Java admin client sees them, printed as one JSON array: each one's
 * high watermark, last stable offset, and the producers that have a transaction open on it
 * ("id/epoch@offset"). Run as a single-file program on the broker's own jars:
 * java -cp 'libs/*' PartitionView.java <broker> <topic> <partition>...
 */
public class PartitionView {
  public static void main(String[] args) throws Exception {
    Properties props = new Properties();
    props.put("bootstrap.servers", args[0]);
    List<String> views = new ArrayList<>();
    try (Admin admin = Admin.create(props)) {
      for (int i = 2; i < args.length; i++) {
        TopicPartition tp = new TopicPartition(args[1], Integer.parseInt(args[i]));
        long hw = admin.listOffsets(Map.of(tp, OffsetSpec.latest()), new ListOffsetsOptions(IsolationLevel.READ_UNCOMMITTED)).partitionResult(tp).get().offset();
        long lso = admin.listOffsets(Map.of(tp, OffsetSpec.latest()), new ListOffsetsOptions(IsolationLevel.READ_COMMITTED)).partitionResult(tp).get().offset();
        List<String> open = new ArrayList<>();
        admin.describeProducers(List.of(tp)).partitionResult(tp).get().activeProducers().forEach(p ->
          p.currentTransactionStartOffset().ifPresent(start -> open.add("\"" + p.producerId() + "/" + p.producerEpoch() + "@" + start + "\"")));
        views.add("{\"hw\":" + hw + ",\"lso\":" + lso + ",\"open\":[" + String.join(",", open) + "]}");
      }
    }
    System.out.println("[" + String.join(",", views) + "]");
  }
}

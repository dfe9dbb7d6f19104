package rat4j.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * RUN/metrics.jsonl: one JSON object per line, {"split": "train", "step", "tokens", "loss", "lr", "grad_norm",
 * "tokens_per_s"} after every optimizer step and {"split": "val", "step", "tokens", "loss", "ppl"} after every
 * validation. Opening it for a resumed run drops the lines past the checkpoint's step, so the file reads as one run.
 */
public final class Metrics implements AutoCloseable {
    public static final String FILE = "metrics.jsonl";

    /** A loss after {@code tokens} training tokens. */
    public record Point(long step, long tokens, double loss) {}

    private final List<Point> train = new ArrayList<>(), val = new ArrayList<>();
    private final BufferedWriter out;

    private Metrics(BufferedWriter out) {
        this.out = out;
    }

    /** Opens RUN/metrics.jsonl for appending, keeping only the lines of steps up to {@code upToStep}. */
    public static Metrics open(Path runDir, long upToStep) throws IOException {
        Path file = runDir.resolve(FILE);
        List<String> kept = new ArrayList<>();
        List<Point> train = new ArrayList<>(), val = new ArrayList<>();
        boolean dropped = false;
        if (Files.exists(file)) {
            int no = 0;
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                no++;
                if (line.isBlank()) continue;
                JsonNode n;
                try {
                    n = Json.parseObject(line);
                } catch (IllegalArgumentException e) {
                    // a crash can cut the last line short; anything after the checkpoint is rewritten anyway
                    dropped = true;
                    continue;
                }
                long step = Json.longValue(n, "step");
                if (step > upToStep) {
                    dropped = true;
                    continue;
                }
                Point p = new Point(step, Json.longValue(n, "tokens"), Json.number(n, "loss"));
                switch (Json.text(n, "split")) {
                    case "train" -> train.add(p);
                    case "val" -> val.add(p);
                    default -> throw new IOException(file + ":" + no + ": unknown split " + n.get("split"));
                }
                kept.add(line);
            }
        }
        if (dropped) AtomicOutput.write(file, (String.join("\n", kept) + (kept.isEmpty() ? "" : "\n")).getBytes(StandardCharsets.UTF_8));
        Metrics m = new Metrics(Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND));
        m.train.addAll(train);
        m.val.addAll(val);
        return m;
    }

    public List<Point> train() { return train; }

    public List<Point> val() { return val; }

    public void logTrain(long step, long tokens, double loss, double lr, double gradNorm, double tokensPerSecond) throws IOException {
        ObjectNode n = line("train", step, tokens, loss);
        n.put("lr", lr);
        Json.putNumber(n, "grad_norm", gradNorm);
        Json.putNumber(n, "tokens_per_s", tokensPerSecond);
        write(n);
        train.add(new Point(step, tokens, loss));
    }

    public void logVal(long step, long tokens, double loss) throws IOException {
        ObjectNode n = line("val", step, tokens, loss);
        Json.putNumber(n, "ppl", Math.exp(loss));
        write(n);
        val.add(new Point(step, tokens, loss));
    }

    private static ObjectNode line(String split, long step, long tokens, double loss) {
        ObjectNode n = Json.object();
        n.put("split", split);
        n.put("step", step);
        n.put("tokens", tokens);
        Json.putNumber(n, "loss", loss);
        return n;
    }

    private void write(ObjectNode n) throws IOException {
        out.write(Json.compact(n));
        out.newLine();
        out.flush();
    }

    @Override public void close() throws IOException {
        out.close();
    }
}

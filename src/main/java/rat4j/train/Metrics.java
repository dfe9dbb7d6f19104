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
 * RUN/metrics.csv holds the same rows as a table (header {@link #CSV_HEADER}; a column a row lacks is empty), for
 * spreadsheets and plotting tools; it is rewritten from metrics.jsonl when a run is opened, then appended in step.
 */
public final class Metrics implements AutoCloseable {
    public static final String FILE = "metrics.jsonl", CSV_FILE = "metrics.csv";
    public static final List<String> CSV_COLUMNS = List.of("split", "step", "tokens", "loss", "lr", "grad_norm", "tokens_per_s", "ppl");
    public static final String CSV_HEADER = String.join(",", CSV_COLUMNS);

    /** A loss after {@code tokens} training tokens. */
    public record Point(long step, long tokens, double loss) {}

    private final List<Point> train = new ArrayList<>(), val = new ArrayList<>();
    private final BufferedWriter out, csv;

    private Metrics(BufferedWriter out, BufferedWriter csv) {
        this.out = out;
        this.csv = csv;
    }

    /** The losses of a run's metrics.jsonl, read only (a cut-short last line, as a crash leaves, is skipped). */
    public record Curves(List<Point> train, List<Point> val) {}

    public static Curves read(Path runDir) throws IOException {
        Path file = runDir.resolve(FILE);
        if (!Files.isRegularFile(file)) throw new java.nio.file.NoSuchFileException(file.toString(), null, "no " + FILE + " (not a run directory of 'rat4j train'?)");
        List<Point> train = new ArrayList<>(), val = new ArrayList<>();
        int no = 0;
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            no++;
            if (line.isBlank()) continue;
            JsonNode n;
            try {
                n = Json.parseObject(line);
            } catch (IllegalArgumentException e) {
                continue;
            }
            Point p = point(n, file, no);
            (Json.text(n, "split").equals("train") ? train : val).add(p);
        }
        return new Curves(train, val);
    }

    private static Point point(JsonNode n, Path file, int no) throws IOException {
        String split = Json.text(n, "split");
        if (!split.equals("train") && !split.equals("val")) throw new IOException(file + ":" + no + ": unknown split " + n.get("split"));
        return new Point(Json.longValue(n, "step"), Json.longValue(n, "tokens"), Json.number(n, "loss"));
    }

    /** One CSV row of a metrics line: its values in {@link #CSV_COLUMNS} order, empty where it has none. */
    static String csvRow(JsonNode n) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < CSV_COLUMNS.size(); i++) {
            if (i > 0) b.append(',');
            JsonNode v = n.get(CSV_COLUMNS.get(i));
            if (v != null && !v.isNull()) b.append(v.isTextual() ? v.textValue() : v.asText());
        }
        return b.toString();
    }

    /** Opens RUN/metrics.jsonl for appending, keeping only the lines of steps up to {@code upToStep}. */
    public static Metrics open(Path runDir, long upToStep) throws IOException {
        Path file = runDir.resolve(FILE);
        List<String> kept = new ArrayList<>(), csvRows = new ArrayList<>();
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
                Point p = point(n, file, no);
                (Json.text(n, "split").equals("train") ? train : val).add(p);
                kept.add(line);
                csvRows.add(csvRow(n));
            }
        }
        if (dropped) AtomicOutput.write(file, (String.join("\n", kept) + (kept.isEmpty() ? "" : "\n")).getBytes(StandardCharsets.UTF_8));
        // the CSV follows the JSONL (the run's record); rewritten whole, it can never disagree with it
        AtomicOutput.write(runDir.resolve(CSV_FILE), (CSV_HEADER + "\n" + String.join("", csvRows.stream().map(r -> r + "\n").toList()))
                .getBytes(StandardCharsets.UTF_8));
        Metrics m = new Metrics(Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND),
                Files.newBufferedWriter(runDir.resolve(CSV_FILE), StandardCharsets.UTF_8, StandardOpenOption.APPEND));
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
        csv.write(csvRow(n));
        csv.newLine();
        csv.flush();
    }

    @Override public void close() throws IOException {
        try {
            out.close();
        } finally {
            csv.close();
        }
    }
}

package rat4j.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import rat4j.model.LanguageModel;
import rat4j.model.io.FormatException;
import rat4j.model.io.ModelDirectory;
import rat4j.model.io.Safetensors;
import rat4j.model.io.Safetensors.TensorData;
import rat4j.model.io.Safetensors.TensorInfo;
import rat4j.model.io.SafetensorsFile;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "score", mixinStandardHelpOptions = true,
        description = "Logits (and the mean cross-entropy, given labels) of token batches: reads input_ids (int64 [B, T]) and optional labels"
                + " (int64 [B, T], -100 = ignored) from IN, writes float32 logits [B, T, V] and loss [] to OUT.")
final class ScoreCommand implements Callable<Integer> {
    static final String INPUT_IDS = "input_ids", LABELS = "labels", LOGITS = "logits", LOSS = "loss";

    @Spec CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "DIR", description = "a model directory")
    Path model;

    @Option(names = "--input", required = true, paramLabel = "IN.safetensors", description = "input_ids and optional labels; other tensors are ignored")
    Path input;

    @Option(names = "--out", required = true, paramLabel = "OUT.safetensors", description = "where to write logits (and loss)")
    Path out;

    /** Token ids (B, T) and labels (B, T) or null, validated against a vocabulary. */
    record Batch(int[] tokens, int[] labels, int batch, int seqLen) {}

    @Override public Integer call() throws IOException {
        ModelDirectory.Model m = ModelDirectory.load(model);
        Batch b = readBatch(input, m.config().vocabSize());
        long logitCount = (long) b.batch() * b.seqLen() * m.config().vocabSize();
        if (logitCount > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("logits [" + b.batch() + ", " + b.seqLen() + ", " + m.config().vocabSize() + "] would hold "
                    + logitCount + " values, more than one Java array; score fewer tokens per call");
        }
        LanguageModel.Scored scored = new LanguageModel(m.config(), m.parameters()).score(b.tokens(), b.labels(), b.batch(), b.seqLen());
        if (scored.logits().length != logitCount) throw new IllegalStateException("the model returned " + scored.logits().length + " logits, expected " + logitCount);
        Map<String, TensorData> outputs = new LinkedHashMap<>();
        outputs.put(LOGITS, TensorData.f32(scored.logits(), new int[] {b.batch(), b.seqLen(), m.config().vocabSize()}));
        if (b.labels() != null) outputs.put(LOSS, TensorData.f32(new float[] {(float) scored.loss()}, new int[0]));
        Safetensors.write(out, outputs, Map.of());
        return 0;
    }

    static Batch readBatch(Path file, int vocab) throws IOException {
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            if (!f.contains(INPUT_IDS)) throw new FormatException(file + ": no " + INPUT_IDS + " tensor");
            int[] shape = f.info(INPUT_IDS).shape();
            if (shape.length != 2 || shape[0] < 1 || shape[1] < 1) {
                throw new FormatException(file + ": " + INPUT_IDS + " has shape " + Arrays.toString(shape) + ", needs [B, T] with B, T >= 1");
            }
            int batch = shape[0], seqLen = shape[1];
            int[] tokens = ids(f, INPUT_IDS, seqLen, vocab, false);
            int[] labels = null;
            if (f.contains(LABELS)) {
                TensorInfo l = f.info(LABELS);
                if (!Arrays.equals(l.shape(), shape)) {
                    throw new FormatException(file + ": " + LABELS + " has shape " + l.shapeString() + ", " + INPUT_IDS + " " + Arrays.toString(shape));
                }
                labels = ids(f, LABELS, seqLen, vocab, true);
            }
            return new Batch(tokens, labels, batch, seqLen);
        }
    }

    /** Reads an integer tensor and checks every value is in [0, vocab) (or -100 for labels), naming the first that is not. */
    private static int[] ids(SafetensorsFile f, String name, int seqLen, int vocab, boolean label) throws FormatException {
        long[] v = f.readLongs(name);
        int[] ids = new int[v.length];
        for (int i = 0; i < v.length; i++) {
            boolean ok = (v[i] >= 0 && v[i] < vocab) || (label && v[i] == LanguageModel.IGNORE_INDEX);
            if (!ok) {
                throw new FormatException(f.path() + ": " + name + "[" + i / seqLen + ", " + i % seqLen + "] = " + v[i] + " is outside [0, " + vocab + ")"
                        + (label ? " and not " + LanguageModel.IGNORE_INDEX : "") + " (the model's vocab_size is " + vocab + ")");
            }
            ids[i] = (int) v[i];
        }
        return ids;
    }
}

package rat4j.train;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import rat4j.model.io.FormatException;
import rat4j.model.io.ModelDirectory;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TrainerTest {
    @TempDir Path dir;

    /** A 12-step run on the tiny corpus: 2 micro-batches of 4 x 32 per step, checkpoints every 3 steps. */
    TrainConfig small(Path data, Path run, TrainConfig.Sampling sampling) {
        return TrainConfig.pretrain(data, Fixtures.tinyModel(), null, run).withBatch(32, 4, 2).withLength(1, 12).withSampling(sampling)
                .withRecipe(TrainConfig.Recipe.PRETRAIN.withLr(3e-3)).withEvaluation(4, 256).withCheckpoints(3, 2, false);
    }

    static List<double[]> metricLines(Path run, String split) throws IOException {
        List<double[]> out = new ArrayList<>();
        for (String line : Files.readAllLines(run.resolve(Metrics.FILE))) {
            JsonNode n = Json.parseObject(line);
            if (n.get("split").asText().equals(split)) out.add(new double[] {n.get("step").asLong(), n.get("tokens").asLong(), n.get("loss").asDouble()});
        }
        return out;
    }

    static float[] finalWeights(Path run) throws IOException {
        return ModelDirectory.load(run.resolve(Trainer.MODEL_DIR)).parameters();
    }

    static void assertBitIdentical(float[] want, float[] got, String what) {
        assertEquals(want.length, got.length, what);
        for (int i = 0; i < want.length; i++) {
            if (Float.floatToRawIntBits(want[i]) != Float.floatToRawIntBits(got[i])) throw new AssertionError(what + ": parameter " + i + " " + want[i] + " vs " + got[i]);
        }
    }

    static void assertSameMetrics(Path a, Path b) throws IOException {
        for (String split : List.of("train", "val")) {
            List<double[]> x = metricLines(a, split), y = metricLines(b, split);
            assertEquals(x.size(), y.size(), split + " lines");
            for (int i = 0; i < x.size(); i++) assertArrayEquals(x.get(i), y.get(i), split + " line " + i + ": step, tokens and loss bit for bit");
        }
    }

    Trainer.Result runStraight(TrainConfig c) throws IOException {
        try (Trainer t = Trainer.start(c, Progress.silent())) {
            return t.run();
        }
    }

    @Test void aTinyModelLearnsATinyCorpus() throws IOException {
        Path data = Fixtures.preparedData(dir, 80, 0.1);
        Path run = dir.resolve("run");
        TrainConfig c = TrainConfig.pretrain(data, Fixtures.tinyModel(), null, run).withBatch(32, 4, 1).withLength(1, 60)
                .withRecipe(TrainConfig.Recipe.PRETRAIN.withLr(1e-2)).withEvaluation(20, 1024).withCheckpoints(0, 2, true);
        Trainer.Result r = runStraight(c);
        assertTrue(r.finished());
        assertEquals(60, r.step());
        assertEquals(60L * 4 * 32, r.tokensSeen());
        double first = avg(r.losses(), 0, 5), last = avg(r.losses(), 55, 60);
        assertTrue(first > 4.5, "starts near ln(258) = 5.55: " + first);
        assertTrue(last < first - 2.0, "the training loss falls: " + first + " -> " + last);
        List<double[]> val = metricLines(run, "val");
        assertEquals(3, val.size(), "validation at steps 20, 40, 60");
        assertTrue(val.get(2)[2] < val.get(0)[2], "the validation loss falls too");
        assertEquals(val.get(2)[2], r.valLoss(), 0);
        assertEquals(60, metricLines(run, "train").size());
        assertCsvMatchesJsonl(run);
        Metrics.Curves curves = Metrics.read(run);
        assertEquals(60, curves.train().size());
        assertEquals(val.get(2)[2], curves.val().get(2).loss(), 0, "Metrics.read gives what the run logged");
        assertTrue(r.tokensPerSecond() > 0 && r.peakHeapBytes() > 0);
        try (Trainer t = Trainer.resume(run, Progress.silent())) {
            assertEquals(60, t.step(), "resuming a finished run finds it finished");
            assertBitIdentical(t.parameters(), finalWeights(run), "the final model is the last checkpoint's");
        }
        BufferedImage png = ImageIO.read(run.resolve(LossPlot.FILE).toFile());
        assertNotNull(png, "loss.png is a PNG");
        assertEquals(900, png.getWidth());
        assertTrue(Files.isRegularFile(run.resolve(Trainer.BEST_DIR).resolve(ModelDirectory.WEIGHTS_FILE)), "keep-best wrote best/");
        assertEquals(c, TrainConfig.fromJson(Files.readString(run.resolve(Trainer.RUN_FILE))), "run.json round-trips");
        // checkpoints every tenth of the run (6 steps), the newest two kept
        assertEquals(List.of("step-0000000060.ckpt", "step-0000000054.ckpt"),
                new Checkpoint.Store(run).list().stream().map(p -> p.getFileName().toString()).toList());
    }

    static double avg(double[] a, int from, int to) {
        double s = 0;
        for (int i = from; i < to; i++) s += a[i];
        return s / (to - from);
    }

    @ParameterizedTest
    @EnumSource(TrainConfig.Sampling.class)
    void anInterruptedRunResumesBitIdentically(TrainConfig.Sampling sampling) throws IOException {
        Path data = Fixtures.preparedData(dir, 60, 0.1);
        Path straight = dir.resolve("straight"), broken = dir.resolve("broken");
        runStraight(small(data, straight, sampling));

        try (Trainer t = Trainer.start(small(data, broken, sampling), Progress.silent())) {
            Trainer.Result r = t.run(8);   // "killed" after step 8: the last checkpoint is step 6
            assertFalse(r.finished());
            assertEquals(8, r.step());
        }
        assertEquals(8, metricLines(broken, "train").size());
        try (Trainer t = Trainer.resume(broken, Progress.silent())) {
            assertEquals(6, t.step());
            Trainer.Result r = t.run();
            assertEquals(6, r.losses().length, "steps 7 to 12 again");
            assertTrue(r.finished());
        }
        assertSameMetrics(straight, broken);
        assertBitIdentical(finalWeights(straight), finalWeights(broken), "final weights");
        assertCsvMatchesJsonl(broken);
        assertEquals(Files.readString(straight.resolve(Metrics.CSV_FILE)).lines().count(), Files.readString(broken.resolve(Metrics.CSV_FILE)).lines().count(),
                "the resumed run's metrics.csv dropped the rows past its checkpoint, as metrics.jsonl");
    }

    /** metrics.csv holds metrics.jsonl's rows in order, under its header, with the same numbers. */
    static void assertCsvMatchesJsonl(Path run) throws IOException {
        List<String> json = Files.readAllLines(run.resolve(Metrics.FILE)), csv = Files.readAllLines(run.resolve(Metrics.CSV_FILE));
        assertEquals(Metrics.CSV_HEADER, csv.getFirst());
        assertEquals(json.size() + 1, csv.size(), "one CSV row per JSONL line");
        for (int i = 0; i < json.size(); i++) {
            com.fasterxml.jackson.databind.JsonNode n = Json.parseObject(json.get(i));
            String[] cells = csv.get(i + 1).split(",", -1);
            assertEquals(Metrics.CSV_COLUMNS.size(), cells.length, csv.get(i + 1));
            for (int c = 0; c < cells.length; c++) {
                com.fasterxml.jackson.databind.JsonNode v = n.get(Metrics.CSV_COLUMNS.get(c));
                if (v == null || v.isNull()) assertEquals("", cells[c], "row " + i + " " + Metrics.CSV_COLUMNS.get(c));
                else if (v.isNumber()) assertEquals(v.doubleValue(), Double.parseDouble(cells[c]), 0, "row " + i + " " + Metrics.CSV_COLUMNS.get(c));
                else assertEquals(v.textValue(), cells[c]);
            }
        }
    }

    @Test void aCorruptedCheckpointIsRefusedAndTheOneBeforeItUsed() throws IOException {
        Path data = Fixtures.preparedData(dir, 60, 0.1);
        Path straight = dir.resolve("straight"), broken = dir.resolve("broken");
        runStraight(small(data, straight, TrainConfig.Sampling.ORDERED));
        try (Trainer t = Trainer.start(small(data, broken, TrainConfig.Sampling.ORDERED), Progress.silent())) {
            t.run(8);
        }
        Checkpoint.Store store = new Checkpoint.Store(broken);
        Path newest = store.fileFor(6);
        byte[] b = Files.readAllBytes(newest);
        b[b.length / 2] ^= 1;
        Files.write(newest, b);

        ByteArrayOutputStream log = new ByteArrayOutputStream();
        try (Trainer t = Trainer.resume(broken, new Progress(new PrintWriter(log, true, StandardCharsets.UTF_8), false))) {
            assertEquals(3, t.step(), "the previous good checkpoint");
            t.run();
        }
        String said = log.toString(StandardCharsets.UTF_8);
        assertTrue(said.contains("refusing checkpoint " + newest) && said.contains("checksum mismatch"), said);
        assertSameMetrics(straight, broken);
        assertBitIdentical(finalWeights(straight), finalWeights(broken), "final weights after falling back");

        // with every checkpoint bad, resuming fails and says why
        for (Path p : store.list()) Files.write(p, new byte[] {1, 2, 3});
        FormatException e = assertThrows(FormatException.class, () -> Trainer.resume(broken, Progress.silent()));
        assertTrue(e.getMessage().contains("no usable checkpoint") && e.getMessage().contains("truncated"), e.getMessage());
    }

    @Test void runsAreNotOverwrittenOrMixed() throws IOException {
        Path data = Fixtures.preparedData(dir, 40, 0.1);
        Path run = dir.resolve("run");
        TrainConfig c = small(data, run, TrainConfig.Sampling.ORDERED).withLength(1, 3);
        runStraight(c);
        IOException e = assertThrows(IOException.class, () -> Trainer.start(c, Progress.silent()));
        assertTrue(e.getMessage().contains("--resume"), e.getMessage());
        // a checkpoint of another run is refused
        Path other = dir.resolve("other");
        runStraight(c.withRunDir(other).withSeed(7));
        Files.copy(new Checkpoint.Store(other).fileFor(3), new Checkpoint.Store(run).fileFor(3), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        e = assertThrows(IOException.class, () -> Trainer.resume(run, Progress.silent()));
        assertTrue(e.getMessage().contains("belongs to a run other than"), e.getMessage());
        assertThrows(java.nio.file.NoSuchFileException.class, () -> Trainer.resume(dir.resolve("nothing"), Progress.silent()));
        // checkpoints without a run.json are another run's leftovers, not to be pruned by a new run
        Files.delete(run.resolve(Trainer.RUN_FILE));
        e = assertThrows(IOException.class, () -> Trainer.start(c, Progress.silent()));
        assertTrue(e.getMessage().contains("holds checkpoints but no run.json"), e.getMessage());
    }

    @Test void badConfigurationsAreRefusedBeforeTraining() throws IOException {
        Path data = Fixtures.preparedData(dir, 20, 0.1);
        TrainConfig c = small(data, dir.resolve("run"), TrainConfig.Sampling.ORDERED);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Trainer.start(c.withBatch(4096, 8, 1), Progress.silent()));
        assertTrue(e.getMessage().contains("fewer than one optimizer step"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Trainer.start(
                TrainConfig.pretrain(data, Fixtures.tinyModel().withVocabSize(200), null, dir.resolve("r2")), Progress.silent()));
        assertTrue(e.getMessage().contains("more than the model's vocab_size 200"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> c.withBatch(0, 1, 1));
        assertThrows(IllegalArgumentException.class, () -> c.withRecipe(TrainConfig.Recipe.PRETRAIN.withLr(0)));
        assertThrows(IllegalArgumentException.class, () -> c.withRecipe(TrainConfig.Recipe.PRETRAIN.withWarmupFraction(1)));
        assertThrows(IllegalArgumentException.class, () -> c.withCheckpoints(1, 0, false));
        assertThrows(IllegalArgumentException.class, () -> TrainConfig.fromJson(c.toJson().replace("\"seq_len\"", "\"seq_length\"")));
    }

    /**
     * Prompts of random letters (unlearnable) then ":", responses always "ok": with the prompt masked, everything
     * counted is learnable and the loss goes to nearly 0; counting the prompt would keep it near ln(26) x 20 / 23 = 2.8.
     */
    @Test void fineTuningLearnsOnlyTheResponses() throws IOException {
        Path pairs = dir.resolve("pairs.jsonl");
        SplittableRandom r = new SplittableRandom(11);
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < 64; i++) {
            StringBuilder p = new StringBuilder();
            for (int k = 0; k < 20; k++) p.append((char) ('a' + r.nextInt(26)));
            b.append("{\"prompt\": \"").append(p).append(":\", \"response\": \"ok\"}\n");
        }
        Files.writeString(pairs, b.toString());
        // start from a (briefly) pre-trained model directory, as --init-from does
        Path data = Fixtures.preparedData(dir, 40, 0.1);
        runStraight(small(data, dir.resolve("pre"), TrainConfig.Sampling.ORDERED).withLength(1, 2));
        Path base = dir.resolve("pre").resolve(Trainer.MODEL_DIR);

        Path run = dir.resolve("sft");
        TrainConfig c = TrainConfig.sft(pairs, "byte", Fixtures.tinyModel(), base, run).withBatch(24, 8, 1).withLength(1, 80)
                .withRecipe(TrainConfig.Recipe.SFT.withLr(1e-2)).withEvaluation(40, 10_000).withValFraction(0.1);
        Trainer.Result res = runStraight(c);
        assertTrue(res.finished());
        assertTrue(res.lastLoss() < 0.1, "response-only loss: " + res.lastLoss());
        assertTrue(res.valLoss() < 0.1, "held-out pairs: " + res.valLoss());
        assertEquals(2, metricLines(run, "val").size());
        assertEquals(7, (int) Math.ceil(0.1 * 64), "validation pairs held out");
    }
}

package rat4j.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rat4j.kernel.Compute;
import rat4j.kernel.Kernels;
import rat4j.model.io.ConfigJson;
import rat4j.model.io.ModelDirectory;
import rat4j.model.io.Safetensors;
import rat4j.model.io.Safetensors.TensorData;
import rat4j.model.io.SafetensorsFile;

import rat4j.tokenizer.Tokenizer;
import rat4j.tokenizer.Tokenizers;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TrainCommandTest {
    @TempDir Path dir;

    record Result(int rc, String out, String err) {
        String error(int expectedRc) {
            assertEquals(expectedRc, rc, "exit code; stderr: " + err);
            String last = err.strip().lines().reduce((a, b) -> b).orElse("");
            assertTrue(last.startsWith("rat4j: error: "), err);
            return last.substring("rat4j: error: ".length());
        }
    }

    static Result run(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int rc = Main.execute(new PrintWriter(out), new PrintWriter(err), false, args);
        return new Result(rc, out.toString(), err.toString());
    }

    Path text() throws IOException {
        Path t = Files.createDirectories(dir.resolve("text"));
        for (int i = 0; i < 12; i++) Files.writeString(t.resolve("d" + i + ".txt"), ("document " + i + ": the quick brown fox jumps over the lazy dog. ").repeat(3));
        return t;
    }

    @Test void prepareThenTrainThenScoreTheModel() throws IOException {
        Result p = run("prepare", "--input", text().toString(), "--out", dir.resolve("data").toString(), "--val-fraction", "0.1");
        assertEquals(0, p.rc(), p.err());
        assertTrue(p.out().startsWith("rat4j: wrote " + dir.resolve("data") + ": 12 documents (10 train, 2 validation)"), p.out());

        Path config = Files.writeString(dir.resolve("tiny.json"), ConfigJson.toJson(rat4j.model.Presets.get("rat-tiny").withVocabSize(258).withNumLayers(1)));
        Path run = dir.resolve("run");
        Result t = run("train", "--data", dir.resolve("data").toString(), "--model-config", config.toString(), "--out", run.toString(),
                "--seq-len", "16", "--batch-size", "2", "--max-steps", "4", "--eval-every", "2", "--val-tokens", "64");
        assertEquals(0, t.rc(), t.err());
        assertTrue(t.out().startsWith("rat4j: trained to step 4 of 4 (128 tokens)"), t.out());
        assertTrue(t.out().contains("tokens/s") && t.out().contains("peak heap") && t.out().contains("validation loss"), t.out());
        assertTrue(t.err().contains("validation loss"), t.err());
        assertEquals(258, ModelDirectory.load(run.resolve("model")).config().vocabSize());
        assertEquals("byte", ModelDirectory.tokenizer(run.resolve("model")), "the byte data's tokenizer is stored with the model");
        // the trained model serves 'score'
        Path batch = dir.resolve("batch.safetensors"), scored = dir.resolve("scored.safetensors");
        Safetensors.write(batch, Map.of("input_ids", TensorData.i64(new long[] {'t', 'h', 'e', ' '}, new int[] {1, 4}),
                "labels", TensorData.i64(new long[] {'h', 'e', ' ', 'q'}, new int[] {1, 4})), Map.of());
        Result s = run("score", "--model", run.resolve("model").toString(), "--input", batch.toString(), "--out", scored.toString());
        assertEquals(0, s.rc(), s.err());
        try (SafetensorsFile f = SafetensorsFile.open(scored)) {
            float loss = f.readFloats("loss")[0];
            assertTrue(loss > 0 && loss < Math.log(258) + 1, "a finite loss from the trained model: " + loss);
        }

        Result again = run("train", "--out", run.toString(), "--resume");
        assertEquals(0, again.rc(), again.err());
        assertTrue(again.out().startsWith("rat4j: trained to step 4 of 4"), again.out());
    }

    /** The compute mode is part of the run: run.json keeps it and --resume goes on in it (and takes no other). */
    @Test void aBf16RunResumesInBf16() throws IOException {
        Result p = run("prepare", "--input", text().toString(), "--out", dir.resolve("data").toString(), "--val-fraction", "0.1");
        assertEquals(0, p.rc(), p.err());
        Path run = dir.resolve("run");
        try {
            Result t = run("train", "--data", dir.resolve("data").toString(), "--model-config", "rat-tiny", "--out", run.toString(),
                    "--seq-len", "16", "--batch-size", "2", "--max-steps", "2", "--val-tokens", "32", "--compute", "bf16");
            assertEquals(0, t.rc(), t.err());
            assertTrue(Files.readString(run.resolve("run.json")).contains("\"compute\" : \"bf16\""), "run.json records the mode");

            Kernels.useCompute(Compute.FP32); // a fresh process: the default mode
            assertTrue(run("train", "--out", run.toString(), "--resume", "--compute", "fp32").error(2).contains("drop --compute"));
            Result again = run("train", "--out", run.toString(), "--resume");
            assertEquals(0, again.rc(), again.err());
            assertEquals(Compute.BF16, Kernels.compute(), "the resumed run trains in its own mode");
        } finally {
            Kernels.useCompute(Compute.FP32); // the process-wide default for the other tests
        }
    }

    /** prepare copies the SentencePiece file beside the tokens, train stores it in the model, generate finds it there. */
    @Test void theSentencePieceTokenizerTravelsFromPrepareIntoTheModelDirectory() throws IOException {
        Path spm = dir.resolve("spm.model");
        try (InputStream in = TrainCommandTest.class.getResourceAsStream("/rat4j/tokenizer/tiny-bytes.model")) {
            assertNotNull(in, "test resource rat4j/tokenizer/tiny-bytes.model");
            Files.write(spm, in.readAllBytes());
        }
        Path data = dir.resolve("data");
        Result p = run("prepare", "--input", text().toString(), "--out", data.toString(), "--val-fraction", "0.1", "--tokenizer", spm.toString());
        assertEquals(0, p.rc(), p.err());
        assertArrayEquals(Files.readAllBytes(spm), Files.readAllBytes(data.resolve("tokenizer.model")), "prepare keeps a copy of the tokenizer");
        Files.delete(spm); // the run must not need the original any more

        Path run = dir.resolve("run");
        Result t = run("train", "--data", data.toString(), "--model-config", "rat-tiny", "--out", run.toString(),
                "--seq-len", "16", "--batch-size", "2", "--max-steps", "2", "--val-tokens", "32", "--keep-best");
        assertEquals(0, t.rc(), t.err());
        assertFalse(t.err().contains("warning"), t.err());
        for (String m : new String[] {"model", "best"}) {
            String stored = ModelDirectory.tokenizer(run.resolve(m));
            assertNotNull(stored, m + " holds the tokenizer");
            assertArrayEquals(Files.readAllBytes(data.resolve("tokenizer.model")), Files.readAllBytes(Path.of(stored)), m);
            Tokenizer tok = Tokenizers.open(stored);
            String text = "document 7: the quick brown fox, ünïcödé 12345";
            assertEquals(text, tok.decode(tok.encode(text)), "round trip through " + m + "'s tokenizer");
        }
        Result g = run("generate", "--model", run.resolve("model").toString(), "--prompt", "the quick", "--max-new-tokens", "4", "--greedy", "--ignore-eos");
        assertEquals(0, g.rc(), g.err());
        assertTrue(g.err().startsWith("rat4j: prompt tokens") && g.out().endsWith("\n"), g.err());

        // prepared again with the byte tokenizer, the directory keeps no stale SentencePiece file
        Result again = run("prepare", "--input", text().toString(), "--out", data.toString(), "--val-fraction", "0.1");
        assertEquals(0, again.rc(), again.err());
        assertFalse(Files.exists(data.resolve("tokenizer.model")));
    }

    @Test void dataPreparedWithoutATokenizerCopyTrainsWithAWarning() throws IOException {
        Path spm = dir.resolve("spm.model");
        try (InputStream in = TrainCommandTest.class.getResourceAsStream("/rat4j/tokenizer/tiny-bytes.model")) {
            Files.write(spm, in.readAllBytes());
        }
        Path data = dir.resolve("data");
        assertEquals(0, run("prepare", "--input", text().toString(), "--out", data.toString(), "--val-fraction", "0", "--tokenizer", spm.toString()).rc());
        Files.delete(data.resolve("tokenizer.model")); // as an older rat4j left it
        Path run = dir.resolve("run");
        Result t = run("train", "--data", data.toString(), "--model-config", "rat-tiny", "--out", run.toString(), "--seq-len", "8", "--batch-size", "1", "--max-steps", "1");
        assertEquals(0, t.rc(), t.err());
        assertTrue(t.err().contains("warning: " + data.toAbsolutePath() + " holds no tokenizer.model"), t.err());
        assertNull(ModelDirectory.tokenizer(run.resolve("model")));
    }

    @Test void aPresetTakesTheDataVocabulary() throws IOException {
        run("prepare", "--input", text().toString(), "--out", dir.resolve("data").toString(), "--val-fraction", "0");
        Path run = dir.resolve("run");
        Result t = run("train", "--data", dir.resolve("data").toString(), "--model-config", "rnn-tiny", "--out", run.toString(),
                "--seq-len", "8", "--batch-size", "1", "--max-steps", "1");
        assertEquals(0, t.rc(), t.err());
        assertEquals(258, ModelDirectory.load(run.resolve("model")).config().vocabSize(), "rnn-tiny's 256 ids widened to the byte data's 258");
    }

    @Test void usageErrorsAreOneLine() throws IOException {
        Path data = dir.resolve("data");
        run("prepare", "--input", text().toString(), "--out", data.toString());
        assertTrue(run("train", "--model-config", "rat-tiny", "--out", dir.resolve("r").toString()).error(2).contains("exactly one of --data and --sft"));
        assertTrue(run("train", "--data", data.toString(), "--out", dir.resolve("r").toString()).error(2).contains("exactly one of --model-config and --init-from"));
        assertTrue(run("train", "--data", data.toString(), "--model-config", "nope", "--out", dir.resolve("r").toString()).error(1).contains("neither a preset"));
        assertTrue(run("train", "--out", dir.resolve("r").toString(), "--resume", "--lr", "1e-3").error(2).contains("drop --lr"));
        assertTrue(run("train", "--out", dir.resolve("r").toString(), "--resume").error(1).contains("run.json"));
        assertTrue(run("train", "--data", data.toString(), "--model-config", "rat-tiny", "--out", dir.resolve("r").toString(), "--sampling", "sideways")
                .error(1).contains("ordered or random"));
        assertTrue(run("prepare", "--input", dir.resolve("missing").toString(), "--out", data.toString()).error(1).contains("no such file"));
    }
}

package rat4j.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rat4j.model.Initializer;
import rat4j.model.LayerSpec;
import rat4j.model.ModelConfig;
import rat4j.model.PositionEncoding;
import rat4j.model.io.ModelDirectory;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GenerateCommandTest {
    @TempDir Path dir;

    /** A small RAT model over bytes (vocabulary 258: bytes, BOS, EOS), saved with the byte tokenizer. */
    Path byteModel(String tokenizer) throws IOException {
        ModelConfig c = new ModelConfig(258, 32, 2, 64, LayerSpec.rat(2, 4, 1), null, 2, PositionEncoding.INTERROPE, 10000, true);
        Path m = dir.resolve("m-" + tokenizer);
        ModelDirectory.save(m, c, Initializer.initialize(c, 3), tokenizer.equals("none") ? null : tokenizer);
        return m;
    }

    record Result(int rc, String out, String err) {
        String error(int rcWanted) {
            assertEquals(rcWanted, rc, err);
            assertEquals(1, err.lines().count(), err);
            assertTrue(err.startsWith("rat4j: error: "), err);
            return err.strip().substring("rat4j: error: ".length());
        }
    }

    static Result run(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int rc = Main.execute(new PrintWriter(out), new PrintWriter(err), false, args);
        return new Result(rc, out.toString(), err.toString());
    }

    @Test void generatesStreamsAndSummarises() throws IOException {
        Path m = byteModel("byte");
        Result r = run("generate", "--model", m.toString(), "--prompt", "Hello", "--max-new-tokens", "12", "--greedy", "--ignore-eos");
        assertEquals(0, r.rc(), r.err());
        assertTrue(r.out().endsWith("\n"), r.out());
        assertTrue(r.err().matches("(?s)rat4j: prompt tokens 6, generated tokens 12, prefill [0-9.]+ tokens/s, decode [0-9.]+ tokens/s, cache [0-9.]+ KiB \\(fp32 weights\\)\\n"), r.err());
        Result again = run("generate", "--model", m.toString(), "--prompt", "Hello", "--max-new-tokens", "12", "--temperature", "0", "--ignore-eos");
        assertEquals(r.out(), again.out(), "temperature 0 is greedy");

        Result two = run("generate", "--model", m.toString(), "--prompt", "Hi", "--prompt", "Hello there", "--max-new-tokens", "5",
                "--temperature", "0.7", "--top-k", "40", "--top-p", "0.9", "--repetition-penalty", "1.2", "--seed", "3", "--weights", "bf16");
        assertEquals(0, two.rc(), two.err());
        assertEquals(2, two.out().lines().count(), two.out());
        assertTrue(two.out().startsWith("[1] ") && two.out().contains("\n[2] "), two.out());
        assertTrue(two.err().contains("prompt tokens 15,") && two.err().endsWith("(bf16 weights)\n"), two.err());
    }

    @Test void theTokenizerComesFromTheDirectoryOrTheCommandLine() throws IOException {
        Path bare = byteModel("none");
        assertEquals(bare + " holds no tokenizer; give --tokenizer byte or --tokenizer FILE (a SentencePiece tokenizer.model) (see 'rat4j generate --help')",
                run("generate", "--model", bare.toString(), "--prompt", "x").error(2));
        Result r = run("generate", "--model", bare.toString(), "--tokenizer", "byte", "--prompt", "x", "--max-new-tokens", "3");
        assertEquals(0, r.rc(), r.err());
    }

    @Test void badArgumentsAreOneLine() throws IOException {
        Path m = byteModel("byte");
        String model = m.toString();
        assertEquals("top-p must lie in (0, 1], got 1.5 (see 'rat4j generate --help')", run("generate", "--model", model, "--top-p", "1.5", "--prompt", "x").error(2));
        assertEquals("unknown weight format 'fp16' (expected fp32 or bf16) (see 'rat4j generate --help')",
                run("generate", "--model", model, "--weights", "fp16", "--prompt", "x").error(2));
        assertEquals("max new tokens must be >= 1, got 0 (see 'rat4j generate --help')", run("generate", "--model", model, "--max-new-tokens", "0", "--prompt", "x").error(2));
        assertEquals("a stop string must not be empty (see 'rat4j generate --help')", run("generate", "--model", model, "--stop", "", "--prompt", "x").error(2));
        assertTrue(run("generate", "--model", model, "--temperature", "hot").error(2).startsWith("Invalid value for option '--temperature'"));
        assertTrue(run("generate", "--prompt", "x").error(2).startsWith("Missing required option: '--model=DIR'"));
        assertEquals(dir.resolve("nomodel") + ": no model directory there",
                run("generate", "--model", dir.resolve("nomodel").toString(), "--tokenizer", "byte", "--prompt", "x").error(1));
        assertTrue(run("bench").error(2).startsWith("missing subcommand: one of layer, model, decode, bf16"));
        assertTrue(run("bench", "decode", "--preset", "rat-tiny", "--model", model).error(2).contains("mutually exclusive"));
        assertTrue(run("bench", "decode", "--preset", "rat-huge").error(2).startsWith("unknown preset 'rat-huge'"));
        assertEquals("--context, --batch, --tokens and --rounds must be >= 1 (see 'rat4j bench decode --help')",
                run("bench", "decode", "--preset", "rat-tiny", "--batch", "0").error(2));
        assertEquals("this command takes one model (see 'rat4j bench bf16 --help')",
                run("bench", "bf16", "--preset", "rat-tiny,rat-tiny", "--tokenizer", "byte", "--text", "README.md").error(2));
    }

    @Test void decodeBenchAlternatesModelsAndReportsTheMedianRatio() {
        Result r = run("bench", "decode", "--preset", "rat-tiny,attention-tiny", "--context", "40", "--batch", "2", "--tokens", "2", "--rounds", "3");
        assertEquals(0, r.rc(), r.err());
        String out = r.out();
        assertEquals(3, out.lines().filter(l -> l.matches("round [123]: rat-tiny [0-9.]+ attention-tiny [0-9.]+ tokens/s")).count(), out);
        assertTrue(out.contains("\nrat-tiny (median round): decode ") && out.contains("\nattention-tiny (median round): decode "), out);
        assertTrue(out.matches("(?s).*\nrat-tiny over attention-tiny: [0-9.]+x tokens/s \\(median of 3 rounds: [0-9.]+, [0-9.]+, [0-9.]+\\)\n"), out);
    }

    @Test void bf16PerplexityIsReported() throws IOException {
        Path m = byteModel("byte");
        Path text = dir.resolve("t.txt");
        Files.writeString(text, "The quick brown fox jumps over the lazy dog. ".repeat(4));
        Result r = run("bench", "bf16", "--model", m.toString(), "--text", text.toString(), "--seq-len", "64");
        assertEquals(0, r.rc(), r.err());
        assertTrue(r.out().matches("model .*, 180 tokens of t.txt: perplexity fp32 [0-9.]+, bf16 [0-9.]+, change [-+][0-9.]+%\\n"), r.out());
    }
}

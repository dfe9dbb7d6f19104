package rat4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rat4j.kernel.Compute;
import rat4j.kernel.Gemm;
import rat4j.kernel.Kernels;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BenchCommandTest {
    @TempDir Path dir;

    record Result(int rc, String out, String err) {}

    static Result run(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int rc = Main.execute(new PrintWriter(out), new PrintWriter(err), false, args);
        return new Result(rc, out.toString(), err.toString());
    }

    @Test void sizesTakeAKSuffix() {
        assertEquals(4096, BenchCommand.parseSize("4K", "--x"));
        assertEquals(16384, BenchCommand.parseSize("16k", "--x"));
        assertEquals(1000, BenchCommand.parseSize(" 1000 ", "--x"));
        assertEquals("--lengths: '0' must be >= 1", assertThrows(IllegalArgumentException.class, () -> BenchCommand.parseSize("0", "--lengths")).getMessage());
        assertEquals("--lengths: '4M' is not a size (e.g. 4096 or 4K)",
                assertThrows(IllegalArgumentException.class, () -> BenchCommand.parseSize("4M", "--lengths")).getMessage());
        assertEquals("--lengths: '9999999K' is not a size (e.g. 4096 or 4K)",
                assertThrows(IllegalArgumentException.class, () -> BenchCommand.parseSize("9999999K", "--lengths")).getMessage());
        assertEquals(List.of(1, 2), BenchCommand.parseList("1,2", "--x", Integer::parseInt));
        assertEquals("--kinds: empty item in 'rat-16,,rnn'",
                assertThrows(IllegalArgumentException.class, () -> BenchCommand.parseList("rat-16,,rnn", "--kinds", x -> x)).getMessage());
    }

    @Test void usageErrorsAreOneLine() {
        Result r = run("bench");
        assertEquals(2, r.rc());
        assertEquals("rat4j: error: missing subcommand: one of layer, model, decode, bf16, train (see 'rat4j bench --help')", r.err().strip());
        r = run("bench", "layer", "--kinds", "attention,mamba");
        assertEquals(2, r.rc());
        assertEquals("rat4j: error: --kinds: unknown layer 'mamba' (expected attention, rat-L, rnn or window-W) (see 'rat4j bench layer --help')", r.err().strip());
        r = run("bench", "layer", "--d-model", "100", "--heads", "3");
        assertEquals("rat4j: error: heads must divide d_model 100, got 3 (see 'rat4j bench layer --help')", r.err().strip());
        r = run("bench", "model", "--models", "rat,gpt");
        assertEquals(2, r.rc());
        assertTrue(r.err().startsWith("rat4j: error: unknown model 'gpt' (known: attention, rat,"), r.err());
        r = run("bench", "model", "--memory-gib", "0");
        assertEquals("rat4j: error: --memory-gib must be > 0, got 0.0 (see 'rat4j bench model --help')", r.err().strip());
    }

    @Test void computeModesRunSideBySideAndBadOnesAreOneLine() {
        Result r = run("bench", "layer", "--quick", "--compute", "fp32,fp16");
        assertEquals(2, r.rc());
        assertEquals("rat4j: error: --compute: unknown compute mode 'fp16' (known: fp32, bf16) (see 'rat4j bench layer --help')", r.err().strip());
        r = run("train", "--data", dir.resolve("data").toString(), "--model-config", "rat-tiny", "--out", dir.resolve("run").toString(), "--compute", "int8");
        assertEquals(2, r.rc());
        assertEquals("rat4j: error: unknown compute mode 'int8' (known: fp32, bf16), from --compute (see 'rat4j train --help')", r.err().strip());

        Gemm gemm = Kernels.gemm();
        Compute mode = Kernels.compute();
        try {
            r = run("bench", "layer", "--quick", "--kinds", "rat-16", "--phases", "train", "--lengths", "32",
                    "--d-model", "32", "--heads", "2", "--tokens-per-batch", "64", "--reps", "1", "--compute", "fp32,bf16");
            assertEquals(0, r.rc(), r.err());
            assertTrue(r.out().contains("compute fp32:") && r.out().contains("compute bf16:"), r.out());
            assertTrue(r.out().matches("(?s).*rat-16 train T=32: fp32 [0-9.]+ ms, bf16 [0-9.]+ ms: [0-9.]+x.*"), r.out());
        } finally {
            Kernels.useCompute(mode); // the CLI switched the process's GEMM; the other tests expect the default
            Kernels.useGemm(gemm);
        }
    }

    /** The defaults the help states are the library's. */
    @Test void helpStatesTheDefaults() {
        Result r = run("bench", "layer", "--help");
        assertEquals(0, r.rc());
        String help = r.out().replaceAll("\\s+", " ");
        rat4j.bench.LayerBench.Options p = rat4j.bench.LayerBench.Options.paper();
        assertTrue(help.contains("at most (default " + p.sampler().reps() + ")"), help);
        assertTrue(help.contains("are done (default " + p.sampler().budgetSeconds() + ")"), help);
        assertTrue(help.contains("at least (default " + p.sampler().minReps() + ")"), help);
        assertTrue(help.contains("measurement (default " + p.sampler().warmup() + ";"), help);
        assertTrue(help.contains("model width (default " + p.dModel() + ")"), help);
        assertTrue(help.contains("attention heads (default " + p.heads() + ")"), help);
        rat4j.bench.ModelBench.Options m = rat4j.bench.ModelBench.Options.paper();
        help = run("bench", "model", "--help").out().replaceAll("\\s+", " ");
        assertTrue(help.contains("blocks (default " + m.layers() + ")"), help);
        assertTrue(help.contains("largest batch tried (default " + m.maxBatch() + ")"), help);
        assertTrue(help.contains("(default " + m.samples() + ")"), help);
        assertTrue(help.contains("model width (default " + m.dModel() + ")"), help);
    }

    @Test void layerWritesTheTableTheJsonAndTheFigure() throws Exception {
        Path out = dir.resolve("run");
        Result r = run("bench", "layer", "--quick", "--d-model", "16", "--heads", "2", "--lengths", "8,16", "--kinds", "attention,rat-4",
                "--tokens-per-batch", "32", "--gen-tokens", "64", "--reps", "2", "--budget", "0.001", "--out", out.toString());
        assertEquals(0, r.rc(), r.err());
        assertTrue(r.out().startsWith("rat4j bench layer: d_model 16, 2 heads of 8; batch x T = 32 (train, prefill), 64 (generate)"), r.out());
        assertTrue(r.out().contains("rat4j: wrote " + out.resolve("results.json") + ", " + out.resolve("figure.png")), r.out());
        assertTrue(r.err().contains("bench: [ 16/16] rat-4"), r.err());
        JsonNode json = new ObjectMapper().readTree(out.resolve("results.json").toFile());
        assertEquals(16, json.get("rows").size());
        assertEquals(2, json.get("options").get("reps").asInt());
        assertTrue(Files.size(out.resolve("figure.png")) > 1000);
    }

    @Test void modelWritesTheTableAndTheJson() throws Exception {
        Path out = dir.resolve("m");
        Result r = run("bench", "model", "--quick", "--models", "rat,attention", "--d-model", "16", "--heads", "2", "--layers", "1",
                "--vocab", "20", "--prompt", "16", "--generate", "4", "--samples", "2", "--memory-gib", "0.001", "--out", out.toString());
        assertEquals(0, r.rc(), r.err());
        assertTrue(r.out().contains("prompt 16, then 4 generated tokens (2 steps timed)"), r.out());
        JsonNode json = new ObjectMapper().readTree(out.resolve("results.json").toFile());
        assertEquals(List.of("rat", "attention"), List.of(json.get("rows").get(0).get("model").asText(), json.get("rows").get(1).get("model").asText()));
    }

    @Test void trainWritesTheTableAndTheJson() throws Exception {
        Path out = dir.resolve("t");
        Result r = run("bench", "train", "--preset", "rat-tiny", "--preset", "attention-tiny", "--lengths", "16,32", "--tokens-per-step", "64",
                "--warmup", "1", "--steps", "2", "--out", out.toString());
        assertEquals(0, r.rc(), r.err());
        assertTrue(r.out().startsWith("rat4j bench train: full training steps (forward, backward, clip, AdamW) on random tokens, 64 tokens per step"), r.out());
        assertTrue(r.err().contains("bench train: attention-tiny at T = 32, B = 2 ..."), r.err());
        assertEquals(4 + 4 + 1, r.out().lines().count(), "header, legend, blank, column names, one line per row, the 'wrote' line: " + r.out());
        JsonNode json = new ObjectMapper().readTree(out.resolve("results.json").toFile());
        assertEquals("train", json.get("benchmark").asText());
        assertEquals(64, json.get("options").get("tokens_per_step").asInt());
        JsonNode rows = json.get("rows");
        assertEquals(4, rows.size());
        String[][] want = {{"rat-tiny", "16"}, {"rat-tiny", "32"}, {"attention-tiny", "16"}, {"attention-tiny", "32"}};
        for (int i = 0; i < 4; i++) {
            JsonNode row = rows.get(i);
            assertEquals(want[i][0], row.get("model").asText());
            int t = Integer.parseInt(want[i][1]);
            assertEquals(t, row.get("seq_len").asInt());
            assertEquals(64 / t, row.get("batch").asInt());
            assertEquals(2, row.get("step_samples_ms").size(), "timed steps");
            assertEquals(3, row.get("losses").size(), "warm-up and timed steps");
            double loss0 = row.get("losses").get(0).asDouble();
            assertTrue(Math.abs(loss0 - Math.log(256)) < 1.0, "random tokens start near ln V = " + Math.log(256) + ": " + loss0);
            long p = row.get("parameters").asLong();
            assertEquals(rat4j.model.ParameterLayout.of(rat4j.model.Presets.get(want[i][0])).totalSize(), p);
            assertEquals(4 * p, row.get("parameter_bytes").asLong());
            assertEquals(8 * p, row.get("optimizer_bytes").asLong());
            assertTrue(row.get("tokens_per_second").asDouble() > 0);
            assertTrue(row.get("activation_bytes").asLong() >= 0);
            assertTrue(row.get("peak_heap_bytes").asLong() > 16 * p, "the peak holds parameters, gradients and moments at least");
        }
    }

    @Test void trainUsageErrorsAreOneLine() {
        Result r = run("bench", "train", "--lengths", "3000", "--tokens-per-step", "8K");
        assertEquals(2, r.rc());
        assertEquals("rat4j: error: sequence length 3000 does not divide the 8192 tokens of a step; choose lengths that do (see 'rat4j bench train --help')", r.err().strip());
        r = run("bench", "train", "--steps", "0");
        assertEquals(2, r.rc());
        assertTrue(r.err().contains("timed steps must be >= 1, got 0"), r.err());
    }

    @Test void trainHelpStatesTheDefaults() {
        String help = run("bench", "train", "--help").out().replaceAll("\\s+", " ");
        rat4j.bench.TrainBench.Options d = rat4j.bench.TrainBench.Options.defaults();
        assertEquals(List.of("rat-small"), d.presets());
        assertEquals(List.of(512, 1024, 2048, 4096), d.lengths());
        assertEquals(8192, d.tokensPerStep());
        assertTrue(help.contains("(default 512,1K,2K,4K)") && help.contains("(default 8K)"), help);
        assertTrue(help.contains("untimed steps first (default " + d.warmup() + ")") && help.contains("timed steps (default " + d.steps() + ")"), help);
    }
}

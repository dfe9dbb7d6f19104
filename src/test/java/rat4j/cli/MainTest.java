package rat4j.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rat4j.model.ParameterLayout;
import rat4j.model.Presets;
import rat4j.model.io.ConfigJson;
import rat4j.model.io.Goldens;
import rat4j.model.io.ModelDirectory;
import rat4j.model.io.Safetensors;
import rat4j.model.io.Safetensors.TensorData;
import rat4j.model.io.SafetensorsFile;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.List;
import java.nio.file.AccessDeniedException;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MainTest {
    @TempDir Path dir;

    record Result(int rc, String out, String err) {
        /** Asserts a failure reported as exactly one "rat4j: error:" line, and returns the message after the prefix. */
        String error(int expectedRc) {
            assertEquals(expectedRc, rc, "exit code; stderr: " + err);
            assertTrue(err.startsWith("rat4j: error: "), err);
            assertEquals(1, err.lines().count(), "one line: " + err);
            return err.strip().substring("rat4j: error: ".length());
        }
    }

    private static Result run(boolean debug, String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int rc = Main.execute(new PrintWriter(out), new PrintWriter(err), debug, args);
        return new Result(rc, out.toString(), err.toString());
    }

    private static Result run(String... args) {
        return run(false, args);
    }

    private Path referenceConfig(String goldenCase) throws IOException {
        Path f = dir.resolve(goldenCase + ".config.json");
        Files.writeString(f, Goldens.json(goldenCase).get("official_hydra_equivalent").toString());
        return f;
    }

    private Path importGolden(String c) throws IOException {
        Path out = dir.resolve(c);
        Result r = run("import", "--weights", Goldens.params(c).toString(), "--reference-config", referenceConfig(c).toString(), "--out", out.toString());
        assertEquals(0, r.rc(), r.err());
        assertTrue(r.out().startsWith("rat4j: wrote " + out), r.out());
        return out;
    }

    @Test void importOfEveryGoldenCaseLoadsBackBitIdentical() throws IOException {
        for (String c : Goldens.cases()) {
            Path out = importGolden(c);
            ModelDirectory.Model m = ModelDirectory.load(out);
            assertEquals(Goldens.oracleConfig(c), m.config(), c);
            ParameterLayout layout = ParameterLayout.of(m.config());
            try (SafetensorsFile golden = SafetensorsFile.open(Goldens.params(c));
                 SafetensorsFile written = SafetensorsFile.open(out.resolve(ModelDirectory.WEIGHTS_FILE))) {
                assertEquals(golden.names(), written.names(), c + ": the same state_dict names, tied head included");
                for (ParameterLayout.Entry e : layout.entries()) {
                    float[] want = golden.readFloats(e.name());
                    for (int i = 0; i < want.length; i++) {
                        if (Float.floatToRawIntBits(want[i]) != Float.floatToRawIntBits(m.parameters()[e.offset() + i])) {
                            throw new AssertionError(c + " " + e.name() + "[" + i + "]");
                        }
                    }
                }
                for (String n : golden.names()) {
                    assertArrayEquals(golden.readFloats(n), written.readFloats(n), c + " " + n);
                }
            }
        }
    }

    @Test void importRefusesToOverwriteWithoutForce() throws IOException {
        Path out = importGolden("rnn_L2_T32");
        Result r = run("import", "--weights", Goldens.params("rat_c4_L2_T32").toString(), "--reference-config", referenceConfig("rat_c4_L2_T32").toString(),
                "--out", out.toString());
        assertEquals(out + " already exists (--force replaces a model directory)", r.error(1));
        assertEquals(Goldens.oracleConfig("rnn_L2_T32"), ModelDirectory.load(out).config());
        r = run("import", "--weights", Goldens.params("rat_c4_L2_T32").toString(), "--reference-config", referenceConfig("rat_c4_L2_T32").toString(),
                "--out", out.toString(), "--force");
        assertEquals(0, r.rc(), r.err());
        assertEquals(Goldens.oracleConfig("rat_c4_L2_T32"), ModelDirectory.load(out).config());
    }

    @Test void importErrorsAreOneLineAndDebugAddsTheTrace() throws IOException {
        // The weights of one case with the config of another: every mismatch named at once.
        String[] args = {"import", "--weights", Goldens.params("attention_L2_T32").toString(), "--reference-config", referenceConfig("rnn_L2_T32").toString(),
                "--out", dir.resolve("x").toString()};
        String m = run(args).error(1);
        assertEquals(Goldens.params("attention_L2_T32") + ": missing backbone.layers.0.seq_layer.gate_bias, backbone.layers.1.seq_layer.gate_bias", m);
        m = run("import", "--weights", Goldens.params("rat_c4_L2_T32").toString(), "--reference-config", referenceConfig("local_w8_L2_T32").toString(),
                "--out", dir.resolve("x").toString()).error(1);
        assertEquals(Goldens.params("rat_c4_L2_T32") + ": unexpected backbone.layers.0.seq_layer.gate_bias, backbone.layers.1.seq_layer.gate_bias;"
                + " backbone.layers.0.seq_layer.in_proj.weight has shape [256, 64], config needs [192, 64];"
                + " backbone.layers.1.seq_layer.in_proj.weight has shape [256, 64], config needs [192, 64]", m);
        assertFalse(Files.exists(dir.resolve("x")));
        Result debug = run(true, args);
        assertEquals(1, debug.rc());
        assertTrue(debug.err().contains("\tat rat4j.model.io.ModelDirectory.readParameters"), debug.err());

        Path bad = dir.resolve("bad.json");
        Files.writeString(bad, Files.readString(referenceConfig("rnn_L2_T32")).replace("\"act_fn\":\"gelu\"", "\"act_fn\":\"relu\""));
        assertEquals(bad + ": model.backbone.hidden_cell.act_fn is 'relu'; rat4j implements only 'gelu'",
                run("import", "--weights", Goldens.params("rnn_L2_T32").toString(), "--reference-config", bad.toString(), "--out", dir.resolve("y").toString()).error(1));
        assertEquals(dir.resolve("none.safetensors") + ": no such file or directory",
                run("import", "--weights", dir.resolve("none.safetensors").toString(), "--reference-config", referenceConfig("rnn_L2_T32").toString(),
                        "--out", dir.resolve("z").toString()).error(1));
    }

    @Test void usageErrorsExitWithTwo() {
        assertEquals("missing command: one of info, import, score, config, tokenize, prepare, train, plot, generate, bench (see 'rat4j --help')", run().error(2));
        assertTrue(run("import", "--weights", "w").error(2).startsWith("Missing required option: '--out=DIR'"));
        assertTrue(run("score", "--model", "m", "--input", "i", "--out", "o", "--bogus").error(2).startsWith("Unknown option: '--bogus'"));
        assertEquals("--preset=NAME, --list are mutually exclusive (specify only one) (see 'rat4j config --help')",
                run("config", "--list", "--preset", "rat-xl").error(2));
        assertTrue(run("config").error(2).startsWith("Missing required argument"));
        assertTrue(run("frobnicate").error(2).startsWith("Unmatched argument at index 0: 'frobnicate'"));
        Result help = run("import", "--help");
        assertEquals(0, help.rc());
        assertTrue(help.out().contains("--reference-config=C.json"));
    }

    @Test void configPrintsPresetsAndListsThem() throws IOException {
        Result r = run("config", "--preset", "rat-tiny");
        assertEquals(0, r.rc(), r.err());
        assertEquals(Presets.get("rat-tiny"), ConfigJson.fromJson(r.out()));
        r = run("config", "--list");
        assertEquals(0, r.rc());
        assertEquals(Presets.names().size(), r.out().lines().count());
        assertTrue(r.out().lines().anyMatch(l -> l.startsWith("rat-xl ") && l.contains("1,298,810,880 parameters")), r.out());
        String m = run("config", "--preset", "rat-huge").error(2);
        assertTrue(m.startsWith("unknown preset 'rat-huge' (known: rat-xl,"), m);
    }

    private Path input(Map<String, TensorData> tensors) throws IOException {
        Path p = dir.resolve("in-" + tensors.hashCode() + ".safetensors");
        Safetensors.write(p, tensors, Map.of());
        return p;
    }

    private String scoreFails(Path model, Map<String, TensorData> tensors) throws IOException {
        Path in = input(tensors);
        Path out = dir.resolve("out.safetensors");
        String m = run("score", "--model", model.toString(), "--input", in.toString(), "--out", out.toString()).error(1);
        assertFalse(Files.exists(out));
        return m.replace(in.toString(), "IN");
    }

    @Test void scoreValidatesItsInputNamingTheProblem() throws IOException {
        Path model = importGolden("rat_c4_L2_T32");
        long[] ids = new long[2 * 5];
        for (int i = 0; i < ids.length; i++) ids[i] = (i * 31) % 97;
        long[] bad = ids.clone();
        bad[7] = 97;
        assertEquals("IN: input_ids[1, 2] = 97 is outside [0, 97) (the model's vocab_size is 97)",
                scoreFails(model, Map.of("input_ids", TensorData.i64(bad, new int[] {2, 5}))));
        bad[7] = -100;
        assertEquals("IN: input_ids[1, 2] = -100 is outside [0, 97) (the model's vocab_size is 97)",
                scoreFails(model, Map.of("input_ids", TensorData.i64(bad, new int[] {2, 5}))));
        long[] labels = ids.clone();
        labels[3] = -5;
        assertEquals("IN: labels[0, 3] = -5 is outside [0, 97) and not -100 (the model's vocab_size is 97)",
                scoreFails(model, Map.of("input_ids", TensorData.i64(ids, new int[] {2, 5}), "labels", TensorData.i64(labels, new int[] {2, 5}))));
        assertEquals("IN: labels has shape [5, 2], input_ids [2, 5]",
                scoreFails(model, Map.of("input_ids", TensorData.i64(ids, new int[] {2, 5}), "labels", TensorData.i64(ids, new int[] {5, 2}))));
        assertEquals("IN: input_ids has shape [10], needs [B, T] with B, T >= 1",
                scoreFails(model, Map.of("input_ids", TensorData.i64(ids, new int[] {10}))));
        assertEquals("IN: input_ids has shape [0, 4], needs [B, T] with B, T >= 1",
                scoreFails(model, Map.of("input_ids", TensorData.i64(new long[0], new int[] {0, 4}))));
        assertEquals("IN: no input_ids tensor", scoreFails(model, Map.of("tokens", TensorData.i64(ids, new int[] {2, 5}))));
        assertEquals("IN: tensor 'input_ids' has dtype F32; reading it as long needs I64 or I32",
                scoreFails(model, Map.of("input_ids", TensorData.f32(new float[10], new int[] {2, 5}))));
        Path in = input(Map.of("input_ids", TensorData.i64(ids, new int[] {2, 5})));
        Path nowhere = dir.resolve("no/such/dir");
        String m = run("score", "--model", model.toString(), "--input", in.toString(), "--out", nowhere.resolve("out.safetensors").toString()).error(1);
        assertEquals(nowhere + ": no such directory to write out.safetensors into", m);
        assertEquals(dir.resolve("nomodel") + ": no model directory there",
                run("score", "--model", dir.resolve("nomodel").toString(), "--input", "x", "--out", "y").error(1));
    }

    /** The whole path on a golden case: import, then score; logits and loss within 1e-4 of the float64 reference. */
    @Test void scoreWritesLogitsAndLoss() throws IOException {
        String c = "rat_c4_L2_T32";
        Path model = importGolden(c);
        Path out = dir.resolve("scores.safetensors");
        Result r = run("score", "--model", model.toString(), "--input", Goldens.io(c).toString(), "--out", out.toString());
        assertEquals(0, r.rc(), r.toString());
        try (SafetensorsFile f = SafetensorsFile.open(out); SafetensorsFile g = SafetensorsFile.open(Goldens.io(c))) {
            assertEquals(List.of("logits", "loss"), f.names());
            assertArrayEquals(g.info("ref64.logits").shape(), f.info("logits").shape());
            assertEquals(0, f.info("loss").shape().length);
            float[] logits = f.readFloats("logits");
            double[] ref = g.readDoubles("ref64.logits");
            for (int i = 0; i < ref.length; i++) assertEquals(ref[i], logits[i], 1e-4 * Math.max(1, Math.abs(ref[i])), "logit " + i);
            assertEquals(g.readDoubles("ref64.loss")[0], f.readFloats("loss")[0], 1e-4);
        }
    }

    @Test void messagesOfFileSystemErrorsSayWhatHappened() {
        assertEquals("a b", Main.message(new IllegalArgumentException("a\n  b")));
        assertEquals("/x: permission denied", Main.message(new AccessDeniedException("/x")));
        assertEquals("NullPointerException", Main.message(new NullPointerException()));
    }
}

package rat4j.model.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rat4j.model.LayerSpec;
import rat4j.model.ModelConfig;
import rat4j.model.ParameterLayout;
import rat4j.model.PositionEncoding;
import rat4j.model.io.Safetensors.TensorData;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ModelDirectoryTest {
    @TempDir Path dir;

    /** Small odd sizes: 2 layers, d_model 24 (3 heads of 8), vocab 37, FFN 40. */
    private static ModelConfig small(boolean tied) {
        return new ModelConfig(37, 24, 2, 40, LayerSpec.rat(3, 4, 3), null, 2, PositionEncoding.INTERROPE, 10000.0, tied);
    }

    private static float[] random(ModelConfig c, long seed) {
        Random r = new Random(seed);
        float[] p = new float[ParameterLayout.of(c).totalSize()];
        for (int i = 0; i < p.length; i++) p[i] = (float) r.nextGaussian();
        return p;
    }

    private static void assertBits(float[] want, float[] got) {
        assertEquals(want.length, got.length);
        for (int i = 0; i < want.length; i++) {
            if (Float.floatToRawIntBits(want[i]) != Float.floatToRawIntBits(got[i])) throw new AssertionError("parameter " + i + ": " + want[i] + " vs " + got[i]);
        }
    }

    private List<String> listing(Path d) throws IOException {
        try (Stream<Path> s = Files.list(d)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test void savesAndLoadsBitIdenticalTiedAndUntied() throws IOException {
        for (boolean tied : new boolean[] {true, false}) {
            ModelConfig c = small(tied);
            float[] p = random(c, 5);
            p[3] = Float.intBitsToFloat(0x7fc00123);   // a NaN with a payload, and a negative zero, survive as bits
            p[4] = -0f;
            Path m = dir.resolve("model-" + tied);
            ModelDirectory.save(m, c, p);
            assertEquals(List.of("config.json", "model.safetensors"), listing(m));
            ModelDirectory.Model back = ModelDirectory.load(m);
            assertEquals(c, back.config());
            assertBits(p, back.parameters());
            try (SafetensorsFile f = SafetensorsFile.open(m.resolve("model.safetensors"))) {
                assertTrue(f.contains(ParameterLayout.LM_HEAD), "the head is written in both cases, for the reference");
                assertEquals(ParameterLayout.of(c).entries().size() + (tied ? 1 : 0), f.names().size());
                if (tied) assertArrayEquals(f.readFloats(ParameterLayout.EMBEDDING), f.readFloats(ParameterLayout.LM_HEAD));
                assertEquals("pt", f.metadata().get("format"));
            }
        }
        assertEquals(List.of("model-false", "model-true"), listing(dir), "no temp directories left");
    }

    private Path weights(Map<String, TensorData> tensors) throws IOException {
        Path d = dir.resolve("m");
        Files.createDirectories(d);
        Files.writeString(d.resolve("config.json"), ConfigJson.toJson(small(true)));
        Safetensors.write(d.resolve("model.safetensors"), tensors, Map.of());
        return d;
    }

    private FormatException loadFails(Path d) {
        FormatException e = assertThrows(FormatException.class, () -> ModelDirectory.load(d));
        assertFalse(e.getMessage().contains("\n"));
        return e;
    }

    @Test void namesEveryMissingUnexpectedAndMisShapedTensorInOneLine() throws IOException {
        ModelConfig c = small(true);
        float[] p = random(c, 1);
        Map<String, TensorData> t = new LinkedHashMap<>(ModelDirectory.stateDict(c, p));
        t.remove("backbone.layers.1.seq_layer.gate_bias");
        t.remove("backbone.layers.0.hidden_layer.fc2.weight");
        t.put("foo.bar", TensorData.f32(new float[3], new int[] {3}));
        t.put("backbone.ln.weight", TensorData.f32(new float[32], new int[] {32}));
        t.put("backbone.layers.0.seq_layer.out_proj.weight", TensorData.i32(new int[24 * 24], new int[] {24, 24}));
        Path d = weights(t);
        assertEquals(d.resolve("model.safetensors") + ": missing backbone.layers.0.hidden_layer.fc2.weight, backbone.layers.1.seq_layer.gate_bias;"
                + " unexpected foo.bar; backbone.layers.0.seq_layer.out_proj.weight has dtype I32, needs F32, BF16 or F16;"
                + " backbone.ln.weight has shape [32], config needs [24]", loadFails(d).getMessage());
    }

    @Test void acceptsATiedHeadOnlyWhenItEqualsTheEmbedding() throws IOException {
        ModelConfig c = small(true);
        float[] p = random(c, 2);
        Map<String, TensorData> t = new LinkedHashMap<>(ModelDirectory.stateDict(c, p));
        t.remove(ParameterLayout.LM_HEAD);
        assertBits(p, ModelDirectory.load(weights(t)).parameters());   // no head at all: fine

        float[] head = ParameterLayout.of(c).view(p, ParameterLayout.EMBEDDING).toArray();
        head[2 * 24 + 5] += 1e-3f;
        t.put(ParameterLayout.LM_HEAD, TensorData.f32(head, new int[] {37, 24}));
        String m = loadFails(weights(t)).getMessage();
        assertTrue(m.contains("head.lm_head.weight differs from embedding.wte.weight at [2, 5]") && m.contains("tie_embedding true"), m);

        t.put(ParameterLayout.LM_HEAD, TensorData.f32(new float[36 * 24], new int[] {36, 24}));
        assertTrue(loadFails(weights(t)).getMessage().endsWith(": head.lm_head.weight has shape [36, 24], config needs [37, 24]"));
    }

    @Test void readsBf16AndF16Weights() throws IOException {
        ModelConfig c = small(false);
        float[] p = random(c, 3);
        Map<String, TensorData> t = new LinkedHashMap<>();
        ParameterLayout layout = ParameterLayout.of(c);
        int i = 0;
        for (ParameterLayout.Entry e : layout.entries()) {
            t.put(e.name(), (i++ % 2 == 0) ? TensorData.bf16(p, e.offset(), e.shape()) : TensorData.f16(p, e.offset(), e.shape()));
        }
        Path d = dir.resolve("half");
        Files.createDirectories(d);
        Files.writeString(d.resolve("config.json"), ConfigJson.toJson(c));
        Safetensors.write(d.resolve("model.safetensors"), t, Map.of());
        float[] got = ModelDirectory.load(d).parameters();
        i = 0;
        for (ParameterLayout.Entry e : layout.entries()) {
            boolean bf = i++ % 2 == 0;
            for (int k = e.offset(); k < e.offset() + e.size(); k++) {
                float want = bf ? Safetensors.bf16ToFloat(Safetensors.floatToBf16(p[k])) : Float.float16ToFloat(Float.floatToFloat16(p[k]));
                assertEquals(want, got[k], e.name());
            }
        }
    }

    @Test void saveReplacesAModelAndAFailedSaveLeavesTheOldOneIntact() throws IOException {
        ModelConfig c = small(true);
        float[] old = random(c, 10);
        Path m = dir.resolve("model");
        ModelDirectory.save(m, c, old);
        byte[] oldWeights = Files.readAllBytes(m.resolve("model.safetensors"));

        ModelConfig other = small(false).withNumLayers(3);
        float[] fresh = random(other, 11);
        for (String stage : List.of("written", "old-moved")) {
            IOException e = assertThrows(IOException.class, () -> ModelDirectory.save(m, other, fresh, s -> {
                if (s.equals(stage)) throw new IOException("crash at " + s + " (simulated)");
            }));
            assertEquals("crash at " + stage + " (simulated)", e.getMessage());
            ModelDirectory.Model back = ModelDirectory.load(m);
            assertEquals(c, back.config(), "after a failure at " + stage);
            assertBits(old, back.parameters());
            assertArrayEquals(oldWeights, Files.readAllBytes(m.resolve("model.safetensors")));
            assertEquals(List.of("model"), listing(dir), "nothing left beside the model after a failure at " + stage);
        }

        ModelDirectory.save(m, other, fresh);
        ModelDirectory.Model back = ModelDirectory.load(m);
        assertEquals(other, back.config());
        assertBits(fresh, back.parameters());
        assertEquals(List.of("model"), listing(dir));
    }

    @Test void refusesToReplaceWhatIsNotAModelDirectory() throws IOException {
        ModelConfig c = small(true);
        float[] p = random(c, 4);
        Path notes = dir.resolve("notes");
        Files.createDirectories(notes);
        Files.writeString(notes.resolve("todo.txt"), "keep me");
        IOException e = assertThrows(IOException.class, () -> ModelDirectory.save(notes, c, p));
        assertTrue(e.getMessage().endsWith("notes holds todo.txt, which is not part of a model; refusing to replace the directory"), e.getMessage());
        assertEquals("keep me", Files.readString(notes.resolve("todo.txt")));
        Path file = dir.resolve("file");
        Files.writeString(file, "x");
        assertTrue(assertThrows(IOException.class, () -> ModelDirectory.save(file, c, p)).getMessage().endsWith("file exists and is not a directory"));
        assertThrows(IllegalArgumentException.class, () -> ModelDirectory.save(dir.resolve("short"), c, new float[5]));
        assertEquals(List.of("file", "notes"), listing(dir));
        // A new directory's parents are created.
        ModelDirectory.save(dir.resolve("a/b/model"), c, p);
        assertBits(p, ModelDirectory.load(dir.resolve("a/b/model")).parameters());
    }

    @Test void loadExplainsAbsentFilesAndAnInterruptedSave() throws IOException {
        Path m = dir.resolve("model");
        assertEquals(m + ": no model directory there", assertThrows(IOException.class, () -> ModelDirectory.load(m)).getMessage());
        Files.createDirectories(m);
        assertEquals(m + ": no config.json (not a model directory?)", assertThrows(FormatException.class, () -> ModelDirectory.load(m)).getMessage());
        Files.writeString(m.resolve("config.json"), ConfigJson.toJson(small(true)));
        assertEquals(m + ": no model.safetensors", assertThrows(FormatException.class, () -> ModelDirectory.load(m)).getMessage());
        Files.delete(m.resolve("config.json"));
        Files.delete(m);

        // A crash between the two renames of a replacing save: DIR is gone, the complete new model is beside it.
        ModelDirectory.save(dir.resolve(".model.new-abc"), small(true), random(small(true), 1));
        String msg = assertThrows(IOException.class, () -> ModelDirectory.load(m)).getMessage();
        assertTrue(msg.contains("an interrupted save left a complete new model in " + dir.resolve(".model.new-abc").toAbsolutePath()), msg);
    }

    @Test void fromReferenceStripsTheCompilePrefix() throws IOException {
        Goldens.assumeAvailable();
        String c = "rat_c4_L2_T32";
        Map<String, TensorData> renamed = new LinkedHashMap<>();
        float[] golden;
        try (SafetensorsFile f = SafetensorsFile.open(Goldens.params(c))) {
            for (String n : f.names()) {
                float[] v = f.readFloats(n);
                renamed.put("_orig_mod." + n, TensorData.f32(v, f.info(n).shape()));
            }
            golden = ModelDirectory.readParameters(f, Goldens.oracleConfig(c), n -> n);
        }
        Path w = dir.resolve("compiled.safetensors");
        Safetensors.write(w, renamed, Map.of());
        Path cfg = dir.resolve("ref.json");
        Files.writeString(cfg, Goldens.json(c).get("official_hydra_equivalent").toString());
        ModelDirectory.Model m = ModelDirectory.fromReference(w, cfg);
        assertEquals(Goldens.oracleConfig(c), m.config());
        assertBits(golden, m.parameters());

        // A name given twice (with and without the prefix) is refused.
        renamed.put("backbone.ln.weight", renamed.get("_orig_mod.backbone.ln.weight"));
        Safetensors.write(w, renamed, Map.of());
        FormatException e = assertThrows(FormatException.class, () -> ModelDirectory.fromReference(w, cfg));
        assertTrue(e.getMessage().contains("both _orig_mod.backbone.ln.weight and backbone.ln.weight give backbone.ln.weight")
                || e.getMessage().contains("both backbone.ln.weight and _orig_mod.backbone.ln.weight give backbone.ln.weight"), e.getMessage());
    }
}

package rat4j.model.io;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rat4j.model.LanguageModel;
import rat4j.model.ModelConfig;
import rat4j.model.io.Safetensors.DType;
import rat4j.model.io.pickle.PickleBytes;
import rat4j.model.io.pickle.PickleDict;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The reference's torch.save checkpoints (../shared/golden/pth) and hand-built malformed or hostile archives. */
class PthArchiveTest {
    static final Path PTH = Goldens.DIR.resolve("pth");
    /** What hostile_os_system.pth would run: touch /tmp/rat4j-pickle-executed. */
    static final Path MARKER = Path.of("/tmp/rat4j-pickle-executed");

    @TempDir Path dir;

    /** Every golden checkpoint but the hostile ones. */
    static List<Path> goldenCheckpoints() throws IOException {
        Goldens.assumeAvailable();
        try (Stream<Path> s = Files.list(PTH)) {
            List<Path> files = s.filter(p -> p.getFileName().toString().endsWith(".pth") && !p.getFileName().toString().startsWith("hostile_")).sorted().toList();
            assertEquals(4, files.size(), "the fp32 and bf16 checkpoints of two cases: " + files);
            return files;
        }
    }

    static String caseOf(Path pth) {
        return pth.getFileName().toString().replaceFirst("(\\.bf16)?\\.pth$", "");
    }

    static boolean isBf16(Path pth) {
        return pth.getFileName().toString().endsWith(".bf16.pth");
    }

    /** The case's float32 parameters, rounded to bfloat16 for a bf16 checkpoint (what torch's .to(torch.bfloat16) does). */
    static float[] twinParameters(String c, ModelConfig config, boolean bf16) throws IOException {
        float[] p;
        try (SafetensorsFile f = SafetensorsFile.open(Goldens.params(c))) {
            p = ModelDirectory.readParameters(f, config, n -> n);
        }
        if (bf16) for (int i = 0; i < p.length; i++) p[i] = Safetensors.bf16ToFloat(Safetensors.floatToBf16(p[i]));
        return p;
    }

    static void assertBitsEqual(float[] want, float[] got, String what) {
        assertEquals(want.length, got.length, what);
        for (int i = 0; i < want.length; i++) {
            if (Float.floatToRawIntBits(want[i]) != Float.floatToRawIntBits(got[i])) throw new AssertionError(what + "[" + i + "]: " + want[i] + " vs " + got[i]);
        }
    }

    @Test void everyGoldenCheckpointImportsToItsSafetensorsTwinAndScoresTheSame() throws IOException {
        for (Path pth : goldenCheckpoints()) {
            String c = caseOf(pth);
            boolean bf16 = isBf16(pth);
            ModelDirectory.Model m = ModelDirectory.fromReference(pth, null);
            assertEquals(Goldens.oracleConfig(c), m.config(), pth + ": the config pickled inside");
            float[] twin = twinParameters(c, m.config(), bf16);
            assertBitsEqual(twin, m.parameters(), pth.toString());
            if (bf16) {
                float[] f32 = twinParameters(c, m.config(), false);
                assertFalse(Arrays.equals(f32, m.parameters()), pth + " must really be rounded");
            }

            Path cfg = dir.resolve(c + ".json");
            Files.writeString(cfg, Goldens.json(c).get("official_hydra_equivalent").toString());
            ModelDirectory.Model withJson = ModelDirectory.fromReference(pth, cfg);
            assertEquals(m.config(), withJson.config());
            assertBitsEqual(m.parameters(), withJson.parameters(), pth + " with --reference-config");

            try (SafetensorsFile io = SafetensorsFile.open(Goldens.io(c))) {
                int[] shape = io.info("input_ids").shape();
                int[] tokens = io.readInts("input_ids"), labels = io.readInts("labels");
                LanguageModel.Scored ours = new LanguageModel(m.config(), m.parameters()).score(tokens, labels, shape[0], shape[1]);
                LanguageModel.Scored ref = new LanguageModel(m.config(), twin).score(tokens, labels, shape[0], shape[1]);
                // The parameters are bit-identical (above), so the logits agree up to the engine's own run-to-run
                // wobble: its Vector API reductions round differently once the JIT compiles them (identical under -Xint).
                float maxRef = 0;
                for (float x : ref.logits()) maxRef = Math.max(maxRef, Math.abs(x));
                float[] a = ref.logits(), b = ours.logits();
                assertEquals(a.length, b.length);
                for (int i = 0; i < a.length; i++) assertEquals(a[i], b[i], 1e-6f * maxRef, pth + " logits[" + i + "]");
                assertEquals(ref.loss(), ours.loss(), 1e-6 * Math.abs(ref.loss()), pth + " loss");
            }
        }
    }

    @Test void archiveExposesTheReferenceCheckpoint() throws IOException {
        Goldens.assumeAvailable();
        for (String file : List.of("rat_c16_L3_T64.pth", "rat_c16_L3_T64.bf16.pth")) {
            try (PthArchive a = PthArchive.open(PTH.resolve(file))) {
                PickleDict root = assertInstanceOf(PickleDict.class, a.root());
                assertEquals(List.of("task", "config", "step", "optimizer", "lr_scheduler", "resume_kwargs"), List.copyOf(root.items().keySet()));
                assertEquals(12L, root.get("step"));
                Map<String, PthArchive.Tensor> sd = a.stateDict();
                assertEquals(24, sd.size());
                assertTrue(sd.keySet().stream().allMatch(n -> n.startsWith(ModelDirectory.COMPILE_PREFIX)), sd.keySet().toString());
                PthArchive.Tensor emb = sd.get("_orig_mod.embedding.wte.weight"), head = sd.get("_orig_mod.head.lm_head.weight");
                assertSame(emb.storage(), head.storage(), "the tied head shares the embedding's storage");
                assertArrayEquals(new int[] {97, 64}, emb.shape());
                assertEquals(file.contains("bf16") ? DType.BF16 : DType.F32, emb.dtype());
                assertTrue(emb.isContiguous());
                // The optimizer state's tensors are described too (its step counter is a float32 scalar), never read.
                PickleDict state0 = (PickleDict) ((PickleDict) ((PickleDict) root.get("optimizer")).get("state")).get(0L);
                PthArchive.Tensor step = assertInstanceOf(PthArchive.Tensor.class, state0.get("step"));
                assertEquals(DType.F32, step.dtype());
                assertEquals(0, step.shape().length);
                JsonNode config = a.config();
                assertEquals("sequence", config.at("/model/backbone/_name_").textValue());
                assertEquals(97, config.at("/data/vocab_size").intValue());
                assertTrue(config.at("/model/backbone/seq_cell1").isNull());
            }
        }
    }

    @Test void hostileCheckpointsAreRefusedNamingTheGlobalAndNothingRuns() throws IOException {
        Goldens.assumeAvailable();
        Files.deleteIfExists(MARKER);
        Path system = PTH.resolve("hostile_os_system.pth"), eval = PTH.resolve("hostile_eval.pth");
        assertEquals(system + ": refusing pickle global posix.system (only plain data is loaded)",
                assertThrows(FormatException.class, () -> PthArchive.open(system)).getMessage());
        assertEquals(system + ": refusing pickle global posix.system (only plain data is loaded)",
                assertThrows(FormatException.class, () -> ModelDirectory.fromReference(system, null)).getMessage());
        assertEquals(eval + ": refusing pickle global __builtin__.eval (only plain data is loaded)",
                assertThrows(FormatException.class, () -> ModelDirectory.fromReference(eval, null)).getMessage());
        assertFalse(Files.exists(MARKER), "the hostile pickle's os.system ran");
    }

    // ---- hand-built archives ----

    /** Writes a zip; STORED entries as torch.save writes them, or DEFLATED. */
    static Path writeZip(Path file, Map<String, byte[]> entries, boolean deflate) throws IOException {
        try (OutputStream os = Files.newOutputStream(file); ZipOutputStream zip = new ZipOutputStream(os)) {
            for (Map.Entry<String, byte[]> e : entries.entrySet()) {
                ZipEntry z = new ZipEntry(e.getKey());
                if (!deflate) {
                    CRC32 crc = new CRC32();
                    crc.update(e.getValue());
                    z.setMethod(ZipEntry.STORED);
                    z.setSize(e.getValue().length);
                    z.setCompressedSize(e.getValue().length);
                    z.setCrc(crc.getValue());
                }
                zip.putNextEntry(z);
                zip.write(e.getValue());
                zip.closeEntry();
            }
        }
        return file;
    }

    static Map<String, byte[]> entriesOf(Path zipFile) throws IOException {
        Map<String, byte[]> out = new LinkedHashMap<>();
        try (ZipFile z = new ZipFile(zipFile.toFile())) {
            for (ZipEntry e : z.stream().toList()) out.put(e.getName(), z.getInputStream(e).readAllBytes());
        }
        return out;
    }

    private String openFails(Path p) {
        return assertThrows(FormatException.class, () -> {
            try (PthArchive a = PthArchive.open(p)) {
                a.stateDict();
            }
        }).getMessage();
    }

    @Test void deflatedArchivesReadTheSame() throws IOException {
        Goldens.assumeAvailable();
        Path golden = PTH.resolve("interleave_rat4_local8_L4_T32.bf16.pth");
        Path deflated = writeZip(dir.resolve("deflated.pth"), entriesOf(golden), true);
        assertNotEquals(Files.size(golden), Files.size(deflated));
        assertBitsEqual(ModelDirectory.fromReference(golden, null).parameters(), ModelDirectory.fromReference(deflated, null).parameters(), "deflated");
    }

    @Test void malformedArchivesGiveOneLineErrorsNamingTheProblem() throws IOException {
        Goldens.assumeAvailable();
        Path golden = PTH.resolve("rat_c16_L3_T64.pth");
        String folder = "rat_c16_L3_T64/";

        Path truncated = dir.resolve("truncated.pth");
        byte[] all = Files.readAllBytes(golden);
        Files.write(truncated, Arrays.copyOf(all, all.length / 2));
        String m = openFails(truncated);
        assertTrue(m.startsWith(truncated + ": not a zip archive (truncated, or not written by torch.save of PyTorch >= 1.6): "), m);
        Path text = Files.writeString(dir.resolve("text.pth"), "hello");
        assertTrue(openFails(text).startsWith(text + ": not a zip archive"), openFails(text));

        Map<String, byte[]> noPkl = entriesOf(golden);
        noPkl.remove(folder + "data.pkl");
        Path p = writeZip(dir.resolve("nopkl.pth"), noPkl, false);
        assertEquals(p + ": no FOLDER/data.pkl in the archive (not a torch.save checkpoint)", openFails(p));

        Map<String, byte[]> noStorage = entriesOf(golden);
        noStorage.remove(folder + "data/5");
        p = writeZip(dir.resolve("nostorage.pth"), noStorage, false);
        assertEquals(p + ": storage 5 is missing (no entry rat_c16_L3_T64/data/5)", openFails(p));

        Map<String, byte[]> shortStorage = entriesOf(golden);
        shortStorage.put(folder + "data/5", new byte[100]);
        p = writeZip(dir.resolve("short.pth"), shortStorage, false);
        assertEquals(p + ": storage 5: entry rat_c16_L3_T64/data/5 holds 100 bytes, its id says 64 F32 elements (256 bytes)", openFails(p));

        Map<String, byte[]> badOpcode = entriesOf(golden);
        byte[] pkl = badOpcode.get(folder + "data.pkl").clone();
        pkl[2] = (byte) 0xff;   // the first opcode after PROTO 2
        badOpcode.put(folder + "data.pkl", pkl);
        p = writeZip(dir.resolve("opcode.pth"), badOpcode, false);
        assertEquals(p + ": unknown pickle opcode 0xff (at byte 2)", openFails(p));

        Map<String, byte[]> bigEndian = entriesOf(golden);
        bigEndian.put(folder + "byteorder", "big".getBytes());
        p = writeZip(dir.resolve("big.pth"), bigEndian, false);
        assertEquals(p + ": byteorder is 'big'; only little-endian checkpoints are read", openFails(p));

        Map<String, byte[]> twoPkl = entriesOf(golden);
        twoPkl.put("other/data.pkl", twoPkl.get(folder + "data.pkl"));
        p = writeZip(dir.resolve("two.pth"), twoPkl, false);
        assertEquals(p + ": several data.pkl records (rat_c16_L3_T64/, other/); a torch.save archive has one", openFails(p));
    }

    /** An archive "a/" holding one pickle and the given storages. */
    private Path archive(String name, byte[] pickle, Map<String, byte[]> storages) throws IOException {
        Map<String, byte[]> entries = new LinkedHashMap<>();
        entries.put("a/data.pkl", pickle);
        storages.forEach((k, v) -> entries.put("a/data/" + k, v));
        entries.put("a/version", "3\n".getBytes());
        return writeZip(dir.resolve(name), entries, false);
    }

    /** {'task': {name: tensor}} with one tensor. */
    private static byte[] stateDictPickle(String name, String storageType, long numel, long offset, long[] size, long[] stride) {
        return PickleBytes.proto2().emptyDict().str("task").emptyDict().str(name).tensor(storageType, "0", numel, offset, size, stride)
                .setItem().setItem().stop().bytes();
    }

    static byte[] f32Bytes(float[] v) {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float x : v) b.putFloat(x);
        return b.array();
    }

    static byte[] shortBytes(short[] v) {
        ByteBuffer b = ByteBuffer.allocate(2 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (short x : v) b.putShort(x);
        return b.array();
    }

    /** Naive strided read: element (i0, i1, ...) of the view is storage[offset + sum(i_k * stride_k)]. */
    static float[] naiveView(float[] storage, long offset, long[] size, long[] stride) {
        int n = 1;
        for (long s : size) n *= (int) s;
        float[] out = new float[n];
        for (int flat = 0; flat < n; flat++) {
            long src = offset;
            int rest = flat;
            for (int d = size.length - 1; d >= 0; d--) {
                src += (rest % size[d]) * stride[d];
                rest /= (int) size[d];
            }
            out[flat] = storage[(int) src];
        }
        return out;
    }

    @Test void stridedOffsetAndScalarViewsReadLikeTorch() throws IOException {
        Random rnd = new Random(7);
        int numel = 37;   // odd, so no view fills the storage exactly
        float[] values = new float[numel];
        for (int i = 0; i < numel; i++) values[i] = (float) rnd.nextGaussian();
        short[] bf16 = new short[numel], f16 = new short[numel];
        for (int i = 0; i < numel; i++) {
            bf16[i] = Safetensors.floatToBf16(values[i]);
            f16[i] = Float.floatToFloat16(values[i]);
        }
        record View(long offset, long[] size, long[] stride, boolean contiguous) {}
        List<View> views = List.of(
                new View(0, new long[] {37}, new long[] {1}, true),
                new View(3, new long[] {5, 6}, new long[] {6, 1}, true),
                new View(3, new long[] {6, 5}, new long[] {1, 6}, false),         // a transpose
                new View(1, new long[] {2, 3, 4}, new long[] {1, 8, 2}, false),   // permuted and gapped
                new View(4, new long[] {3, 5}, new long[] {0, 1}, false),         // expand (stride 0)
                new View(9, new long[] {1, 7}, new long[] {99, 1}, true),         // a size-1 dim's stride does not matter
                new View(36, new long[] {}, new long[] {}, true),                 // a scalar at the last element
                new View(5, new long[] {0, 3}, new long[] {3, 1}, true));         // empty
        Map<String, float[]> decoded = Map.of(
                "FloatStorage", values,
                "BFloat16Storage", toFloats(bf16, true),
                "HalfStorage", toFloats(f16, false));
        Map<String, byte[]> raw = Map.of("FloatStorage", f32Bytes(values), "BFloat16Storage", shortBytes(bf16), "HalfStorage", shortBytes(f16));
        int checked = 0;
        for (String type : List.of("FloatStorage", "BFloat16Storage", "HalfStorage")) {
            for (View v : views) {
                Path p = archive(type + checked + ".pth", stateDictPickle("w", type, numel, v.offset, v.size, v.stride), Map.of("0", raw.get(type)));
                try (PthArchive a = PthArchive.open(p)) {
                    PthArchive.Tensor t = a.stateDict().get("w");
                    assertEquals(v.contiguous, t.isContiguous(), type + " " + v);
                    float[] want = naiveView(decoded.get(type), v.offset, v.size, v.stride);
                    assertBitsEqual(want, a.readFloats("w", t), type + " " + Arrays.toString(v.size) + " stride " + Arrays.toString(v.stride));
                    float[] into = new float[want.length + 3];
                    a.readFloats("w", t, into, 3);
                    assertBitsEqual(want, Arrays.copyOfRange(into, 3, into.length), type + " at an offset");
                }
                checked++;
            }
        }
        assertEquals(24, checked);
    }

    private static float[] toFloats(short[] bits, boolean bf16) {
        float[] f = new float[bits.length];
        for (int i = 0; i < bits.length; i++) f[i] = bf16 ? Safetensors.bf16ToFloat(bits[i]) : Float.float16ToFloat(bits[i]);
        return f;
    }

    @Test void largeContiguousTensorsStreamAcrossChunks() throws IOException {
        int n = (1 << 20) / 4 * 2 + 13;   // two full 1 MiB chunks of float32 and a tail
        float[] values = new float[n + 5];
        Random rnd = new Random(3);
        for (int i = 0; i < values.length; i++) values[i] = rnd.nextFloat();
        Path p = archive("big.pth", stateDictPickle("w", "FloatStorage", values.length, 5, new long[] {n}, new long[] {1}), Map.of("0", f32Bytes(values)));
        try (PthArchive a = PthArchive.open(p)) {
            assertBitsEqual(Arrays.copyOfRange(values, 5, values.length), a.readFloats("w", a.stateDict().get("w")), "streamed");
        }
    }

    @Test void tensorsMustLieInsideTheirStorageAndBeFloats() throws IOException {
        Path p = archive("beyond.pth", stateDictPickle("w", "FloatStorage", 4, 0, new long[] {3, 2}, new long[] {2, 1}), Map.of("0", new byte[16]));
        assertEquals(p + ": tensor w of shape [3, 2] (storage offset 0, stride [2, 1]) reaches element 5 of storage 0, which holds 4", openFails(p));
        p = archive("strided.pth", stateDictPickle("w", "FloatStorage", 6, 1, new long[] {3, 2}, new long[] {1, 3}), Map.of("0", new byte[24]));
        assertEquals(p + ": tensor w of shape [3, 2] (storage offset 1, stride [1, 3]) reaches element 6 of storage 0, which holds 6", openFails(p));
        Path longs = archive("long.pth", stateDictPickle("w", "LongStorage", 2, 0, new long[] {2}, new long[] {1}), Map.of("0", new byte[16]));
        try (PthArchive a = PthArchive.open(longs)) {
            assertEquals(longs + ": tensor w has dtype I64; reading it as float needs F32, BF16 or F16",
                    assertThrows(FormatException.class, () -> a.readFloats("w", a.stateDict().get("w"))).getMessage());
        }
        byte[] unknownType = PickleBytes.proto2().emptyDict().str("task").emptyDict().str("w")
                .tensor("ComplexFloatStorage", "0", 1, 0, new long[] {1}, new long[] {1}).setItem().setItem().stop().bytes();
        p = archive("complex.pth", unknownType, Map.of("0", new byte[8]));
        assertEquals(p + ": refusing pickle global torch.ComplexFloatStorage (only plain data is loaded)", openFails(p));
    }

    @Test void aBareStateDictIsAcceptedAndOtherValuesAreNamed() throws IOException {
        byte[] bare = PickleBytes.proto2().emptyDict().str("w").tensor("FloatStorage", "0", 2, 0, new long[] {2}, new long[] {1}).setItem().stop().bytes();
        Path p = archive("bare.pth", bare, Map.of("0", f32Bytes(new float[] {1.5f, -2f})));
        try (PthArchive a = PthArchive.open(p)) {
            assertArrayEquals(new float[] {1.5f, -2f}, a.readFloats("w", a.stateDict().get("w")));
            assertEquals(null, a.config());
        }
        byte[] notTensor = PickleBytes.proto2().emptyDict().str("task").emptyDict().str("n").integer(3).setItem().setItem().stop().bytes();
        p = archive("nottensor.pth", notTensor, Map.of());
        assertEquals(p + ": task entry n is a int, not a tensor", openFails(p));
        byte[] noTask = PickleBytes.proto2().emptyDict().str("model").integer(3).setItem().stop().bytes();
        p = archive("notask.pth", noTask, Map.of());
        assertEquals(p + ": no state_dict: neither a 'task' dict (the reference's checkpoints) nor a dict of tensors; keys ['model']", openFails(p));
    }

    @Test void theConfigMustBePlainDataAndPresentUnlessGiven() throws IOException {
        Goldens.assumeAvailable();
        byte[] tensorInConfig = PickleBytes.proto2().emptyDict().str("task").emptyDict().setItem()
                .str("config").emptyDict().str("model").emptyDict().str("w").tensor("FloatStorage", "0", 1, 0, new long[] {1}, new long[] {1})
                .setItem().setItem().setItem().stop().bytes();
        Path p = archive("tensorconfig.pth", tensorInConfig, Map.of("0", new byte[4]));
        try (PthArchive a = PthArchive.open(p)) {
            assertEquals(p + ": config.model.w is a Tensor; a config holds plain data only", assertThrows(FormatException.class, a::config).getMessage());
        }

        // The golden checkpoint without its config entry: the config must then come from JSON.
        String c = "rat_c16_L3_T64";
        Map<String, byte[]> entries = entriesOf(PTH.resolve(c + ".pth"));
        byte[] pkl = entries.get(c + "/data.pkl");
        byte[] renamed = new String(pkl, java.nio.charset.StandardCharsets.ISO_8859_1).replace("X\u0006\u0000\u0000\u0000config", "X\u0006\u0000\u0000\u0000cfgxyz")
                .getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
        assertEquals(pkl.length, renamed.length);
        assertFalse(Arrays.equals(pkl, renamed));
        entries.put(c + "/data.pkl", renamed);
        Path noConfig = writeZip(dir.resolve("noconfig.pth"), entries, false);
        assertEquals(noConfig + ": the checkpoint holds no config; give the reference's config (JSON) instead",
                assertThrows(FormatException.class, () -> ModelDirectory.fromReference(noConfig, null)).getMessage());
        Path cfg = Files.writeString(dir.resolve("c.json"), Goldens.json(c).get("official_hydra_equivalent").toString());
        ModelDirectory.Model m = ModelDirectory.fromReference(noConfig, cfg);
        assertEquals(Goldens.oracleConfig(c), m.config());
        assertBitsEqual(ModelDirectory.fromReference(PTH.resolve(c + ".pth"), null).parameters(), m.parameters(), "without config");

        // A config the reference could hold but rat4j does not implement is refused naming the key.
        Path relu = Files.writeString(dir.resolve("relu.json"), Goldens.json(c).get("official_hydra_equivalent").toString().replace("\"gelu\"", "\"relu\""));
        assertEquals(relu + ": model.backbone.hidden_cell.act_fn is 'relu'; rat4j implements only 'gelu'",
                assertThrows(FormatException.class, () -> ModelDirectory.fromReference(noConfig, relu)).getMessage());
    }

    @Test void thePickledConfigIsCheckedLikeAJsonOne() throws IOException {
        Goldens.assumeAvailable();
        String c = "rat_c16_L3_T64";
        Map<String, byte[]> entries = entriesOf(PTH.resolve(c + ".pth"));
        String pkl = new String(entries.get(c + "/data.pkl"), java.nio.charset.StandardCharsets.ISO_8859_1);
        entries.put(c + "/data.pkl", pkl.replace("gelu", "relu").getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
        Path relu = writeZip(dir.resolve("relu.pth"), entries, false);
        assertEquals(relu + ": its config: model.backbone.hidden_cell.act_fn is 'relu'; rat4j implements only 'gelu'",
                assertThrows(FormatException.class, () -> ModelDirectory.fromReference(relu, null)).getMessage());
        // A checkpoint under another name is recognised by its zip signature.
        Path bin = Files.copy(PTH.resolve(c + ".pth"), dir.resolve("checkpoint.bin"));
        assertBitsEqual(ModelDirectory.fromReference(PTH.resolve(c + ".pth"), null).parameters(), ModelDirectory.fromReference(bin, null).parameters(), "by signature");
    }

    @Test void safetensorsStillNeedTheirConfig() {
        Goldens.assumeAvailable();
        Path st = Goldens.params("rat_c16_L3_T64");
        assertEquals(st + ": a safetensors file holds no config; the reference's config (JSON) must be given too",
                assertThrows(FormatException.class, () -> ModelDirectory.fromReference(st, null)).getMessage());
    }

    @Test void theStateDictMustMatchTheConfig() throws IOException {
        Goldens.assumeAvailable();
        // rat_c16_L3_T64's weights under the interleaved case's config: every mismatch named at once, as for safetensors.
        Path cfg = Files.writeString(dir.resolve("c.json"), Goldens.json("interleave_rat4_local8_L4_T32").get("official_hydra_equivalent").toString());
        Path pth = PTH.resolve("rat_c16_L3_T64.pth");
        String m = assertThrows(FormatException.class, () -> ModelDirectory.fromReference(pth, cfg)).getMessage();
        assertEquals(pth + ": missing backbone.layers.3.seq_layer.in_proj.weight, backbone.layers.3.seq_layer.input_norm.weight,"
                + " backbone.layers.3.seq_layer.out_proj.weight, backbone.layers.3.hidden_layer.fc1.weight, backbone.layers.3.hidden_layer.fc2.weight,"
                + " backbone.layers.3.hidden_layer.ln.weight; unexpected _orig_mod.backbone.layers.1.seq_layer.gate_bias;"
                + " _orig_mod.backbone.layers.1.seq_layer.in_proj.weight has shape [256, 64], config needs [192, 64]", m);
    }
}

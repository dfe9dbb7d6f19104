package rat4j.model.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rat4j.model.io.Safetensors.DType;
import rat4j.model.io.Safetensors.TensorData;
import rat4j.model.io.Safetensors.TensorInfo;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SafetensorsTest {
    @TempDir Path dir;

    private static float[] randomFloats(Random r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (r.nextGaussian() * Math.pow(10, r.nextInt(9) - 4));
        return a;
    }

    @Test void roundTripsEveryWritableDtype() throws IOException {
        Random r = new Random(11);
        float[] f32 = randomFloats(r, 3 * 5 * 7 + 2);
        double[] f64 = new double[37];
        for (int i = 0; i < f64.length; i++) f64[i] = r.nextGaussian() * 1e-3;
        long[] i64 = new long[] {0, -1, Long.MAX_VALUE, Long.MIN_VALUE, 1L << 40, 31999, -100};
        int[] i32 = new int[] {0, -1, Integer.MAX_VALUE, Integer.MIN_VALUE, 7};
        float[] halves = randomFloats(r, 41);
        Map<String, TensorData> t = new LinkedHashMap<>();
        t.put("f32", TensorData.f32(f32, 2, new int[] {3, 5, 7}));   // an offset view into a larger array
        t.put("f64", TensorData.f64(f64, new int[] {37}));
        t.put("i64", TensorData.i64(i64, new int[] {7}));
        t.put("i32", TensorData.i32(i32, new int[] {5, 1}));
        t.put("bf16", TensorData.bf16(halves, 0, new int[] {41}));
        t.put("f16", TensorData.f16(halves, 0, new int[] {41}));
        t.put("scalar", TensorData.f32(new float[] {2.5f}, new int[0]));
        t.put("empty", TensorData.f32(new float[0], new int[] {0, 4}));
        Path p = dir.resolve("all.safetensors");
        Safetensors.write(p, t, Map.of("k", "v", "case", "x"));
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertEquals(Map.of("k", "v", "case", "x"), f.metadata());
            assertEquals(List.of("bf16", "empty", "f16", "f32", "f64", "i32", "i64", "scalar"), f.names());
            assertArrayEquals(Arrays.copyOfRange(f32, 2, 2 + 105), f.readFloats("f32"));
            assertArrayEquals(new int[] {3, 5, 7}, f.info("f32").shape());
            assertEquals(DType.F32, f.info("f32").dtype());
            assertArrayEquals(f64, f.readDoubles("f64"));
            assertArrayEquals(i64, f.readLongs("i64"));
            assertArrayEquals(i32, f.readInts("i32"));
            assertArrayEquals(new long[] {0, -1, Integer.MAX_VALUE, Integer.MIN_VALUE, 7}, f.readLongs("i32"));
            float[] bf = f.readFloats("bf16");
            float[] h = f.readFloats("f16");
            for (int i = 0; i < halves.length; i++) {
                assertEquals(naiveBf16(halves[i]), bf[i], "bf16 of " + halves[i]);
                assertEquals(Float.float16ToFloat(Float.floatToFloat16(halves[i])), h[i], "f16 of " + halves[i]);
            }
            assertArrayEquals(new float[] {2.5f}, f.readFloats("scalar"));
            assertEquals(0, f.info("scalar").shape().length);
            assertEquals(1, f.info("scalar").numel());
            assertEquals(0, f.readFloats("empty").length);
            double[] widened = f.readDoubles("bf16");
            for (int i = 0; i < bf.length; i++) assertEquals(bf[i], widened[i]);
        }
    }

    /**
     * Round to nearest even by comparing the two bf16 neighbours in double arithmetic (independent of the bit trick in
     * Safetensors); the neighbour above the largest finite bf16 is 2^128, which rounds to infinity.
     */
    private static float naiveBf16(float x) {
        if (Float.isNaN(x) || Float.isInfinite(x)) return x;
        int bits = Float.floatToRawIntBits(x);
        int loBits = bits & 0xffff0000, hiBits = loBits + 0x10000;
        double lo = Float.intBitsToFloat(loBits);
        double hi = (hiBits & 0x7fffffff) == 0x7f800000 ? Math.copySign(0x1p128, x) : Float.intBitsToFloat(hiBits);
        double dl = Math.abs(x - lo), dh = Math.abs(hi - x);
        boolean up = dh < dl || (dh == dl && ((loBits >>> 16) & 1) == 1);
        return up ? Float.intBitsToFloat(hiBits) : Float.intBitsToFloat(loBits);
    }

    @Test void bf16RoundsToNearestEvenIncludingSpecialValues() {
        float[] cases = {0f, -0f, 1f, -1f, Float.MIN_VALUE, -Float.MIN_VALUE, Float.MIN_NORMAL, Float.MAX_VALUE, -Float.MAX_VALUE,
                Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.intBitsToFloat(0x3f808000), Float.intBitsToFloat(0x3f818000),
                Float.intBitsToFloat(0x3f808001), Float.intBitsToFloat(0x3f807fff), 3.14159265f, 1e-40f};
        for (float x : cases) {
            float got = Safetensors.bf16ToFloat(Safetensors.floatToBf16(x));
            assertEquals(Float.floatToRawIntBits(naiveBf16(x)), Float.floatToRawIntBits(got), "bf16 of " + x);
        }
        assertEquals(1.0f, Safetensors.bf16ToFloat(Safetensors.floatToBf16(Float.intBitsToFloat(0x3f808000))), "a tie rounds to the even 1.0");
        assertEquals(Float.intBitsToFloat(0x3f820000), Safetensors.bf16ToFloat(Safetensors.floatToBf16(Float.intBitsToFloat(0x3f818000))), "a tie rounds up to even");
        assertEquals(Float.POSITIVE_INFINITY, Safetensors.bf16ToFloat(Safetensors.floatToBf16(Float.MAX_VALUE)), "overflow rounds to infinity");
        assertTrue(Float.isNaN(Safetensors.bf16ToFloat(Safetensors.floatToBf16(Float.NaN))));
        assertTrue(Float.isNaN(Safetensors.bf16ToFloat(Safetensors.floatToBf16(Float.intBitsToFloat(0x7f800001)))), "a NaN whose payload is in the low bits stays NaN");
    }

    @Test void everyHalfValueSurvivesAnF16RoundTrip() throws IOException {
        float[] all = new float[65536];
        for (int i = 0; i < all.length; i++) all[i] = Float.float16ToFloat((short) i);
        Path p = dir.resolve("halves.safetensors");
        Safetensors.write(p, Map.of("h", TensorData.f16(all, 0, new int[] {256, 256})), Map.of());
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            float[] back = f.readFloats("h");
            for (int i = 0; i < all.length; i++) {
                assertEquals(Float.floatToIntBits(all[i]), Float.floatToIntBits(back[i]), "half bits " + Integer.toHexString(i));
            }
        }
        assertEquals(0x3c00, Float.floatToFloat16(1f) & 0xffff);
    }

    @Test void writingIsDeterministicAndHeaderIsAligned() throws IOException {
        Random r = new Random(3);
        float[] a = randomFloats(r, 13), b = randomFloats(r, 6);
        Map<String, TensorData> one = new LinkedHashMap<>(), two = new LinkedHashMap<>();
        one.put("zeta", TensorData.f32(a, new int[] {13}));
        one.put("alpha", TensorData.f32(b, new int[] {2, 3}));
        two.put("alpha", TensorData.f32(b, new int[] {2, 3}));
        two.put("zeta", TensorData.f32(a, new int[] {13}));
        Path p1 = dir.resolve("1.safetensors"), p2 = dir.resolve("2.safetensors");
        Safetensors.write(p1, one, Map.of("b", "2", "a", "1"));
        Safetensors.write(p2, two, Map.of("a", "1", "b", "2"));
        byte[] bytes = Files.readAllBytes(p1);
        assertArrayEquals(bytes, Files.readAllBytes(p2));
        long n = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(0, n % 8, "data starts 8-aligned");
        JsonNode h = new ObjectMapper().readTree(new String(bytes, 8, (int) n, StandardCharsets.UTF_8));
        assertEquals(List.of("__metadata__", "alpha", "zeta"), iterable(h));
        assertEquals("[0,24]", h.get("alpha").get("data_offsets").toString());
        assertEquals("[24,76]", h.get("zeta").get("data_offsets").toString());
        assertEquals(8 + n + 76, bytes.length);
        // The data is plain little-endian float32, readable without our reader.
        assertEquals(b[0], ByteBuffer.wrap(bytes, (int) (8 + n), 4).order(ByteOrder.LITTLE_ENDIAN).getFloat());
    }

    private static List<String> iterable(JsonNode h) {
        return h.properties().stream().map(Map.Entry::getKey).toList();
    }

    /** Writes 8-byte length + header text + data bytes as given (for malformed files). */
    private Path raw(String name, String header, int dataBytes) throws IOException {
        byte[] hb = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + hb.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(hb.length).put(hb);
        Path p = dir.resolve(name);
        Files.write(p, b.array());
        return p;
    }

    private static String openFails(Path p) {
        FormatException e = assertThrows(FormatException.class, () -> SafetensorsFile.open(p).close());
        assertTrue(e.getMessage().startsWith(p.toString()), "message names the file: " + e.getMessage());
        assertTrue(!e.getMessage().contains("\n"), "one line: " + e.getMessage());
        return e.getMessage();
    }

    @Test void refusesMalformedFilesWithOneLineNamingFileAndTensor() throws IOException {
        Path tiny = dir.resolve("tiny.safetensors");
        Files.write(tiny, new byte[] {1, 2, 3});
        assertTrue(openFails(tiny).contains("truncated"));

        Path beyond = dir.resolve("beyond.safetensors");
        ByteBuffer b = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(1000).putLong(0);
        Files.write(beyond, b.array());
        assertTrue(openFails(beyond).contains("header length 1000 goes beyond the file"));

        Path huge = dir.resolve("huge.safetensors");
        Files.write(huge, ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(-5).putLong(0).array());
        assertTrue(openFails(huge).contains("header length 18446744073709551611"));

        assertTrue(openFails(raw("json.safetensors", "{\"a\": {\"dtype\": \"F32\",", 0)).contains("not valid JSON"));
        assertTrue(openFails(raw("array.safetensors", "[1, 2]", 0)).contains("not a JSON object"));
        assertTrue(openFails(raw("trailing.safetensors", "{} {}", 0)).contains("not valid JSON"));
        assertTrue(openFails(raw("dup.safetensors", "{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]},"
                + " \"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [4, 8]}}", 8)).contains("Duplicate field 'a'"));

        String m = openFails(raw("dtype.safetensors", "{\"w\": {\"dtype\": \"F31\", \"shape\": [1], \"data_offsets\": [0, 4]}}", 4));
        assertTrue(m.contains("tensor 'w'") && m.contains("unknown dtype \"F31\""), m);

        m = openFails(raw("mismatch.safetensors", "{\"w\": {\"dtype\": \"F32\", \"shape\": [2, 3], \"data_offsets\": [0, 20]}}", 20));
        assertTrue(m.contains("tensor 'w'") && m.contains("needs 24 bytes") && m.contains("hold 20"), m);

        m = openFails(raw("range.safetensors", "{\"w\": {\"dtype\": \"F32\", \"shape\": [4], \"data_offsets\": [0, 16]}}", 12));
        assertTrue(m.contains("tensor 'w'") && m.contains("beyond the 12 data bytes"), m);

        m = openFails(raw("overlap.safetensors", "{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]},"
                + " \"b\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [4, 12]}}", 12));
        assertTrue(m.contains("tensor 'b'") && m.contains("overlaps 'a'"), m);

        m = openFails(raw("backwards.safetensors", "{\"a\": {\"dtype\": \"F32\", \"shape\": [0], \"data_offsets\": [8, 0]}}", 8));
        assertTrue(m.contains("tensor 'a'") && m.contains("begin <= end"), m);

        m = openFails(raw("dim.safetensors", "{\"a\": {\"dtype\": \"F32\", \"shape\": [-1], \"data_offsets\": [0, 4]}}", 4));
        assertTrue(m.contains("tensor 'a'") && m.contains("bad dimension -1"), m);

        m = openFails(raw("extra.safetensors", "{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4], \"x\": 1}}", 4));
        assertTrue(m.contains("tensor 'a'") && m.contains("unknown key 'x'"), m);

        m = openFails(raw("meta.safetensors", "{\"__metadata__\": {\"n\": 3}}", 0));
        assertTrue(m.contains("__metadata__.n is not a string"), m);

        m = openFails(raw("nooffsets.safetensors", "{\"a\": {\"dtype\": \"F32\", \"shape\": [1]}}", 4));
        assertTrue(m.contains("tensor 'a'") && m.contains("needs dtype, shape and data_offsets"), m);

        // Zero-size tensors may share an offset with their neighbours; that is not an overlap.
        Path zeros = raw("zeros.safetensors", "{\"a\": {\"dtype\": \"F32\", \"shape\": [0], \"data_offsets\": [4, 4]},"
                + " \"b\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]}, \"c\": {\"dtype\": \"U8\", \"shape\": [3], \"data_offsets\": [4, 7]}}", 7);
        try (SafetensorsFile f = SafetensorsFile.open(zeros)) {
            assertEquals(List.of("a", "b", "c"), f.names());
            assertEquals(DType.U8, f.info("c").dtype());
        }
    }

    @Test void readingAsTheWrongKindNamesTensorAndDtype() throws IOException {
        Path p = dir.resolve("kinds.safetensors");
        Safetensors.write(p, Map.of("ids", TensorData.i64(new long[] {1, 1L << 33}, new int[] {2}), "w", TensorData.f32(new float[2], new int[] {2})), Map.of());
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            FormatException e = assertThrows(FormatException.class, () -> f.readFloats("ids"));
            assertTrue(e.getMessage().contains("tensor 'ids' has dtype I64"), e.getMessage());
            e = assertThrows(FormatException.class, () -> f.readLongs("w"));
            assertTrue(e.getMessage().contains("tensor 'w' has dtype F32"), e.getMessage());
            e = assertThrows(FormatException.class, () -> f.readInts("ids"));
            assertTrue(e.getMessage().contains("value 8589934592 at index 1 does not fit an int"), e.getMessage());
            e = assertThrows(FormatException.class, () -> f.info("nope"));
            assertTrue(e.getMessage().contains("no tensor named 'nope'"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> f.readFloats("w", new float[3], 2));
        }
    }

    /** Offsets past 2 GiB and tensors too large for one Java array, on a sparse file (no real disk use). */
    @Test void handlesOffsetsBeyondTwoGigabytesAndRefusesOversizedTensors() throws IOException {
        String header = "{\"big\": {\"dtype\": \"F32\", \"shape\": [536870912, 5], \"data_offsets\": [0, 10737418240]},"
                + " \"far\": {\"dtype\": \"F32\", \"shape\": [3], \"data_offsets\": [" + (10737418240L) + ", " + (10737418240L + 12) + "]}}";
        Path p = raw("sparse.safetensors", header, 0);
        long dataStart = Files.size(p);
        try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
            f.setLength(dataStart + 10737418240L + 12);
        }
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.WRITE)) {
            ByteBuffer v = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN).putFloat(1.5f).putFloat(-2f).putFloat(3.25f).flip();
            ch.write(v, dataStart + 10737418240L);
        }
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertArrayEquals(new float[] {1.5f, -2f, 3.25f}, f.readFloats("far"));
            FormatException e = assertThrows(FormatException.class, () -> f.readFloats("big"));
            assertTrue(e.getMessage().contains("tensor 'big' of 2684354560 elements does not fit one Java array"), e.getMessage());
        }
    }

    @Test void failedWriteLeavesTheOldFileAndNoTempFile() throws IOException {
        Path p = dir.resolve("keep.safetensors");
        Safetensors.write(p, Map.of("w", TensorData.f32(new float[] {1, 2}, new int[] {2})), Map.of());
        byte[] before = Files.readAllBytes(p);
        IOException e = assertThrows(IOException.class, () -> AtomicFiles.write(p, ch -> {
            ch.write(ByteBuffer.wrap(new byte[] {9, 9, 9}));
            throw new IOException("disk full (simulated)");
        }));
        assertEquals("disk full (simulated)", e.getMessage());
        assertArrayEquals(before, Files.readAllBytes(p));
        try (Stream<Path> s = Files.list(dir)) {
            assertEquals(List.of(p), s.toList(), "no temp file left");
        }
    }

    @Test void writingIntoAMissingDirectorySaysSo() {
        Path p = dir.resolve("no/such/w.safetensors");
        java.nio.file.NoSuchFileException e = assertThrows(java.nio.file.NoSuchFileException.class,
                () -> Safetensors.write(p, Map.of("w", TensorData.f32(new float[1], new int[] {1})), Map.of()));
        assertEquals(dir.resolve("no/such").toString(), e.getFile());
        assertEquals("no such directory to write w.safetensors into", e.getReason());
    }

    @Test void tensorInfoIsImmutable() {
        int[] shape = {2, 3};
        TensorInfo t = new TensorInfo("x", DType.F32, shape, 0, 24);
        shape[0] = 9;
        t.shape()[1] = 9;
        assertArrayEquals(new int[] {2, 3}, t.shape());
        assertThrows(IllegalArgumentException.class, () -> TensorData.f32(new float[5], 0, new int[] {2, 3}));
        assertThrows(IllegalArgumentException.class, () -> TensorData.f32(new float[6], 1, new int[] {2, 3}));
    }
}

package rat4j.model.io;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import rat4j.model.io.Safetensors.DType;
import rat4j.model.io.Safetensors.TensorInfo;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A safetensors file opened for reading. The whole file is memory-mapped (models may be several GB) and its header is
 * validated up front: every problem is a {@link FormatException} whose one-line message names the file and tensor.
 * Tensors are then copied out, with conversion, into Java arrays. Reads may run on several threads at once (the mapping
 * is read-only and the object holds no other state); close it, after the last read, to unmap.
 */
public final class SafetensorsFile implements AutoCloseable {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** Duplicate names in the header would make a file mean two things; refuse them. */
    private static final ObjectMapper STRICT_JSON = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS).build();

    private final Path path;
    private final Arena arena;
    private final MemorySegment data;   // the data section: file bytes [8 + N, size)
    private final Map<String, TensorInfo> tensors;   // by name, sorted
    private final Map<String, String> metadata;

    private SafetensorsFile(Path path, Arena arena, MemorySegment data, Map<String, TensorInfo> tensors, Map<String, String> metadata) {
        this.path = path;
        this.arena = arena;
        this.data = data;
        this.tensors = tensors;
        this.metadata = metadata;
    }

    public static SafetensorsFile open(Path path) throws IOException {
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) throw new FormatException(path + ": truncated: " + size + " bytes, fewer than the 8-byte header length");
            MemorySegment file = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            long n = file.get(I64, 0);
            if (n < 0 || n > size - 8) {
                throw new FormatException(path + ": header length " + Long.toUnsignedString(n) + " goes beyond the file (" + size + " bytes): truncated or not safetensors");
            }
            if (n > Safetensors.MAX_HEADER_BYTES) throw new FormatException(path + ": header of " + n + " bytes exceeds the 100 MB limit");
            byte[] header = file.asSlice(8, n).toArray(ValueLayout.JAVA_BYTE);
            MemorySegment data = file.asSlice(8 + n);
            Map<String, String> metadata = new LinkedHashMap<>();
            Map<String, TensorInfo> tensors = parseHeader(path, header, data.byteSize(), metadata);
            return new SafetensorsFile(path, arena, data, tensors, Collections.unmodifiableMap(metadata));
        } catch (IOException | RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    private static Map<String, TensorInfo> parseHeader(Path path, byte[] bytes, long dataSize, Map<String, String> metadata) throws FormatException {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .decode(java.nio.ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new FormatException(path + ": header is not UTF-8");
        }
        JsonNode root;
        try {
            root = STRICT_JSON.readTree(text);
        } catch (JsonProcessingException e) {
            String where = e.getLocation() == null ? "" : " at column " + e.getLocation().getColumnNr();
            throw new FormatException(path + ": header is not valid JSON" + where + ": " + oneLine(e.getOriginalMessage()));
        }
        if (root == null || !root.isObject()) throw new FormatException(path + ": header is not a JSON object");
        TreeMap<String, TensorInfo> tensors = new TreeMap<>();
        for (Map.Entry<String, JsonNode> e : root.properties()) {
            String name = e.getKey();
            JsonNode v = e.getValue();
            if (name.equals(Safetensors.METADATA_KEY)) {
                if (!v.isObject()) throw new FormatException(path + ": __metadata__ is not an object");
                for (Map.Entry<String, JsonNode> m : v.properties()) {
                    if (!m.getValue().isTextual()) throw new FormatException(path + ": __metadata__." + m.getKey() + " is not a string");
                    metadata.put(m.getKey(), m.getValue().textValue());
                }
                continue;
            }
            tensors.put(name, parseEntry(path, name, v, dataSize));
        }
        List<TensorInfo> byOffset = new ArrayList<>(tensors.values());
        byOffset.sort(Comparator.comparingLong(TensorInfo::begin).thenComparingLong(TensorInfo::end));
        for (int i = 1; i < byOffset.size(); i++) {
            TensorInfo a = byOffset.get(i - 1), b = byOffset.get(i);
            if (b.begin() < a.end()) {
                throw new FormatException(path + ": tensor '" + b.name() + "' data [" + b.begin() + ", " + b.end() + ") overlaps '"
                        + a.name() + "' [" + a.begin() + ", " + a.end() + ")");
            }
        }
        return Collections.unmodifiableMap(tensors);
    }

    private static TensorInfo parseEntry(Path path, String name, JsonNode v, long dataSize) throws FormatException {
        String where = path + ": tensor '" + name + "'";
        if (!v.isObject()) throw new FormatException(where + ": entry is not an object");
        for (Map.Entry<String, JsonNode> f : v.properties()) {
            String k = f.getKey();
            if (!k.equals("dtype") && !k.equals("shape") && !k.equals("data_offsets")) throw new FormatException(where + ": unknown key '" + k + "'");
        }
        JsonNode dt = v.get("dtype"), sh = v.get("shape"), off = v.get("data_offsets");
        if (dt == null || sh == null || off == null) throw new FormatException(where + ": needs dtype, shape and data_offsets");
        DType dtype = dt.isTextual() ? DType.parse(dt.textValue()) : null;
        if (dtype == null) throw new FormatException(where + ": unknown dtype " + dt);
        if (!sh.isArray()) throw new FormatException(where + ": shape is not an array");
        int[] shape = new int[sh.size()];
        for (int i = 0; i < shape.length; i++) {
            JsonNode d = sh.get(i);
            if (!d.isIntegralNumber() || !d.canConvertToInt() || d.intValue() < 0) throw new FormatException(where + ": bad dimension " + d + " in shape " + sh);
            shape[i] = d.intValue();
        }
        if (!off.isArray() || off.size() != 2 || !off.get(0).isIntegralNumber() || !off.get(1).isIntegralNumber()
                || !off.get(0).canConvertToLong() || !off.get(1).canConvertToLong()) {
            throw new FormatException(where + ": data_offsets must be [begin, end], got " + off);
        }
        long begin = off.get(0).longValue(), end = off.get(1).longValue();
        if (begin < 0 || end < begin) throw new FormatException(where + ": data_offsets " + off + " are not 0 <= begin <= end");
        if (end > dataSize) throw new FormatException(where + ": data_offsets " + off + " go beyond the " + dataSize + " data bytes (truncated file?)");
        TensorInfo info = new TensorInfo(name, dtype, shape, begin, end);
        long bytes;
        try {
            bytes = Math.multiplyExact(info.numel(), (long) dtype.bytes);
        } catch (ArithmeticException e) {
            throw new FormatException(where + ": shape " + sh + " overflows");
        }
        if (end - begin != bytes) {
            throw new FormatException(where + ": shape " + sh + " of " + dtype + " needs " + bytes + " bytes, data_offsets " + off + " hold " + (end - begin));
        }
        return info;
    }

    private static String oneLine(String s) {
        return s == null ? "" : s.replaceAll("\\s+", " ").trim();
    }

    public Path path() { return path; }

    /** The __metadata__ strings (empty when the file has none). */
    public Map<String, String> metadata() { return metadata; }

    /** Tensor names in sorted order. */
    public List<String> names() { return List.copyOf(tensors.keySet()); }

    public boolean contains(String name) { return tensors.containsKey(name); }

    public TensorInfo info(String name) throws FormatException {
        TensorInfo t = tensors.get(name);
        if (t == null) throw new FormatException(path + ": no tensor named '" + name + "'");
        return t;
    }

    /** F32, BF16 or F16 values as floats. */
    public float[] readFloats(String name) throws FormatException {
        float[] dst = new float[arrayLength(info(name))];
        readFloats(name, dst, 0);
        return dst;
    }

    /** Copies F32, BF16 or F16 values into {@code dst[offset ..]}. */
    public void readFloats(String name, float[] dst, int offset) throws FormatException {
        TensorInfo t = info(name);
        int n = arrayLength(t);
        if (offset < 0 || (long) offset + n > dst.length) throw new IllegalArgumentException("tensor '" + name + "' of " + n + " values does not fit at " + offset + " in " + dst.length);
        long b = t.begin();
        switch (t.dtype()) {
            case F32 -> MemorySegment.copy(data, F32, b, dst, offset, n);
            case BF16 -> { for (int i = 0; i < n; i++) dst[offset + i] = Safetensors.bf16ToFloat(data.get(I16, b + 2L * i)); }
            case F16 -> { for (int i = 0; i < n; i++) dst[offset + i] = Float.float16ToFloat(data.get(I16, b + 2L * i)); }
            default -> throw unsupported(t, "float", "F32, BF16 or F16");
        }
    }

    /** F64 values, or F32/BF16/F16 widened. */
    public double[] readDoubles(String name) throws FormatException {
        TensorInfo t = info(name);
        int n = arrayLength(t);
        double[] dst = new double[n];
        if (t.dtype() == DType.F64) {
            MemorySegment.copy(data, F64, t.begin(), dst, 0, n);
        } else if (t.dtype() == DType.F32 || t.dtype() == DType.BF16 || t.dtype() == DType.F16) {
            float[] f = readFloats(name);
            for (int i = 0; i < n; i++) dst[i] = f[i];
        } else {
            throw unsupported(t, "double", "F64, F32, BF16 or F16");
        }
        return dst;
    }

    /** I64 values, or I32 widened. */
    public long[] readLongs(String name) throws FormatException {
        TensorInfo t = info(name);
        int n = arrayLength(t);
        long[] dst = new long[n];
        switch (t.dtype()) {
            case I64 -> MemorySegment.copy(data, I64, t.begin(), dst, 0, n);
            case I32 -> { for (int i = 0; i < n; i++) dst[i] = data.get(I32, t.begin() + 4L * i); }
            default -> throw unsupported(t, "long", "I64 or I32");
        }
        return dst;
    }

    /** I32 values, or I64 values that all fit an int. */
    public int[] readInts(String name) throws FormatException {
        TensorInfo t = info(name);
        int n = arrayLength(t);
        int[] dst = new int[n];
        switch (t.dtype()) {
            case I32 -> MemorySegment.copy(data, I32, t.begin(), dst, 0, n);
            case I64 -> {
                for (int i = 0; i < n; i++) {
                    long v = data.get(I64, t.begin() + 8L * i);
                    if (v != (int) v) throw new FormatException(path + ": tensor '" + name + "': value " + v + " at index " + i + " does not fit an int");
                    dst[i] = (int) v;
                }
            }
            default -> throw unsupported(t, "int", "I32 or I64");
        }
        return dst;
    }

    private int arrayLength(TensorInfo t) throws FormatException {
        long n = t.numel();
        if (n > Integer.MAX_VALUE - 8) throw new FormatException(path + ": tensor '" + t.name() + "' of " + n + " elements does not fit one Java array");
        return (int) n;
    }

    private FormatException unsupported(TensorInfo t, String to, String accepted) {
        return new FormatException(path + ": tensor '" + t.name() + "' has dtype " + t.dtype() + "; reading it as " + to + " needs " + accepted);
    }

    @Override public void close() {
        arena.close();
    }
}

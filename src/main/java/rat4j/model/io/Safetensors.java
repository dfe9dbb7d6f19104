package rat4j.model.io;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The safetensors format (github.com/huggingface/safetensors), by hand: an 8-byte little-endian header length N, N bytes
 * of JSON {name: {dtype, shape, data_offsets: [begin, end)}, "__metadata__": {str: str}}, then the raw little-endian
 * data, offsets counted from the end of the header. Read files with {@link SafetensorsFile}; write them here.
 */
public final class Safetensors {
    /** The header key that holds string metadata instead of a tensor. */
    public static final String METADATA_KEY = "__metadata__";

    /** The official reader refuses headers over 100 MB; so do we, before allocating them. */
    static final long MAX_HEADER_BYTES = 100L * 1000 * 1000;

    static final ObjectMapper JSON = new ObjectMapper();

    private Safetensors() {}

    /** Element types of the format. Every one is recognised when reading; {@link SafetensorsFile} converts some to arrays. */
    public enum DType {
        BOOL(1), U8(1), I8(1), F8_E5M2(1), F8_E4M3(1), I16(2), U16(2), F16(2), BF16(2), I32(4), U32(4), F32(4),
        F64(8), I64(8), U64(8);

        public final int bytes;

        DType(int bytes) { this.bytes = bytes; }

        /** The dtype of a header string, or null when the format has no such dtype. */
        static DType parse(String s) {
            for (DType d : values()) if (d.name().equals(s)) return d;
            return null;
        }
    }

    /**
     * One header entry. {@code begin}/{@code end} are byte offsets into the data section (after the header).
     *
     * @param shape empty for a scalar
     */
    public record TensorInfo(String name, DType dtype, int[] shape, long begin, long end) {
        public TensorInfo {
            shape = shape.clone();
        }

        @Override public int[] shape() { return shape.clone(); }

        /** Number of elements (1 for a scalar). */
        public long numel() {
            long n = 1;
            for (int d : shape) n = Math.multiplyExact(n, (long) d);
            return n;
        }

        public String shapeString() { return Arrays.toString(shape); }
    }

    /**
     * A tensor to write: {@code numel(shape)} consecutive values of a Java array, from {@code offset}, stored as
     * {@code dtype}. float arrays may be stored as F32, BF16 or F16 (rounded to nearest even); the array is read when the
     * file is written, not copied here.
     */
    public static final class TensorData {
        final DType dtype;
        final int[] shape;
        final Object array;
        final int offset;
        final int count;

        private TensorData(DType dtype, int[] shape, Object array, int arrayLength, int offset) {
            this.dtype = dtype;
            this.shape = shape.clone();
            long n = 1;
            for (int d : shape) {
                if (d < 0) throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
                n = Math.multiplyExact(n, (long) d);
            }
            if (offset < 0 || offset + n > arrayLength) {
                throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " at offset " + offset + " exceeds an array of " + arrayLength);
            }
            this.array = array;
            this.offset = offset;
            this.count = (int) n;
        }

        public static TensorData f32(float[] data, int[] shape) { return f32(data, 0, shape); }

        public static TensorData f32(float[] data, int offset, int[] shape) { return new TensorData(DType.F32, shape, data, data.length, offset); }

        public static TensorData bf16(float[] data, int offset, int[] shape) { return new TensorData(DType.BF16, shape, data, data.length, offset); }

        public static TensorData f16(float[] data, int offset, int[] shape) { return new TensorData(DType.F16, shape, data, data.length, offset); }

        public static TensorData f64(double[] data, int[] shape) { return new TensorData(DType.F64, shape, data, data.length, 0); }

        public static TensorData i64(long[] data, int[] shape) { return new TensorData(DType.I64, shape, data, data.length, 0); }

        public static TensorData i32(int[] data, int[] shape) { return new TensorData(DType.I32, shape, data, data.length, 0); }

        public DType dtype() { return dtype; }

        public int[] shape() { return shape.clone(); }

        long byteSize() { return (long) count * dtype.bytes; }

        /** Streams the values, converted to {@code dtype}, through {@code buf} (little-endian, capacity a multiple of 8). */
        void writeTo(FileChannel ch, ByteBuffer buf) throws IOException {
            int perChunk = buf.capacity() / dtype.bytes;
            for (int start = 0; start < count; start += perChunk) {
                int n = Math.min(perChunk, count - start);
                int from = offset + start;
                buf.clear();
                switch (dtype) {
                    case F32 -> buf.asFloatBuffer().put((float[]) array, from, n);
                    case F64 -> buf.asDoubleBuffer().put((double[]) array, from, n);
                    case I64 -> buf.asLongBuffer().put((long[]) array, from, n);
                    case I32 -> buf.asIntBuffer().put((int[]) array, from, n);
                    case BF16 -> {
                        float[] a = (float[]) array;
                        for (int i = 0; i < n; i++) buf.putShort(2 * i, floatToBf16(a[from + i]));
                    }
                    case F16 -> {
                        float[] a = (float[]) array;
                        for (int i = 0; i < n; i++) buf.putShort(2 * i, Float.floatToFloat16(a[from + i]));
                    }
                    default -> throw new IllegalStateException("no writer for " + dtype);
                }
                buf.limit(n * dtype.bytes);
                while (buf.hasRemaining()) ch.write(buf);
            }
        }
    }

    /** bfloat16 bits of {@code f}, rounded to nearest even (as torch's .to(torch.bfloat16)); NaN stays a quiet NaN. */
    public static short floatToBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if ((bits & 0x7fffffff) > 0x7f800000) return (short) ((bits >>> 16) | 0x0040);
        int roundingBias = 0x7fff + ((bits >>> 16) & 1);
        return (short) ((bits + roundingBias) >>> 16);
    }

    public static float bf16ToFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xffff) << 16);
    }

    /**
     * Writes {@code tensors} to {@code path} atomically (temp file, fsync, rename). Tensors are stored in name order, so
     * the same content always gives the same bytes; the header is padded with spaces so the data starts 8-aligned.
     */
    public static void write(Path path, Map<String, TensorData> tensors, Map<String, String> metadata) throws IOException {
        TreeMap<String, TensorData> sorted = new TreeMap<>(tensors);
        ObjectNode header = JSON.createObjectNode();
        if (!metadata.isEmpty()) {
            ObjectNode m = header.putObject(METADATA_KEY);
            new TreeMap<>(metadata).forEach(m::put);
        }
        long offset = 0;
        List<TensorData> order = new ArrayList<>();
        for (Map.Entry<String, TensorData> e : sorted.entrySet()) {
            String name = e.getKey();
            if (name.isEmpty() || name.equals(METADATA_KEY)) throw new IllegalArgumentException("invalid tensor name '" + name + "'");
            TensorData t = e.getValue();
            ObjectNode node = header.putObject(name);
            node.put("dtype", t.dtype.name());
            ArrayNode shape = node.putArray("shape");
            for (int d : t.shape) shape.add(d);
            ArrayNode offsets = node.putArray("data_offsets");
            offsets.add(offset);
            offset = Math.addExact(offset, t.byteSize());
            offsets.add(offset);
            order.add(t);
        }
        byte[] json = JSON.writeValueAsBytes(header);
        int padded = json.length + (8 - json.length % 8) % 8;
        AtomicFiles.write(path, ch -> {
            ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
            head.putLong(padded).put(json);
            while (head.hasRemaining()) head.put((byte) ' ');
            head.flip();
            while (head.hasRemaining()) ch.write(head);
            ByteBuffer buf = ByteBuffer.allocateDirect(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
            for (TensorData t : order) t.writeTo(ch, buf);
        });
    }
}

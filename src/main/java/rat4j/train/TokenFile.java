package rat4j.train;

import rat4j.model.io.FormatException;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A flat file of token ids as the reference's np.memmap files: little-endian uint16 (when the vocabulary fits) or
 * uint32, documents back to back, each followed by its EOS. Read through a memory mapping with long offsets, so files
 * beyond 2 GiB work.
 */
public final class TokenFile implements AutoCloseable {
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Path path;
    private final Arena arena;
    private final MemorySegment data;
    private final int width;      // bytes per token: 2 or 4
    private final long length;    // tokens

    private TokenFile(Path path, Arena arena, MemorySegment data, int width) {
        this.path = path;
        this.arena = arena;
        this.data = data;
        this.width = width;
        this.length = data.byteSize() / width;
    }

    /** Bytes per token for a vocabulary: 2 when every id fits in uint16, else 4. */
    public static int widthFor(int vocabSize) {
        return vocabSize <= 65536 ? 2 : 4;
    }

    public static String dtypeName(int width) {
        return switch (width) {
            case 2 -> "uint16";
            case 4 -> "uint32";
            default -> throw new IllegalArgumentException("token width must be 2 or 4 bytes, got " + width);
        };
    }

    public static int widthOf(String dtype) {
        return switch (dtype) {
            case "uint16" -> 2;
            case "uint32" -> 4;
            default -> throw new IllegalArgumentException("dtype must be uint16 or uint32, got '" + dtype + "'");
        };
    }

    /** Maps {@code path}, which must hold exactly {@code expectedTokens} tokens of {@code width} bytes. */
    public static TokenFile open(Path path, int width, long expectedTokens) throws IOException {
        dtypeName(width);
        long size = Files.size(path);
        long expected = Math.multiplyExact(expectedTokens, width);
        if (size != expected) {
            throw new FormatException(path + ": " + size + " bytes, but the manifest says " + expectedTokens + " tokens of " + width
                    + " bytes = " + expected + " (an interrupted or mixed-up prepare? run 'rat4j prepare' again)");
        }
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            MemorySegment seg = size == 0 ? MemorySegment.NULL : ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            return new TokenFile(path, arena, seg, width);
        } catch (IOException | RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    public Path path() { return path; }

    public long length() { return length; }

    public int width() { return width; }

    public int get(long i) {
        if (i < 0 || i >= length) throw new IndexOutOfBoundsException("token " + i + " of " + length + " in " + path);
        if (width == 2) return data.get(U16, i * 2) & 0xFFFF;
        int v = data.get(U32, i * 4);
        if (v < 0) throw new IllegalStateException(path + ": token " + i + " is " + Integer.toUnsignedString(v) + ", beyond any vocabulary");
        return v;
    }

    /** dst[off .. off + n) = tokens [from, from + n). */
    public void read(long from, int[] dst, int off, int n) {
        if (from < 0 || from + n > length) throw new IndexOutOfBoundsException("tokens [" + from + ", " + (from + n) + ") of " + length + " in " + path);
        for (int i = 0; i < n; i++) dst[off + i] = get(from + i);
    }

    @Override public void close() {
        arena.close();
    }

    /** Streams token ids into a new token file, written atomically on {@link #commit()}. */
    public static final class Writer implements AutoCloseable {
        private final AtomicOutput out;
        private final int width;
        private final ByteBuffer buffer = ByteBuffer.allocateDirect(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
        private final long limit;
        private long count;

        /** @param vocabSize every id written must be below it */
        public Writer(Path target, int vocabSize) throws IOException {
            this.width = widthFor(vocabSize);
            this.limit = vocabSize;
            this.out = new AtomicOutput(target);
        }

        public int width() { return width; }

        public long count() { return count; }

        public void write(int[] ids, int off, int n) throws IOException {
            for (int i = off; i < off + n; i++) write(ids[i]);
        }

        public void write(int id) throws IOException {
            if (id < 0 || id >= limit) throw new IllegalArgumentException("token id " + id + " is outside the vocabulary [0, " + limit + ")");
            if (buffer.remaining() < width) flush();
            if (width == 2) buffer.putShort((short) id);
            else buffer.putInt(id);
            count++;
        }

        private void flush() throws IOException {
            buffer.flip();
            out.write(buffer);
            buffer.clear();
        }

        public void commit() throws IOException {
            flush();
            out.commit();
        }

        @Override public void close() throws IOException {
            out.close();
        }
    }
}

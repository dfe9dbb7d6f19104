package rat4j.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import rat4j.model.io.FormatException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * Everything a run needs to continue exactly where it stopped: the parameters, AdamW's moments, the step (which fixes
 * the schedule's position), the data stream's position and generator state, and the run's config.
 * <pre>
 *   "RAT4JCKP" | u32 version | u32 header bytes | header JSON | params f32[n] | m f32[n] | v f32[n] | u64 CRC-32C | "RAT4JEND"
 * </pre>
 * all little-endian; the CRC covers every byte before it. Written atomically ({@link AtomicOutput}); a file that is
 * truncated or whose checksum does not match is refused with a message saying so.
 *
 * @param step         optimizer steps done
 * @param tokensSeen   training tokens consumed
 * @param dataPosition micro-batches drawn from the training stream
 * @param rngState     the training stream's generator state
 * @param bestValLoss  the lowest validation loss so far (NaN before the first validation)
 * @param runConfig    the run's {@link TrainConfig} as JSON
 */
public record Checkpoint(long step, long tokensSeen, long dataPosition, long rngState, double bestValLoss, String runConfig,
                         float[] params, float[] m, float[] v) {
    private static final byte[] MAGIC = "RAT4JCKP".getBytes(StandardCharsets.US_ASCII), END = "RAT4JEND".getBytes(StandardCharsets.US_ASCII);
    private static final int VERSION = 1, PREFIX = 16, SUFFIX = 16, CHUNK = 1 << 22;
    private static final List<String> KEYS = List.of("step", "tokens_seen", "data_position", "rng_state", "best_val_loss", "parameters", "run");

    public Checkpoint {
        if (params.length != m.length || params.length != v.length) throw new IllegalArgumentException("parameters and moments differ in length");
    }

    public void write(Path file) throws IOException {
        ObjectNode h = Json.object();
        h.put("step", step);
        h.put("tokens_seen", tokensSeen);
        h.put("data_position", dataPosition);
        h.put("rng_state", rngState);
        Json.putNumber(h, "best_val_loss", bestValLoss);
        h.put("parameters", params.length);
        h.set("run", Json.parseObject(runConfig));
        byte[] header = Json.compact(h).getBytes(StandardCharsets.UTF_8);
        CRC32C crc = new CRC32C();
        ByteBuffer buf = ByteBuffer.allocateDirect(CHUNK).order(ByteOrder.LITTLE_ENDIAN);
        try (AtomicOutput out = new AtomicOutput(file)) {
            ByteBuffer pre = ByteBuffer.allocate(PREFIX + header.length).order(ByteOrder.LITTLE_ENDIAN);
            pre.put(MAGIC).putInt(VERSION).putInt(header.length).put(header).flip();
            crc.update(pre.duplicate());
            out.write(pre);
            for (float[] a : List.of(params, m, v)) {
                for (int off = 0; off < a.length; ) {
                    int n = Math.min(a.length - off, CHUNK / 4);
                    buf.clear();
                    buf.asFloatBuffer().put(a, off, n);
                    buf.limit(n * 4);
                    crc.update(buf.duplicate());
                    out.write(buf);
                    off += n;
                }
            }
            ByteBuffer end = ByteBuffer.allocate(SUFFIX).order(ByteOrder.LITTLE_ENDIAN);
            end.putLong(crc.getValue()).put(END).flip();
            out.write(end);
            out.commit();
        }
    }

    /** Reads and verifies a checkpoint; a FormatException naming the file says what is wrong with a bad one. */
    public static Checkpoint read(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < PREFIX + SUFFIX) throw new FormatException(file + ": truncated or not a rat4j checkpoint (" + size + " bytes)");
            ByteBuffer pre = readFully(ch, 0, PREFIX);
            byte[] magic = new byte[8];
            pre.get(magic);
            if (!Arrays.equals(magic, MAGIC)) throw new FormatException(file + ": not a rat4j checkpoint (bad magic)");
            int version = pre.getInt(), headerLen = pre.getInt();
            ByteBuffer tail = readFully(ch, size - SUFFIX, SUFFIX);
            long storedCrc = tail.getLong();
            byte[] end = new byte[8];
            tail.get(end);
            if (!Arrays.equals(end, END)) throw new FormatException(file + ": truncated (no end marker after " + size + " bytes); the checkpoint is unusable");
            if (version != VERSION) throw new FormatException(file + ": checkpoint version " + version + " is not one this rat4j reads (" + VERSION + ")");
            long payload = size - PREFIX - SUFFIX - (long) headerLen;
            if (headerLen < 2 || payload < 0 || payload % 12 != 0 || payload / 12 > Integer.MAX_VALUE - 8) {
                throw new FormatException(file + ": corrupted (header length " + headerLen + " does not fit a file of " + size + " bytes)");
            }
            int n = (int) (payload / 12);
            CRC32C crc = new CRC32C();
            pre.rewind();
            crc.update(pre);
            ByteBuffer headerBuf = readFully(ch, PREFIX, headerLen);
            crc.update(headerBuf.duplicate());
            float[][] arrays = {new float[n], new float[n], new float[n]};
            ByteBuffer buf = ByteBuffer.allocateDirect(CHUNK).order(ByteOrder.LITTLE_ENDIAN);
            long pos = PREFIX + (long) headerLen;
            for (float[] a : arrays) {
                for (int off = 0; off < n; ) {
                    int k = Math.min(n - off, CHUNK / 4);
                    buf.clear().limit(k * 4);
                    while (buf.hasRemaining()) {
                        if (ch.read(buf, pos + buf.position()) < 0) throw new FormatException(file + ": truncated while reading");
                    }
                    buf.flip();
                    crc.update(buf.duplicate());
                    buf.asFloatBuffer().get(a, off, k);
                    pos += k * 4L;
                    off += k;
                }
            }
            if (crc.getValue() != storedCrc) {
                throw new FormatException(file + ": checksum mismatch (CRC-32C " + Long.toHexString(crc.getValue()) + ", stored "
                        + Long.toHexString(storedCrc) + "): the checkpoint is corrupted");
            }
            JsonNode h;
            try {
                h = Json.parseObject(StandardCharsets.UTF_8.decode(headerBuf).toString());
                Json.requireExactly(h, KEYS);
                if (Json.longValue(h, "parameters") != n) throw new IllegalArgumentException("header says " + Json.longValue(h, "parameters") + " parameters, file holds " + n);
                JsonNode run = Json.field(h, "run");
                if (!run.isObject()) throw new IllegalArgumentException("run must be an object");
                return new Checkpoint(Json.longValue(h, "step"), Json.longValue(h, "tokens_seen"), Json.longValue(h, "data_position"),
                        Json.longValue(h, "rng_state"), Json.number(h, "best_val_loss"), Json.pretty(run), arrays[0], arrays[1], arrays[2]);
            } catch (IllegalArgumentException e) {
                throw new FormatException(file + ": bad header: " + e.getMessage());
            }
        }
    }

    private static ByteBuffer readFully(FileChannel ch, long at, int n) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
        while (b.hasRemaining()) {
            if (ch.read(b, at + b.position()) < 0) throw new IOException("unexpected end of file");
        }
        return b.flip();
    }

    /** The checkpoint files of a run directory: RUN/checkpoints/step-NNNNNNNNNN.ckpt, newest kept, oldest pruned. */
    public static final class Store {
        public static final String DIR = "checkpoints";
        private final Path dir;

        public Store(Path runDir) {
            this.dir = runDir.resolve(DIR);
        }

        public Path dir() { return dir; }

        public Path fileFor(long step) {
            return dir.resolve(String.format("step-%010d.ckpt", step));
        }

        /** Checkpoint files, newest (highest step) first; temporary files of interrupted writes are not listed. */
        public List<Path> list() throws IOException {
            if (!Files.isDirectory(dir)) return List.of();
            try (var s = Files.list(dir)) {
                return s.filter(p -> p.getFileName().toString().matches("step-\\d{10}\\.ckpt")).sorted(java.util.Comparator.reverseOrder()).toList();
            }
        }

        /** Writes {@code c} and deletes all but the newest {@code keep} checkpoints. Returns the file written. */
        public Path save(Checkpoint c, int keep) throws IOException {
            Files.createDirectories(dir);
            Path f = fileFor(c.step());
            c.write(f);
            List<Path> all = list();
            for (int i = keep; i < all.size(); i++) Files.deleteIfExists(all.get(i));
            return f;
        }

        /** Deletes the temporary files that interrupted writes left behind. */
        public void removeLeftovers() throws IOException {
            if (!Files.isDirectory(dir)) return;
            try (var s = Files.list(dir)) {
                for (Path p : s.filter(AtomicOutput::isTemp).toList()) Files.deleteIfExists(p);
            }
        }
    }
}

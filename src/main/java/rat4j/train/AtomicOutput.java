package rat4j.train;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.util.HexFormat;

/**
 * A file written so that a crash never leaves it half done: the bytes go to a hidden sibling ".NAME.tmp-RANDOM",
 * {@link #commit()} forces them to disk, renames the sibling over the target (atomic within a directory on POSIX file
 * systems) and forces the directory so the rename is durable. Closing without committing deletes the sibling and
 * leaves the target as it was.
 */
public final class AtomicOutput implements AutoCloseable {
    private static final SecureRandom RANDOM = new SecureRandom();
    static final String TEMP_MARK = ".tmp-";

    private final Path target, temp;
    private final FileChannel channel;
    private boolean committed;

    public AtomicOutput(Path target) throws IOException {
        this.target = target.toAbsolutePath();
        Path dir = this.target.getParent();
        if (!Files.isDirectory(dir)) throw new NoSuchFileException(dir.toString(), null, "no such directory to write " + this.target.getFileName() + " into");
        byte[] r = new byte[6];
        RANDOM.nextBytes(r);
        this.temp = dir.resolve("." + this.target.getFileName() + TEMP_MARK + HexFormat.of().formatHex(r));
        this.channel = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
    }

    /** True for the hidden siblings this class writes (left behind only by a crash). */
    static boolean isTemp(Path p) {
        String n = p.getFileName().toString();
        return n.startsWith(".") && n.contains(TEMP_MARK);
    }

    public FileChannel channel() {
        return channel;
    }

    /** Writes all of {@code b}. */
    public void write(ByteBuffer b) throws IOException {
        while (b.hasRemaining()) channel.write(b);
    }

    public void commit() throws IOException {
        channel.force(true);
        channel.close();
        try {
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            throw new IOException("cannot rename " + temp + " to " + target + " atomically (" + e.getReason() + ")", e);
        }
        committed = true;
        fsyncDirectory(target.getParent());
    }

    @Override public void close() throws IOException {
        if (committed) return;
        channel.close();
        Files.deleteIfExists(temp);
    }

    /** Writes {@code bytes} to {@code target} atomically. */
    public static void write(Path target, byte[] bytes) throws IOException {
        try (AtomicOutput o = new AtomicOutput(target)) {
            o.write(ByteBuffer.wrap(bytes));
            o.commit();
        }
    }

    static void fsyncDirectory(Path dir) throws IOException {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (UnsupportedOperationException | AccessDeniedException e) {
            // Some platforms cannot open a directory; the rename itself is still atomic there.
        }
    }
}

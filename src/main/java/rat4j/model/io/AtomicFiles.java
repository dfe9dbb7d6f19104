package rat4j.model.io;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.nio.file.AccessDeniedException;

/**
 * Writes that a crash cannot leave half done: write a temporary sibling, force it to disk, rename it over the target
 * (rename within one directory is atomic on POSIX file systems), then force the directory so the rename is durable.
 */
final class AtomicFiles {
    private static final SecureRandom RANDOM = new SecureRandom();

    private AtomicFiles() {}

    interface ChannelWriter {
        void write(FileChannel channel) throws IOException;
    }

    /** Writes {@code target} atomically; on any failure the old target (if any) is untouched and no temp file stays. */
    static void write(Path target, ChannelWriter writer) throws IOException {
        Path abs = target.toAbsolutePath();
        Path dir = abs.getParent();
        if (!Files.isDirectory(dir)) throw new NoSuchFileException(dir.toString(), null, "no such directory to write " + abs.getFileName() + " into");
        Path tmp = siblingName(abs, "tmp");
        boolean moved = false;
        try {
            // Not Files.createTempFile: that makes the file owner-only; a model file should get the usual umask.
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                writer.write(ch);
                ch.force(true);
            }
            move(tmp, abs);
            moved = true;
            fsyncDirectory(dir);
        } finally {
            if (!moved) Files.deleteIfExists(tmp);
        }
    }

    /** A fresh name ".NAME.KIND-RANDOM" beside {@code path}; nothing is created. */
    static Path siblingName(Path path, String kind) {
        byte[] b = new byte[6];
        RANDOM.nextBytes(b);
        Path abs = path.toAbsolutePath();
        return abs.resolveSibling("." + abs.getFileName() + "." + kind + "-" + HexFormat.of().formatHex(b));
    }

    static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            throw new IOException("cannot rename " + from + " to " + to + " atomically (" + e.getReason() + ")", e);
        }
    }

    /** Makes renames inside {@code dir} durable. */
    static void fsyncDirectory(Path dir) throws IOException {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (UnsupportedOperationException | AccessDeniedException e) {
            // Some platforms (Windows) cannot open a directory; the rename itself is still atomic there.
        }
    }
}

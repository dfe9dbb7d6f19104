package rat4j.train;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rat4j.model.io.FormatException;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CheckpointTest {
    @TempDir Path dir;

    static Checkpoint sample(long step, int n) {
        SplittableRandom r = new SplittableRandom(step);
        float[] p = new float[n], m = new float[n], v = new float[n];
        for (int i = 0; i < n; i++) {
            p[i] = (float) r.nextGaussian();
            m[i] = (float) r.nextGaussian();
            v[i] = (float) r.nextDouble();
        }
        if (n > 2) {
            p[0] = -0.0f;
            p[1] = Float.MIN_VALUE;
        }
        return new Checkpoint(step, step * 64, step * 2, 0x1234_5678_9abc_def0L ^ step, step > 1 ? 2.5 : Double.NaN, "{\"run\": \"x\"}", p, m, v);
    }

    @Test void roundTripIsBitExact() throws IOException {
        for (int n : new int[] {0, 1, 1_048_577}) {
            Checkpoint c = sample(n == 0 ? 1 : 3, n);
            Path f = dir.resolve("c" + n + ".ckpt");
            c.write(f);
            Checkpoint back = Checkpoint.read(f);
            assertEquals(c.step(), back.step());
            assertEquals(c.tokensSeen(), back.tokensSeen());
            assertEquals(c.dataPosition(), back.dataPosition());
            assertEquals(c.rngState(), back.rngState());
            assertEquals(c.bestValLoss(), back.bestValLoss());
            assertEquals(Json.parseObject(c.runConfig()), Json.parseObject(back.runConfig()));
            for (int i = 0; i < n; i++) {
                if (Float.floatToRawIntBits(c.params()[i]) != Float.floatToRawIntBits(back.params()[i])) throw new AssertionError("param " + i);
            }
            assertArrayEquals(c.m(), back.m());
            assertArrayEquals(c.v(), back.v());
        }
        try (var s = Files.list(dir)) {
            assertTrue(s.noneMatch(AtomicOutput::isTemp), "no temporary files left");
        }
    }

    @Test void truncatedAndCorruptedFilesAreRefusedSayingSo() throws IOException {
        Path f = dir.resolve("c.ckpt");
        sample(5, 1000).write(f);
        byte[] good = Files.readAllBytes(f);

        Files.write(f, java.util.Arrays.copyOf(good, good.length - 100));
        assertTrue(assertThrows(FormatException.class, () -> Checkpoint.read(f)).getMessage().contains("truncated"));

        Files.write(f, java.util.Arrays.copyOf(good, 10));
        assertTrue(assertThrows(FormatException.class, () -> Checkpoint.read(f)).getMessage().contains("truncated"));

        for (int at : new int[] {20, 40, good.length / 2, good.length - 17}) {
            byte[] bad = good.clone();
            bad[at] ^= 0x10;
            Files.write(f, bad);
            String msg = assertThrows(FormatException.class, () -> Checkpoint.read(f)).getMessage();
            assertTrue(msg.contains("checksum mismatch") || msg.contains("corrupted"), "byte " + at + ": " + msg);
            assertTrue(msg.startsWith(f.toString()), msg);
        }
        byte[] bad = good.clone();
        bad[0] = 'X';
        Files.write(f, bad);
        assertTrue(assertThrows(FormatException.class, () -> Checkpoint.read(f)).getMessage().contains("not a rat4j checkpoint"));
    }

    @Test void theStoreKeepsTheNewestAndIgnoresInterruptedWrites() throws IOException {
        Checkpoint.Store store = new Checkpoint.Store(dir);
        for (long s = 1; s <= 4; s++) store.save(sample(s, 10), 2);
        assertEquals(List.of(store.fileFor(4), store.fileFor(3)), store.list());
        // a crash mid-write leaves only a hidden temporary file, which is neither listed nor mistaken for a checkpoint
        Path temp = store.dir().resolve(".step-0000000005.ckpt.tmp-abcdef");
        try (FileChannel ch = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ch.write(java.nio.ByteBuffer.wrap(new byte[] {1, 2, 3}));
        }
        assertEquals(List.of(store.fileFor(4), store.fileFor(3)), store.list());
        assertEquals(4, Checkpoint.read(store.list().getFirst()).step());
        store.removeLeftovers();
        assertTrue(Files.notExists(temp));
    }
}

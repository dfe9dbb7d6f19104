package rat4j.train;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rat4j.model.LanguageModel;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LmBatchesTest {
    @TempDir Path dir;
    static final int EOS = 9, X = LanguageModel.IGNORE_INDEX;

    TokenFile file(int vocab, int... ids) throws IOException {
        Path p = dir.resolve("t" + System.nanoTime() + ".bin");
        try (TokenFile.Writer w = new TokenFile.Writer(p, vocab)) {
            w.write(ids, 0, ids.length);
            w.commit();
        }
        return TokenFile.open(p, TokenFile.widthFor(vocab), ids.length);
    }

    @Test void labelsAreTheNextTokensAndIgnoredAfterAnEosInput() throws IOException {
        try (TokenFile f = file(10, 1, 2, EOS, 3, 4, EOS, 5, 6, 7)) {
            LmBatches b = new LmBatches(f, EOS, 2, 4, 1, TrainConfig.Sampling.ORDERED, 0);
            int[] x = new int[8], y = new int[8];
            b.next(x, y);
            assertArrayEquals(new int[] {1, 2, EOS, 3, 4, EOS, 5, 6}, x);
            // the input EOS at positions 2 and 5 must not be trained to predict the next document's first token
            assertArrayEquals(new int[] {2, EOS, X, 4, EOS, X, 6, 7}, y);
        }
    }

    @Test void orderedBatchesWalkTheFileAndStartOverAfterAnEpochOfWholeSteps() throws IOException {
        int[] ids = new int[50];
        for (int i = 0; i < ids.length; i++) ids[i] = i;
        try (TokenFile f = file(100, ids)) {
            // (50 - 1) / (B 2 x T 3 x A 2) = 4 steps per epoch = 8 micro-batches; tokens 48.. never start a row
            assertEquals(4, LmBatches.stepsPerEpoch(50, 2, 3, 2));
            LmBatches b = new LmBatches(f, 99, 2, 3, 2, TrainConfig.Sampling.ORDERED, 0);
            int[] x = new int[6], y = new int[6];
            for (int k = 0; k < 8; k++) {
                b.next(x, y);
                assertArrayEquals(new int[] {6 * k, 6 * k + 1, 6 * k + 2, 6 * k + 3, 6 * k + 4, 6 * k + 5}, x, "micro-batch " + k);
                assertArrayEquals(new int[] {6 * k + 1, 6 * k + 2, 6 * k + 3, 6 * k + 4, 6 * k + 5, 6 * k + 6}, y);
            }
            b.next(x, y);
            assertArrayEquals(new int[] {0, 1, 2, 3, 4, 5}, x, "second epoch");
            assertEquals(9, b.position());
        }
    }

    @Test void randomWindowsAreSeededAndSeekReproducesTheStream() throws IOException {
        int[] ids = new int[1000];
        for (int i = 0; i < ids.length; i++) ids[i] = i % 500;
        try (TokenFile f = file(500, ids)) {
            LmBatches a = new LmBatches(f, 499, 3, 8, 1, TrainConfig.Sampling.RANDOM, 42);
            LmBatches b = new LmBatches(f, 499, 3, 8, 1, TrainConfig.Sampling.RANDOM, 42);
            int[][] stream = new int[10][24];
            int[] y = new int[24], y2 = new int[24], x2 = new int[24];
            long[] states = new long[11];
            for (int k = 0; k < 10; k++) {
                states[k] = a.rngState();
                a.next(stream[k], y);
                b.next(x2, y2);
                assertArrayEquals(stream[k], x2, "same seed, same windows");
                for (int r = 0; r < 3; r++) {
                    for (int t = 1; t < 8; t++) assertEquals((stream[k][r * 8] + t) % 500, stream[k][r * 8 + t], "a contiguous window");
                }
            }
            assertFalse(Arrays.equals(stream[0], stream[1]), "windows move");
            b.seek(4, states[4]);
            for (int k = 4; k < 10; k++) {
                b.next(x2, y2);
                assertArrayEquals(stream[k], x2, "after seek, micro-batch " + k);
            }
            LmBatches other = new LmBatches(f, 499, 3, 8, 1, TrainConfig.Sampling.RANDOM, 43);
            other.next(x2, y2);
            assertFalse(Arrays.equals(stream[0], x2), "another seed, other windows");
        }
    }

    @Test void validationRowsAreTheOrderedWindowsUpToTheCap() throws IOException {
        try (TokenFile f = file(10, 1, 2, 3, EOS, 5, 6, 7, 8, 1, 2)) {
            Rows all = LmBatches.rows(f, EOS, 3, Long.MAX_VALUE);
            assertEquals(3, all.count(), "(10 - 1) / 3 rows");
            int[] x = new int[3], y = new int[3];
            all.fill(1, x, y, 0);
            assertArrayEquals(new int[] {EOS, 5, 6}, x);
            assertArrayEquals(new int[] {X, 6, 7}, y);
            assertEquals(2, LmBatches.rows(f, EOS, 3, 2).count());
        }
    }

    @Test void tooLittleDataIsRefusedWithTheSizes() throws IOException {
        try (TokenFile f = file(10, 1, 2, 3, 4, 5)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new LmBatches(f, EOS, 2, 4, 1, TrainConfig.Sampling.ORDERED, 0));
            assertTrue(e.getMessage().contains("holds 5 tokens") && e.getMessage().contains("2 x 1 x 4 + 1 = 9"), e.getMessage());
        }
    }

    @Test void tokenFilesUseUint16WhenTheVocabularyFitsAndCheckTheirSize() throws IOException {
        assertEquals(2, TokenFile.widthFor(65536));
        assertEquals(4, TokenFile.widthFor(65537));
        try (TokenFile f = file(70_000, 0, 69_999, 65_536)) {
            assertEquals(4, f.width());
            assertEquals(12, Files.size(f.path()));
            assertEquals(69_999, f.get(1));
            assertEquals(65_536, f.get(2));
            assertThrows(rat4j.model.io.FormatException.class, () -> TokenFile.open(f.path(), 4, 4));
        }
        Path p = dir.resolve("bad.bin");
        try (TokenFile.Writer w = new TokenFile.Writer(p, 10)) {
            assertThrows(IllegalArgumentException.class, () -> w.write(10));
        }
        assertFalse(Files.exists(p), "an uncommitted writer leaves nothing");
    }
}

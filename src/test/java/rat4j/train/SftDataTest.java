package rat4j.train;

import rat4j.tokenizer.ByteTokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rat4j.model.io.FormatException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SftDataTest {
    @TempDir Path dir;
    static final int E = ByteTokenizer.EOS, X = -100;

    static int[][] row(String prompt, String response, int seqLen) {
        SftData d = SftData.build(List.of(new SftData.Pair(prompt, response)), new ByteTokenizer(), seqLen);
        int[] x = new int[seqLen], y = new int[seqLen];
        d.fill(0, x, y, 0);
        return new int[][] {x, y};
    }

    @Test void onlyTheResponseAndItsEosCountInTheLoss() {
        int[][] r = row("ab", "cd", 8);
        assertArrayEquals(new int[] {'a', 'b', 'c', 'd', E, E, E, E}, r[0], "padded with EOS");
        // prompt positions but the last are ignored; the last prompt token predicts the first response token
        assertArrayEquals(new int[] {X, 'c', 'd', E, X, X, X, X}, r[1]);
    }

    @Test void anExactFitEndsWithTheEosLabel() {
        int[][] r = row("ab", "cde", 6);
        assertArrayEquals(new int[] {'a', 'b', 'c', 'd', 'e', E}, r[0]);
        assertArrayEquals(new int[] {X, 'c', 'd', 'e', E, X}, r[1]);
    }

    @Test void longPairsLoseTheirMiddleAsTheReferenceCutsThem() {
        // ids "abcdefgh" (prompt "abc"), T = 6: keep the first (T-1)/2 = 2 ids and the last 3, then the EOS
        int[][] r = row("abc", "defgh", 6);
        assertArrayEquals(new int[] {'a', 'b', 'f', 'g', 'h', E}, r[0]);
        // labels before the cut: [X, X, d, e, f, g, h]; kept: the first 2 and the last 2, then EOS, then the pad's X
        assertArrayEquals(new int[] {X, X, 'g', 'h', E, X}, r[1]);
    }

    @Test void anEmptyResponseStillLearnsToStop() {
        int[][] r = row("abc", "", 5);
        assertArrayEquals(new int[] {'a', 'b', 'c', E, E}, r[0]);
        assertArrayEquals(new int[] {X, X, E, X, X}, r[1]);
    }

    @Test void badPairsAreRefusedWithTheirLine() throws IOException {
        assertThrows(IllegalArgumentException.class, () -> row("", "x", 8));
        assertThrows(IllegalArgumentException.class, () -> row("a", "x", 2));
        Path f = dir.resolve("p.jsonl");
        Files.writeString(f, "{\"prompt\": \"q\", \"response\": \"a\", \"id\": 3}\n\n{\"prompt\": \"q\"}\n");
        FormatException e = assertThrows(FormatException.class, () -> SftData.readPairs(f));
        assertTrue(e.getMessage().contains("p.jsonl:3") && e.getMessage().contains("response"), e.getMessage());
        Files.writeString(f, "{\"prompt\": \"q\", \"response\": 3}\n");
        assertTrue(assertThrows(FormatException.class, () -> SftData.readPairs(f)).getMessage().contains("must be a string"));
        Files.writeString(f, "\n");
        assertTrue(assertThrows(FormatException.class, () -> SftData.readPairs(f)).getMessage().contains("no prompt/response pairs"));
        Files.writeString(f, "{\"prompt\": \"q\", \"response\": \"a\"}\n{\"prompt\": \"\u00e9\", \"response\": \"b\"}\n");
        List<SftData.Pair> pairs = SftData.readPairs(f);
        assertEquals(List.of(new SftData.Pair("q", "a"), new SftData.Pair("\u00e9", "b")), pairs);
    }

    @Test void randomRowsAreSeededAndResumable() {
        List<SftData.Pair> pairs = List.of(new SftData.Pair("a", "1"), new SftData.Pair("b", "2"), new SftData.Pair("c", "3"));
        SftData d = SftData.build(pairs, new ByteTokenizer(), 4);
        assertEquals(1, d.stepsPerEpoch(2, 1));
        BatchSource s = d.randomBatches(2, 5), t = d.randomBatches(2, 5);
        int[] x = new int[8], y = new int[8], x2 = new int[8], y2 = new int[8];
        s.next(x, y);
        long pos = s.position(), state = s.rngState();
        s.next(x, y);
        t.seek(pos, state);
        t.next(x2, y2);
        assertArrayEquals(x, x2);
        assertArrayEquals(y, y2);
        for (int r = 0; r < 2; r++) assertTrue("abc".indexOf(x[r * 4]) >= 0, "rows are whole pairs");
    }
}

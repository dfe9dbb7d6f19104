package rat4j.train;

import rat4j.tokenizer.Tokenizers;
import rat4j.tokenizer.ByteTokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DataPreparationTest {
    @TempDir Path dir;

    DataPreparation.Summary prepare(List<Path> inputs, Path out, double valFraction) throws IOException {
        return DataPreparation.prepare(new DataPreparation.Options(inputs, out, valFraction, 1005, new ByteTokenizer()), Progress.silent());
    }

    /** The documents of a token file: the texts between EOS tokens. */
    static List<String> documents(Path bin, long tokens) throws IOException {
        List<String> docs = new ArrayList<>();
        try (TokenFile f = TokenFile.open(bin, 2, tokens)) {
            java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
            for (long i = 0; i < f.length(); i++) {
                int t = f.get(i);
                if (t == ByteTokenizer.EOS) {
                    docs.add(bytes.toString(StandardCharsets.UTF_8));
                    bytes.reset();
                } else {
                    bytes.write(t);
                }
            }
            assertEquals(0, bytes.size(), "every document ends with EOS");
        }
        return docs;
    }

    @Test void everyTextFileBecomesOneDocumentFollowedByEos() throws IOException {
        Path text = Files.createDirectories(dir.resolve("text"));
        Files.writeString(text.resolve("b.txt"), "second\n\nwith a blank line");
        Files.createDirectories(text.resolve("sub"));
        Files.writeString(text.resolve("sub/c.md"), "th\u00e9 third");
        Files.writeString(text.resolve("a.txt"), "first");
        Files.write(text.resolve("blob.gz"), new byte[] {31, -117, 8, 0, 0, 0});
        Files.write(text.resolve("latin1.txt"), new byte[] {'c', 'a', 'f', (byte) 0xE9});
        Files.writeString(text.resolve("empty.txt"), "");
        Files.createDirectories(text.resolve(".git"));
        Files.writeString(text.resolve(".git/HEAD"), "ref: hidden");
        Files.writeString(text.resolve(".hidden"), "hidden");
        Path one = Files.writeString(dir.resolve("one.txt"), "named file");

        DataPreparation.Summary s = prepare(List.of(text, one), dir.resolve("data"), 0);
        DataManifest m = s.manifest();
        assertEquals(2, s.skippedNotText(), "the gzip and the Latin-1 file");
        assertEquals(1, s.skippedEmpty());
        assertEquals(4, m.trainDocuments());
        assertEquals(0, m.valDocuments());
        assertEquals("uint16", m.dtype());
        assertEquals(258, m.vocabSize());
        assertEquals(257, m.eosId());
        Set<String> docs = new HashSet<>(documents(dir.resolve("data/train.bin"), m.trainTokens()));
        assertEquals(Set.of("first", "second\n\nwith a blank line", "th\u00e9 third", "named file"), docs);
        long bytes = "first".length() + "second\n\nwith a blank line".length() + "th\u00e9 third".getBytes(StandardCharsets.UTF_8).length + "named file".length();
        assertEquals(bytes, m.textBytes());
        assertEquals(bytes + 4, m.trainTokens(), "one byte per token plus an EOS per document");
        assertEquals(m, DataManifest.read(dir.resolve("data")));
    }

    /** Texts kept from the text check (read once) or read again past the budget give the same files. */
    @Test void keptTextsAndTextsReadAgainGiveTheSameData() throws IOException {
        Path text = Fixtures.corpus(dir.resolve("text"), 30, 3);
        long[] budgets = {DataPreparation.KEEP_TEXT_BYTES, 0, 700};
        byte[][] train = new byte[budgets.length][], val = new byte[budgets.length][];
        for (int i = 0; i < budgets.length; i++) {
            Path out = dir.resolve("data" + i);
            DataPreparation.prepare(new DataPreparation.Options(List.of(text), out, 0.1, 1005, new ByteTokenizer()), Progress.silent(), budgets[i]);
            train[i] = Files.readAllBytes(out.resolve(DataManifest.TRAIN_FILE));
            val[i] = Files.readAllBytes(out.resolve(DataManifest.VAL_FILE));
            assertFalse(Files.exists(out.resolve(DataManifest.TOKENIZER_FILE)), "the byte tokenizer has no file");
        }
        for (int i = 1; i < budgets.length; i++) {
            assertArrayEquals(train[0], train[i], "train.bin with budget " + budgets[i]);
            assertArrayEquals(val[0], val[i], "val.bin with budget " + budgets[i]);
        }
    }

    @Test void theSplitIsByWholeDocumentsDeterministicAndRoundedUp() throws IOException {
        Path text = Fixtures.corpus(dir.resolve("text"), 30, 1);
        DataPreparation.Summary a = prepare(List.of(text), dir.resolve("a"), 0.1);
        DataPreparation.Summary b = prepare(List.of(text), dir.resolve("b"), 0.1);
        assertEquals(3, a.manifest().valDocuments(), "ceil(0.1 x 30)");
        assertEquals(27, a.manifest().trainDocuments());
        for (String f : List.of("train.bin", "val.bin", "manifest.json")) {
            assertArrayEquals(Files.readAllBytes(dir.resolve("a").resolve(f)), Files.readAllBytes(dir.resolve("b").resolve(f)), f + " is reproducible");
        }
        List<String> train = documents(dir.resolve("a/train.bin"), a.manifest().trainTokens());
        List<String> val = documents(dir.resolve("a/val.bin"), a.manifest().valTokens());
        Set<String> all = new HashSet<>(train);
        all.addAll(val);
        assertEquals(30, train.size() + val.size());
        assertEquals(ceil(0.005 * 30), prepare(List.of(text), dir.resolve("c"), 0.005).manifest().valDocuments(), "at least one held out");
        // another seed shuffles differently
        DataPreparation.prepare(new DataPreparation.Options(List.of(text), dir.resolve("d"), 0.1, 1, new ByteTokenizer()), Progress.silent());
        assertTrue(!java.util.Arrays.equals(Files.readAllBytes(dir.resolve("a/train.bin")), Files.readAllBytes(dir.resolve("d/train.bin"))));
        // preparing again into the same directory replaces it
        prepare(List.of(text), dir.resolve("a"), 0.2);
        assertEquals(6, DataManifest.read(dir.resolve("a")).valDocuments());
    }

    static int ceil(double x) {
        return (int) Math.ceil(x);
    }

    @Test void badInputsAreRefusedClearly() throws IOException {
        Path one = Files.writeString(dir.resolve("one.txt"), "only");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> prepare(List.of(one), dir.resolve("x"), 0.005));
        assertTrue(e.getMessage().contains("cannot hold out 1 of 1 document"), e.getMessage());
        Path bin = Files.write(dir.resolve("b.bin"), new byte[] {0, 1, 2});
        e = assertThrows(IllegalArgumentException.class, () -> prepare(List.of(bin), dir.resolve("x"), 0));
        assertTrue(e.getMessage().contains("not UTF-8 text"), e.getMessage());
        assertThrows(java.nio.file.NoSuchFileException.class, () -> prepare(List.of(dir.resolve("missing")), dir.resolve("x"), 0));
        Path busy = Files.createDirectories(dir.resolve("busy"));
        Files.writeString(busy.resolve("notes.txt"), "mine");
        IOException io = assertThrows(IOException.class, () -> prepare(List.of(one), busy, 0));
        assertTrue(io.getMessage().contains("notes.txt"), io.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new DataPreparation.Options(List.of(one), busy, 1.0, 0, new ByteTokenizer()));
        assertThrows(java.nio.file.NoSuchFileException.class, () -> Tokenizers.open("gpt2"));
    }
}

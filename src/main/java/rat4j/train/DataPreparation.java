package rat4j.train;

import rat4j.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Text files to the flat token files the trainer reads, as the reference's tokenize/fineweb_edu.py does for its corpus:
 * every file is one document, encoded without special tokens and followed by EOS; documents are shuffled with a seed and
 * the first ceil(val_fraction x documents) of the shuffled order are held out for validation (its
 * train_test_split(test_size=0.005, seed=1005, shuffle=True)); both splits keep the shuffled order.
 * Folders are walked recursively in sorted path order, skipping hidden entries and files that are not UTF-8 text.
 */
public final class DataPreparation {
    private DataPreparation() {}

    public static final double DEFAULT_VAL_FRACTION = 0.005;
    public static final long DEFAULT_SEED = 1005;

    public record Options(List<Path> inputs, Path out, double valFraction, long seed, Tokenizer encoder) {
        public Options {
            if (inputs == null || inputs.isEmpty()) throw new IllegalArgumentException("no input files or folders");
            inputs = List.copyOf(inputs);
            if (out == null) throw new IllegalArgumentException("no output directory");
            if (!(valFraction >= 0 && valFraction < 1)) throw new IllegalArgumentException("val fraction must be in [0, 1), got " + valFraction);
            if (encoder == null) throw new IllegalArgumentException("no tokenizer");
        }
    }

    /** What was written; skipped files were found in folders and are not UTF-8 text or are empty. */
    public record Summary(DataManifest manifest, int skippedNotText, int skippedEmpty, List<Path> skippedExamples, double seconds) {
        public long documents() { return manifest.trainDocuments() + manifest.valDocuments(); }

        public long tokens() { return manifest.trainTokens() + manifest.valTokens(); }

        public double tokensPerSecond() { return seconds > 0 ? tokens() / seconds : Double.NaN; }
    }

    private record Document(Path path, long bytes) {}

    private static final Set<String> OUTPUT_FILES = Set.of(DataManifest.FILE, DataManifest.TRAIN_FILE, DataManifest.VAL_FILE);

    public static Summary prepare(Options o, Progress progress) throws IOException {
        long start = System.nanoTime();
        Path out = o.out().toAbsolutePath().normalize();
        checkOutput(out);

        // Pass 1: the documents, so the split and the progress bar know them all before any token is written.
        Scan scan = new Scan();
        for (Path input : o.inputs()) scan.add(input, progress);
        List<Document> docs = scan.docs;
        if (docs.isEmpty()) throw new IllegalArgumentException("no text documents in " + o.inputs() + scan.skippedNote());
        int n = docs.size();
        int nVal = valCount(n, o.valFraction(), "document");
        int[] order = new SplitMix64(o.seed()).permutation(n);
        long totalBytes = 0;
        for (Document d : docs) totalBytes += d.bytes();

        // Pass 2: encode and write; the old manifest goes first so a crash in between leaves no stale manifest.
        Files.createDirectories(out);
        Files.deleteIfExists(out.resolve(DataManifest.FILE));
        Tokenizer enc = o.encoder();
        long[] tokens = new long[2], documents = new long[2];  // [train, val]
        long doneBytes = 0;
        try (TokenFile.Writer train = new TokenFile.Writer(out.resolve(DataManifest.TRAIN_FILE), enc.vocabSize());
             TokenFile.Writer val = new TokenFile.Writer(out.resolve(DataManifest.VAL_FILE), enc.vocabSize())) {
            for (int k = 0; k < n; k++) {
                Document d = docs.get(order[k]);
                boolean isVal = k < nVal;
                int[] ids = enc.encode(readText(d.path()));
                TokenFile.Writer w = isVal ? val : train;
                w.write(ids, 0, ids.length);
                w.write(enc.eosId());
                tokens[isVal ? 1 : 0] += ids.length + 1;
                documents[isVal ? 1 : 0]++;
                doneBytes += d.bytes();
                double secs = (System.nanoTime() - start) / 1e9;
                double frac = totalBytes == 0 ? 1 : (double) doneBytes / totalBytes;
                progress.update(String.format("prepare %s %5.1f%% %d/%d docs, %s tokens, %s tokens/s, ETA %s", Progress.bar(frac, 24), 100 * frac,
                        k + 1, n, Progress.count(tokens[0] + tokens[1]), Progress.count((tokens[0] + tokens[1]) / secs),
                        Progress.duration(frac > 0 ? secs * (1 - frac) / frac : Double.NaN)));
            }
            train.commit();
            val.commit();
        }
        DataManifest m = new DataManifest(enc.name(), enc.vocabSize(), enc.eosId(), TokenFile.dtypeName(TokenFile.widthFor(enc.vocabSize())),
                tokens[0], tokens[1], documents[0], documents[1], totalBytes, o.valFraction(), o.seed());
        AtomicOutput.write(out.resolve(DataManifest.FILE), m.toJson().getBytes(StandardCharsets.UTF_8));
        double secs = (System.nanoTime() - start) / 1e9;
        progress.finish(String.format("prepare %s 100.0%% %d docs, %s tokens in %s", Progress.bar(1, 24), n,
                Progress.count(tokens[0] + tokens[1]), Progress.duration(secs)));
        return new Summary(m, scan.notText, scan.empty, List.copyOf(scan.examples), secs);
    }

    /**
     * How many of n items to hold out: ceil(fraction x n), as the reference's train_test_split; refuses a split that
     * would leave nothing to train on.
     */
    static int valCount(int n, double fraction, String item) {
        int nVal = fraction == 0 ? 0 : (int) Math.ceil(fraction * n);
        if (nVal >= n) {
            throw new IllegalArgumentException("cannot hold out " + nVal + " of " + n + " " + item + (n == 1 ? "" : "s")
                    + " for validation and keep any for training; give more " + item + "s or --val-fraction 0");
        }
        return nVal;
    }

    /** The output directory must be new, empty, or hold only what an earlier prepare wrote. */
    private static void checkOutput(Path out) throws IOException {
        if (!Files.exists(out, LinkOption.NOFOLLOW_LINKS)) return;
        if (!Files.isDirectory(out)) throw new IOException(out + " exists and is not a directory");
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(out)) {
            for (Path p : entries) {
                if (!OUTPUT_FILES.contains(p.getFileName().toString()) && !AtomicOutput.isTemp(p)) {
                    throw new IOException(out + " holds " + p.getFileName() + ", which 'rat4j prepare' did not write; choose a new or empty --out");
                }
            }
        }
    }

    /** Pass 1 over the inputs: documents in order, files from folders that are not text counted and left out. */
    private static final class Scan {
        final List<Document> docs = new ArrayList<>();
        final Set<Path> seen = new LinkedHashSet<>();
        final List<Path> examples = new ArrayList<>();
        int notText, empty;

        void add(Path input, Progress progress) throws IOException {
            if (!Files.exists(input)) throw new NoSuchFileException(input.toString(), null, "no such file or folder");
            if (Files.isDirectory(input)) {
                List<Path> files = new ArrayList<>();
                Files.walkFileTree(input, new SimpleFileVisitor<>() {
                    @Override public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
                        return !dir.equals(input) && hidden(dir) ? FileVisitResult.SKIP_SUBTREE : FileVisitResult.CONTINUE;
                    }

                    @Override public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                        if (attrs.isRegularFile() && !hidden(file)) files.add(file);
                        return FileVisitResult.CONTINUE;
                    }
                });
                files.sort((a, b) -> input.relativize(a).toString().compareTo(input.relativize(b).toString()));
                for (Path f : files) {
                    progress.update("prepare: scanning " + input + ": " + docs.size() + " documents");
                    addFile(f, false);
                }
            } else {
                addFile(input, true);
            }
        }

        private void addFile(Path file, boolean named) throws IOException {
            if (!seen.add(file.toRealPath())) return;
            byte[] b = Files.readAllBytes(file);
            if (b.length == 0) {
                if (named) throw new IllegalArgumentException(file + " is empty");
                empty++;
                return;
            }
            if (!isText(b)) {
                if (named) throw new IllegalArgumentException(file + " is not UTF-8 text");
                notText++;
                if (examples.size() < 3) examples.add(file);
                return;
            }
            docs.add(new Document(file, b.length));
        }

        String skippedNote() {
            return notText + empty == 0 ? "" : " (skipped " + notText + " files that are not UTF-8 text and " + empty + " empty ones)";
        }

        private static boolean hidden(Path p) {
            return p.getFileName() != null && p.getFileName().toString().startsWith(".");
        }
    }

    /** Valid UTF-8 without NUL characters (which text never holds and binary formats nearly always do). */
    static boolean isText(byte[] b) {
        for (byte x : b) if (x == 0) return false;
        try {
            decoder().decode(ByteBuffer.wrap(b));
            return true;
        } catch (CharacterCodingException e) {
            return false;
        }
    }

    private static CharsetDecoder decoder() {
        return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
    }

    private static String readText(Path p) throws IOException {
        byte[] b = Files.readAllBytes(p);
        try {
            CharBuffer c = decoder().decode(ByteBuffer.wrap(b));
            return c.toString();
        } catch (CharacterCodingException e) {
            throw new IOException(p + " changed while preparing: it is no longer UTF-8 text");
        }
    }
}

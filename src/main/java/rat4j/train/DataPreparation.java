package rat4j.train;

import rat4j.tokenizer.ByteTokenizer;
import rat4j.tokenizer.Tokenizer;
import rat4j.tokenizer.Tokenizers;
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

    /**
     * @param tokenizerFile the SentencePiece tokenizer.model the encoder was read from, copied into the output so the
     *                      trainer can store it with its models; null for the byte tokenizer (or to copy nothing)
     */
    public record Options(List<Path> inputs, Path out, double valFraction, long seed, Tokenizer encoder, Path tokenizerFile) {
        public Options {
            if (inputs == null || inputs.isEmpty()) throw new IllegalArgumentException("no input files or folders");
            inputs = List.copyOf(inputs);
            if (out == null) throw new IllegalArgumentException("no output directory");
            if (!(valFraction >= 0 && valFraction < 1)) throw new IllegalArgumentException("val fraction must be in [0, 1), got " + valFraction);
            if (encoder == null) throw new IllegalArgumentException("no tokenizer");
            if (tokenizerFile != null && encoder.name().equals(ByteTokenizer.NAME)) throw new IllegalArgumentException("the byte tokenizer has no file to copy");
        }

        /** Options that copy no tokenizer file (the byte tokenizer needs none). */
        public Options(List<Path> inputs, Path out, double valFraction, long seed, Tokenizer encoder) {
            this(inputs, out, valFraction, seed, encoder, null);
        }

        /** Options for a tokenizer spec as Tokenizers.open takes it: "byte" or the path of a tokenizer.model (copied). */
        public static Options of(List<Path> inputs, Path out, double valFraction, long seed, String tokenizer) throws IOException {
            Tokenizer enc = Tokenizers.open(tokenizer);
            return new Options(inputs, out, valFraction, seed, enc, enc.name().equals(ByteTokenizer.NAME) ? null : Path.of(tokenizer));
        }
    }

    /** What was written; skipped files were found in folders and are not UTF-8 text or are empty. */
    public record Summary(DataManifest manifest, int skippedNotText, int skippedEmpty, List<Path> skippedExamples, double seconds) {
        public long documents() { return manifest.trainDocuments() + manifest.valDocuments(); }

        public long tokens() { return manifest.trainTokens() + manifest.valTokens(); }

        public double tokensPerSecond() { return seconds > 0 ? tokens() / seconds : Double.NaN; }
    }

    private record Document(Path path, long bytes) {}

    private static final Set<String> OUTPUT_FILES = Set.of(DataManifest.FILE, DataManifest.TRAIN_FILE, DataManifest.VAL_FILE, DataManifest.TOKENIZER_FILE);

    /**
     * Pass 1 reads every file to check it is text; up to this many bytes of them are kept for pass 2, so a corpus of
     * that size is read from disk once (larger ones are read again, file by file, to bound the memory).
     */
    static final long KEEP_TEXT_BYTES = 256L << 20;

    public static Summary prepare(Options o, Progress progress) throws IOException {
        return prepare(o, progress, KEEP_TEXT_BYTES);
    }

    static Summary prepare(Options o, Progress progress, long keepTextBytes) throws IOException {
        long start = System.nanoTime();
        Path out = o.out().toAbsolutePath().normalize();
        checkOutput(out);

        // Pass 1: the documents, so the split and the progress bar know them all before any token is written.
        Scan scan = new Scan(keepTextBytes);
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
                byte[] kept = scan.kept.set(order[k], null); // released once encoded
                int[] ids = enc.encode(kept != null ? decode(kept, d.path()) : readText(d.path()));
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
        if (o.tokenizerFile() != null) {
            AtomicOutput.write(out.resolve(DataManifest.TOKENIZER_FILE), Files.readAllBytes(o.tokenizerFile()));
        } else {
            Files.deleteIfExists(out.resolve(DataManifest.TOKENIZER_FILE)); // an earlier prepare's, not this data's
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
        final List<byte[]> kept = new ArrayList<>(); // (docs) the text of each document, or null when over the budget
        long keepBudget;
        final Set<Path> seen = new LinkedHashSet<>();
        final List<Path> examples = new ArrayList<>();
        int notText, empty;

        Scan(long keepBudget) {
            this.keepBudget = keepBudget;
        }

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
            boolean keep = b.length <= keepBudget;
            kept.add(keep ? b : null);
            if (keep) keepBudget -= b.length;
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
        return decode(Files.readAllBytes(p), p);
    }

    private static String decode(byte[] b, Path p) throws IOException {
        try {
            CharBuffer c = decoder().decode(ByteBuffer.wrap(b));
            return c.toString();
        } catch (CharacterCodingException e) {
            throw new IOException(p + " changed while preparing: it is no longer UTF-8 text");
        }
    }
}

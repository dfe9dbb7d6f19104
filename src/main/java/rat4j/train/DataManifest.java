package rat4j.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import rat4j.model.io.FormatException;
import rat4j.tokenizer.ByteTokenizer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;

/**
 * DIR/manifest.json of prepared data: which tokenizer made DIR/train.bin and DIR/val.bin, their dtype, and what they hold.
 * A SentencePiece tokenizer travels with the data as DIR/tokenizer.model (a copy of the file that encoded it), so the
 * trainer can store it in every model directory it writes; the byte tokenizer needs no file.
 * <pre>
 * {"format_version": 1, "tokenizer": "byte", "vocab_size": 258, "eos_id": 257, "dtype": "uint16",
 *  "train_tokens": 123, "val_tokens": 45, "train_documents": 9, "val_documents": 1, "text_bytes": 160,
 *  "val_fraction": 0.005, "seed": 1005}
 * </pre>
 */
public record DataManifest(String tokenizer, int vocabSize, int eosId, String dtype, long trainTokens, long valTokens,
                           long trainDocuments, long valDocuments, long textBytes, double valFraction, long seed) {
    public static final int FORMAT_VERSION = 1;
    public static final String FILE = "manifest.json", TRAIN_FILE = "train.bin", VAL_FILE = "val.bin", TOKENIZER_FILE = "tokenizer.model";
    private static final List<String> KEYS = List.of("format_version", "tokenizer", "vocab_size", "eos_id", "dtype", "train_tokens",
            "val_tokens", "train_documents", "val_documents", "text_bytes", "val_fraction", "seed");

    public DataManifest {
        if (tokenizer == null || tokenizer.isEmpty()) throw new IllegalArgumentException("tokenizer is missing");
        if (vocabSize < 1) throw new IllegalArgumentException("vocab_size must be >= 1, got " + vocabSize);
        if (eosId < 0 || eosId >= vocabSize) throw new IllegalArgumentException("eos_id " + eosId + " is outside the vocabulary [0, " + vocabSize + ")");
        if (TokenFile.widthOf(dtype) < TokenFile.widthFor(vocabSize)) throw new IllegalArgumentException("dtype " + dtype + " cannot hold vocab_size " + vocabSize);
        if (trainTokens < 0 || valTokens < 0 || trainDocuments < 0 || valDocuments < 0 || textBytes < 0) {
            throw new IllegalArgumentException("token, document and byte counts must be >= 0");
        }
        if (!(valFraction >= 0 && valFraction < 1)) throw new IllegalArgumentException("val_fraction must be in [0, 1), got " + valFraction);
    }

    public int tokenWidth() {
        return TokenFile.widthOf(dtype);
    }

    public String toJson() {
        ObjectNode n = Json.object();
        n.put("format_version", FORMAT_VERSION);
        n.put("tokenizer", tokenizer);
        n.put("vocab_size", vocabSize);
        n.put("eos_id", eosId);
        n.put("dtype", dtype);
        n.put("train_tokens", trainTokens);
        n.put("val_tokens", valTokens);
        n.put("train_documents", trainDocuments);
        n.put("val_documents", valDocuments);
        n.put("text_bytes", textBytes);
        n.put("val_fraction", valFraction);
        n.put("seed", seed);
        return Json.pretty(n);
    }

    public static DataManifest fromJson(String json) {
        JsonNode n = Json.parseObject(json);
        Json.requireExactly(n, KEYS);
        int v = Json.intValue(n, "format_version");
        if (v != FORMAT_VERSION) throw new IllegalArgumentException("format_version " + v + " is not one this rat4j reads (" + FORMAT_VERSION + ")");
        return new DataManifest(Json.text(n, "tokenizer"), Json.intValue(n, "vocab_size"), Json.intValue(n, "eos_id"), Json.text(n, "dtype"),
                Json.longValue(n, "train_tokens"), Json.longValue(n, "val_tokens"), Json.longValue(n, "train_documents"),
                Json.longValue(n, "val_documents"), Json.longValue(n, "text_bytes"), Json.number(n, "val_fraction"), Json.longValue(n, "seed"));
    }

    public static DataManifest read(Path dir) throws IOException {
        Path f = dir.resolve(FILE);
        if (!Files.isRegularFile(f)) throw new NoSuchFileException(f.toString(), null, "no " + FILE + " (not a directory made by 'rat4j prepare'?)");
        try {
            return fromJson(Files.readString(f, StandardCharsets.UTF_8));
        } catch (IllegalArgumentException e) {
            throw new FormatException(f + ": " + e.getMessage());
        }
    }

    /**
     * The tokenizer of the data in {@code dir} as a spec for rat4j.tokenizer.Tokenizers.open: "byte", the path of
     * DIR/tokenizer.model, or null for data prepared before the tokenizer travelled with it.
     */
    public String tokenizerSpec(Path dir) {
        if (tokenizer.equals(ByteTokenizer.NAME)) return ByteTokenizer.NAME;
        Path f = dir.resolve(TOKENIZER_FILE);
        return Files.isRegularFile(f) ? f.toAbsolutePath().normalize().toString() : null;
    }

    /** The prepared data of {@code dir}: its manifest and both token files, mapped. */
    public record Prepared(DataManifest manifest, TokenFile train, TokenFile val) implements AutoCloseable {
        public static Prepared open(Path dir) throws IOException {
            DataManifest m = read(dir);
            TokenFile train = TokenFile.open(dir.resolve(TRAIN_FILE), m.tokenWidth(), m.trainTokens());
            try {
                return new Prepared(m, train, TokenFile.open(dir.resolve(VAL_FILE), m.tokenWidth(), m.valTokens()));
            } catch (IOException | RuntimeException e) {
                train.close();
                throw e;
            }
        }

        @Override public void close() {
            train.close();
            val.close();
        }
    }
}

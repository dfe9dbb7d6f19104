package rat4j.tokenizer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The parts of a SentencePiece {@code ModelProto} (a {@code tokenizer.model} file; schema in SentencePiece's
 * src/sentencepiece_model.proto) that encoding and decoding use. Fields the encoder does not use (the training
 * corpus, sizes, self-test data) are skipped. Immutable.
 *
 * @param pieces     the vocabulary, id = index
 * @param trainer    the trainer_spec fields that matter after training
 * @param normalizer the normalizer_spec
 * @param denormalizer the denormalizer_spec, or null when the model has none (Llama 2's has none)
 */
public record SentencePieceModel(List<Piece> pieces, TrainerSpec trainer, NormalizerSpec normalizer, NormalizerSpec denormalizer) {

    /** ModelProto.SentencePiece.Type, with the proto's numbers. */
    public enum Type {
        NORMAL(1), UNKNOWN(2), CONTROL(3), USER_DEFINED(4), UNUSED(5), BYTE(6);

        final int number;

        Type(int number) { this.number = number; }

        static Type of(int number) {
            for (Type t : values()) if (t.number == number) return t;
            throw new IllegalArgumentException("unknown piece type " + number);
        }
    }

    public record Piece(String piece, float score, Type type) {}

    /** TrainerSpec.ModelType, with the proto's numbers. */
    public enum ModelType {
        UNIGRAM(1), BPE(2), WORD(3), CHAR(4);

        final int number;

        ModelType(int number) { this.number = number; }

        static ModelType of(int number) {
            for (ModelType t : values()) if (t.number == number) return t;
            throw new IllegalArgumentException("unknown model_type " + number);
        }
    }

    /** TrainerSpec fields, with the proto's defaults when absent. */
    public record TrainerSpec(ModelType modelType, int vocabSize, boolean byteFallback, boolean treatWhitespaceAsSuffix,
                              int unkId, int bosId, int eosId, int padId,
                              String unkPiece, String bosPiece, String eosPiece, String padPiece, String unkSurface) {}

    /** NormalizerSpec fields, with the proto's defaults when absent. */
    public record NormalizerSpec(String name, byte[] precompiledCharsMap, boolean addDummyPrefix,
                                 boolean removeExtraWhitespaces, boolean escapeWhitespaces) {
        public NormalizerSpec {
            precompiledCharsMap = precompiledCharsMap.clone();
        }

        @Override public byte[] precompiledCharsMap() { return precompiledCharsMap.clone(); }
    }

    public SentencePieceModel {
        pieces = List.copyOf(pieces);
    }

    public static SentencePieceModel read(Path file) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        try {
            return parse(bytes);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": not a SentencePiece model: " + e.getMessage(), e);
        }
    }

    /** Parses a serialized ModelProto. */
    public static SentencePieceModel parse(byte[] bytes) {
        ProtoReader r = new ProtoReader(bytes, 0, bytes.length, "ModelProto");
        List<Piece> pieces = new ArrayList<>();
        TrainerSpec trainer = null;
        NormalizerSpec normalizer = null;
        NormalizerSpec denormalizer = null;
        while (r.next()) {
            switch (r.field()) {
                case 1 -> pieces.add(piece(r.readMessage("pieces[" + pieces.size() + "]")));
                case 2 -> trainer = trainer(r.readMessage("trainer_spec"));
                case 3 -> normalizer = normalizer(r.readMessage("normalizer_spec"));
                case 5 -> denormalizer = normalizer(r.readMessage("denormalizer_spec"));
                default -> r.skip();
            }
        }
        if (pieces.isEmpty()) throw new IllegalArgumentException("no pieces");
        if (trainer == null) trainer = trainer(new ProtoReader(new byte[0], 0, 0, "trainer_spec"));
        if (normalizer == null) normalizer = normalizer(new ProtoReader(new byte[0], 0, 0, "normalizer_spec"));
        return new SentencePieceModel(pieces, trainer, normalizer, denormalizer);
    }

    private static Piece piece(ProtoReader r) {
        String piece = null;
        float score = 0;
        Type type = Type.NORMAL;
        while (r.next()) {
            switch (r.field()) {
                case 1 -> piece = r.readUtf8();
                case 2 -> score = r.readFloat();
                case 3 -> type = Type.of(r.readInt32());
                default -> r.skip();
            }
        }
        if (piece == null || piece.isEmpty()) throw new IllegalArgumentException("a piece is empty");
        return new Piece(piece, score, type);
    }

    private static TrainerSpec trainer(ProtoReader r) {
        ModelType modelType = ModelType.UNIGRAM;
        int vocabSize = 8000, unkId = 0, bosId = 1, eosId = 2, padId = -1;
        boolean byteFallback = false, suffix = false;
        String unk = "<unk>", bos = "<s>", eos = "</s>", pad = "<pad>", unkSurface = " \u2047 ";
        while (r.next()) {
            switch (r.field()) {
                case 3 -> modelType = ModelType.of(r.readInt32());
                case 4 -> vocabSize = r.readInt32();
                case 24 -> suffix = r.readBool();
                case 35 -> byteFallback = r.readBool();
                case 40 -> unkId = r.readInt32();
                case 41 -> bosId = r.readInt32();
                case 42 -> eosId = r.readInt32();
                case 43 -> padId = r.readInt32();
                case 44 -> unkSurface = r.readString();
                case 45 -> unk = r.readString();
                case 46 -> bos = r.readString();
                case 47 -> eos = r.readString();
                case 48 -> pad = r.readString();
                default -> r.skip();
            }
        }
        return new TrainerSpec(modelType, vocabSize, byteFallback, suffix, unkId, bosId, eosId, padId, unk, bos, eos, pad, unkSurface);
    }

    private static NormalizerSpec normalizer(ProtoReader r) {
        String name = "";
        byte[] charsMap = new byte[0];
        boolean dummy = true, removeExtra = true, escape = true;
        while (r.next()) {
            switch (r.field()) {
                case 1 -> name = r.readString();
                case 2 -> charsMap = r.readBytes();
                case 3 -> dummy = r.readBool();
                case 4 -> removeExtra = r.readBool();
                case 5 -> escape = r.readBool();
                default -> r.skip();
            }
        }
        return new NormalizerSpec(name, charsMap, dummy, removeExtra, escape);
    }
}

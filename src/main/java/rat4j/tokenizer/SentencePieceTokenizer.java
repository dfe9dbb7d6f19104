package rat4j.tokenizer;

import rat4j.tokenizer.SentencePieceModel.Piece;
import rat4j.tokenizer.SentencePieceModel.Type;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.BitSet;
import java.util.HashMap;
import java.util.Map;

/**
 * A SentencePiece BPE tokenizer (Llama 2's), byte-exact with SentencePiece's encoder and decoder
 * (src/bpe_model.cc, src/sentencepiece_processor.cc, src/normalizer.cc). Immutable and thread-safe.
 *
 * <p>Encoding: the text is normalized (see {@link Normalizer}; for Llama 2 only a leading space and spaces as U+2581),
 * split into characters (user-defined symbols stay whole), then the adjacent pair whose concatenation is a piece with
 * the highest score is merged, the leftmost on ties, until no pair is a piece. Characters that are no piece become
 * their UTF-8 bytes as {@code <0xXX>} pieces (byte fallback) or the unknown id.
 *
 * <p>Speed: a binary heap of candidate pairs over a linked list of symbols, O(n log n) (the reference's agenda). The
 * text is also cut into runs that are merged one at a time, which keeps the heap small and in cache: between two
 * adjacent characters that occur next to each other in no piece (for Llama 2, a letter and the U+2581 after it: pieces
 * carry their space in front), and around characters that occur in no mergeable pair (newline, tab, most CJK and
 * emoji). That is exact: a merge across such a cut would make a piece holding both characters side by side, and
 * merges in one run never change the pairs of another. {@link NaiveBpe} is the quadratic reference the tests compare
 * against.
 */
public final class SentencePieceTokenizer implements Tokenizer {
    private final String name;
    private final int vocab;
    private final String[] pieces;          // (V)
    private final float[] scores;           // (V)
    private final Type[] types;             // (V)
    private final int[] pieceBytes;         // (V) UTF-8 length of each piece
    private final int[] byteValue;          // (V) the byte of a BYTE piece, else -1
    private final int[] byteIds;            // (256) the <0xXX> piece of each byte, when byte fallback is on
    private final boolean byteFallback;
    private final int unkId, bosId, eosId;
    private final String unkSurface;
    private final boolean stripLeadingSpace, removeExtraWhitespaces;
    /** Single-character pieces among the mergeable ones (NORMAL, USER_DEFINED, UNUSED): code point -> id. */
    private final int[] bmpKeys;            // (65536), -1 where the character is no such piece
    private final LongIntMap astralKeys;
    /** Reserved (CONTROL, UNKNOWN, BYTE) pieces that are one character: code point -> id. */
    private final LongIntMap reservedChars;
    /** (left key << 32 | right key) -> id of the piece their concatenation is. */
    private final LongIntMap pairs;
    /** Keys that occur in some pair; every other character is a barrier no merge crosses. */
    private final BitSet mergeable;
    /** (code point << 21 | next code point) of every two characters side by side in a mergeable piece. */
    private final LongIntMap bigrams;
    private final boolean hasUnused;
    private final PrefixMatcher userDefined;
    private final Normalizer normalizer;
    private final Normalizer denormalizer;

    public static SentencePieceTokenizer load(Path file) throws IOException {
        SentencePieceModel model = SentencePieceModel.read(file);
        try {
            return new SentencePieceTokenizer(model, "sentencepiece-bpe:" + file.getFileName());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
    }

    public SentencePieceTokenizer(SentencePieceModel model, String name) {
        this.name = name;
        if (model.trainer().modelType() != SentencePieceModel.ModelType.BPE) {
            throw new IllegalArgumentException("model_type " + model.trainer().modelType() + " is not supported; rat4j implements SentencePiece BPE models (Llama 2's)");
        }
        vocab = model.pieces().size();
        pieces = new String[vocab];
        scores = new float[vocab];
        types = new Type[vocab];
        pieceBytes = new int[vocab];
        byteValue = new int[vocab];
        byteIds = new int[256];
        Arrays.fill(byteIds, -1);
        byteFallback = model.trainer().byteFallback();
        Map<String, Integer> ids = new HashMap<>(vocab * 2);
        Map<String, Integer> userSymbols = new HashMap<>();
        int unk = -1;
        boolean unused = false;
        for (int i = 0; i < vocab; i++) {
            Piece p = model.pieces().get(i);
            pieces[i] = p.piece();
            scores[i] = p.score();
            types[i] = p.type();
            pieceBytes[i] = p.piece().getBytes(StandardCharsets.UTF_8).length;
            byteValue[i] = -1;
            Integer dup = ids.put(p.piece(), i);
            if (dup != null) throw new IllegalArgumentException("piece \"" + p.piece() + "\" is defined twice, ids " + dup + " and " + i);
            switch (p.type()) {
                case UNKNOWN -> {
                    if (unk >= 0) throw new IllegalArgumentException("two unknown pieces, ids " + unk + " and " + i);
                    unk = i;
                }
                case BYTE -> {
                    if (!byteFallback) throw new IllegalArgumentException("byte piece " + p.piece() + " (id " + i + ") although byte_fallback is false");
                    int b = byteOf(p.piece());
                    if (b < 0) throw new IllegalArgumentException("byte piece \"" + p.piece() + "\" (id " + i + ") is not <0xXX>");
                    byteValue[i] = b;
                    byteIds[b] = i;
                }
                case USER_DEFINED -> userSymbols.put(p.piece(), i);
                case UNUSED -> unused = true;
                default -> { }
            }
        }
        if (unk < 0) throw new IllegalArgumentException("no unknown piece");
        if (byteFallback) {
            for (int b = 0; b < 256; b++) {
                if (byteIds[b] < 0) throw new IllegalArgumentException(String.format("byte_fallback is on but there is no <0x%02X> piece", b));
            }
        }
        unkId = unk;
        hasUnused = unused;
        bosId = controlId(ids, model.trainer().bosPiece());
        eosId = controlId(ids, model.trainer().eosPiece());
        unkSurface = model.trainer().unkSurface();
        SentencePieceModel.NormalizerSpec ns = model.normalizer();
        stripLeadingSpace = ns.addDummyPrefix() || ns.removeExtraWhitespaces();
        removeExtraWhitespaces = ns.removeExtraWhitespaces();

        bmpKeys = new int[65536];
        Arrays.fill(bmpKeys, -1);
        astralKeys = new LongIntMap(16);
        reservedChars = new LongIntMap(16);
        for (int i = 0; i < vocab; i++) {
            String p = pieces[i];
            if (p.codePointCount(0, p.length()) != 1) continue;
            int cp = p.codePointAt(0);
            if (isMergeable(types[i])) {
                if (cp < 65536) bmpKeys[cp] = i;
                else astralKeys.put(cp, i);
            } else {
                reservedChars.put(cp, i);
            }
        }
        pairs = new LongIntMap(vocab * 4);
        bigrams = new LongIntMap(vocab * 4);
        mergeable = new BitSet(vocab + Character.MAX_CODE_POINT + 1);
        for (int i = 0; i < vocab; i++) {
            if (!isMergeable(types[i])) continue;
            String p = pieces[i];
            int[] cps = p.codePoints().toArray();
            for (int c = 1; c < cps.length; c++) bigrams.put(bigram(cps[c - 1], cps[c]), 1);
            for (int at = p.offsetByCodePoints(0, 1); at < p.length(); at = p.offsetByCodePoints(at, 1)) {
                int left = keyOf(p.substring(0, at), ids), right = keyOf(p.substring(at), ids);
                if (left < 0 || right < 0) continue;
                pairs.put((long) left << 32 | right, i);
                mergeable.set(left);
                mergeable.set(right);
            }
        }
        userDefined = userSymbols.isEmpty() ? null : new PrefixMatcher(userSymbols);
        byte[] charsMap = ns.precompiledCharsMap();
        normalizer = new Normalizer(ns, charsMap.length == 0 ? null : new CharsMap(charsMap), userDefined, model.trainer().treatWhitespaceAsSuffix());
        SentencePieceModel.NormalizerSpec ds = model.denormalizer();
        byte[] denormMap = ds == null ? new byte[0] : ds.precompiledCharsMap();
        denormalizer = denormMap.length == 0 ? null : new Normalizer(ds, new CharsMap(denormMap), null, false);
    }

    private static long bigram(int cp, int next) {
        return (long) cp << 21 | next;
    }

    /** NORMAL, USER_DEFINED and UNUSED pieces are the ones merges may produce (SentencePiece's pieces_ map). */
    static boolean isMergeable(Type t) {
        return t == Type.NORMAL || t == Type.USER_DEFINED || t == Type.UNUSED;
    }

    /** The merge key of a symbol string: its id when it is a mergeable piece, V + code point for any other single character, else -1. */
    private int keyOf(String s, Map<String, Integer> ids) {
        Integer id = ids.get(s);
        if (id != null && isMergeable(types[id])) return id;
        if (s.codePointCount(0, s.length()) == 1) return vocab + s.codePointAt(0);
        return -1;
    }

    /** The id of a CONTROL piece, or -1 (SentencePieceProcessor::bos_id). */
    private int controlId(Map<String, Integer> ids, String piece) {
        Integer id = ids.get(piece);
        return id != null && types[id] == Type.CONTROL ? id : -1;
    }

    /** The byte of a "<0xXX>" piece (upper-case hex, as SentencePiece writes them), or -1. */
    static int byteOf(String piece) {
        if (piece.length() != 6 || !piece.startsWith("<0x") || piece.charAt(5) != '>') return -1;
        int hi = hexDigit(piece.charAt(3)), lo = hexDigit(piece.charAt(4));
        return hi < 0 || lo < 0 ? -1 : hi << 4 | lo;
    }

    private static int hexDigit(char c) {
        return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    }

    @Override public int vocabSize() { return vocab; }

    @Override public int bosId() { return bosId; }

    @Override public int eosId() { return eosId; }

    public int unkId() { return unkId; }

    @Override public String name() { return name; }

    /** The piece string of an id (spaces appear as U+2581). */
    public String piece(int id) {
        checkId(id, 0);
        return pieces[id];
    }

    public float score(int id) {
        checkId(id, 0);
        return scores[id];
    }

    public Type type(int id) {
        checkId(id, 0);
        return types[id];
    }

    private void checkId(int id, int position) {
        if (id < 0 || id >= vocab) throw new IllegalArgumentException("token id " + id + " at position " + position + " is outside [0, " + vocab + ")");
    }

    // ---- encoding ----

    /** The normalized text as UTF-8 bytes (what the merges run on), exposed for the reference and the tests. */
    Normalizer.Bytes normalize(String text) {
        return normalizer.normalize(Utf8.encode(text));
    }

    @Override public int[] encode(String text) {
        Normalizer.Bytes norm = normalize(text);
        Encoder e = new Encoder(norm.data, norm.length);
        e.run();
        return e.out.toArray();
    }

    /** The merge key of a character (see keyOf). */
    private int keyOf(int cp) {
        int id = cp < 65536 ? bmpKeys[cp] : astralKeys.get(cp);
        return id >= 0 ? id : vocab + cp;
    }

    /** Per-call state: the symbols of one run, the heap of candidate merges, and the output. */
    private final class Encoder {
        final byte[] text;
        final int length;
        final IntList out = new IntList();
        final byte[] scratch = new byte[4];
        boolean prevUnknown;
        // The symbols of the current run: a doubly linked list in arrays.
        int n;
        int[] key = new int[64], len = new int[64], prev = new int[64], next = new int[64];
        boolean[] frozen = new boolean[64];
        // Candidate merges: a binary min-heap on (priority, payload); priority = (~orderedScore << 32 | left) so the
        // best score comes first and, on ties, the leftmost pair; payload = (right << 32 | merged id).
        long[] heapKey = new long[64], heapPayload = new long[64];
        int heapSize;
        // Resegmentation of UNUSED pieces: the last (left key, right key) pushed for each such piece, as the reference does.
        LongIntMap unusedLeft, unusedRight;

        Encoder(byte[] text, int length) {
            this.text = text;
            this.length = length;
            if (hasUnused) {
                unusedLeft = new LongIntMap(16);
                unusedRight = new LongIntMap(16);
            }
        }

        void run() {
            int prevCp = -1;  // the code point of the previous symbol, or -1 after a cut that no merge can cross
            int i = 0;
            while (i < length) {
                long ud = userDefined == null ? -1 : userDefined.match(text, i, length);
                int l, k, cp = -1;
                boolean freeze = ud >= 0;
                if (freeze) {
                    l = (int) (ud >>> 32);
                    k = (int) ud;
                } else {
                    l = Utf8.oneCharLen(text, i, length);
                    cp = Utf8.codePoint(text, i, l);
                    k = keyOf(cp);
                    if (!mergeable.get(k)) cp = -1;
                }
                // With UNUSED pieces the reference's resegmentation depends on the order of all pushes of the
                // sentence, so the text is merged as one run.
                if (!hasUnused && (cp < 0 || prevCp < 0 || bigrams.get(bigram(prevCp, cp)) < 0)) mergeRun();
                add(k, l, freeze);
                prevCp = cp;
                i += l;
            }
            mergeRun();
        }

        private void add(int k, int l, boolean freeze) {
            if (n == key.length) {
                int c = Math.max(n + (n >> 1), n + 1);
                key = Arrays.copyOf(key, c);
                len = Arrays.copyOf(len, c);
                prev = Arrays.copyOf(prev, c);
                next = Arrays.copyOf(next, c);
                frozen = Arrays.copyOf(frozen, c);
            }
            key[n] = k;
            len[n] = l;
            frozen[n] = freeze;
            prev[n] = n - 1;
            next[n] = -1;
            if (n > 0) next[n - 1] = n;
            n++;
        }

        /** Merges the current run (bpe_model.cc, Model::SampleEncode with no dropout) and emits it. */
        private void mergeRun() {
            if (n == 0) return;
            heapSize = 0;
            for (int i = 1; i < n; i++) maybePush(i - 1, i);
            while (heapSize > 0) {
                long payload = heapPayload[0];
                int left = (int) heapKey[0];
                pop();
                int right = (int) (payload >>> 32), merged = (int) payload;
                // Stale when either side has been merged away or grown since the pair was pushed.
                if (len[left] == 0 || len[right] == 0 || len[left] + len[right] != pieceBytes[merged]) continue;
                key[left] = merged;
                len[left] += len[right];
                next[left] = next[right];
                if (next[right] >= 0) prev[next[right]] = left;
                len[right] = 0;
                maybePush(prev[left], left);
                maybePush(left, next[left]);
            }
            emitRun();
        }

        private void maybePush(int left, int right) {
            if (left < 0 || right < 0 || frozen[left] || frozen[right]) return;
            int merged = pairs.get((long) key[left] << 32 | key[right]);
            if (merged < 0) return;
            int bits = Float.floatToIntBits(scores[merged]);
            int ordered = bits ^ (bits >> 31 & 0x7FFFFFFF);  // orders like the float
            push((long) ~ordered << 32 | left, (long) right << 32 | merged);
            if (types[merged] == Type.UNUSED) {
                unusedLeft.put(merged, key[left]);
                unusedRight.put(merged, key[right]);
            }
        }

        private void push(long k, long payload) {
            if (heapSize == heapKey.length) {
                heapKey = Arrays.copyOf(heapKey, heapSize * 2);
                heapPayload = Arrays.copyOf(heapPayload, heapSize * 2);
            }
            int i = heapSize++;
            while (i > 0) {
                int parent = (i - 1) >>> 1;
                if (heapKey[parent] <= k) break;
                heapKey[i] = heapKey[parent];
                heapPayload[i] = heapPayload[parent];
                i = parent;
            }
            heapKey[i] = k;
            heapPayload[i] = payload;
        }

        private void pop() {
            long k = heapKey[--heapSize], payload = heapPayload[heapSize];
            int i = 0;
            while (true) {
                int c = 2 * i + 1;
                if (c >= heapSize) break;
                if (c + 1 < heapSize && heapKey[c + 1] < heapKey[c]) c++;
                if (heapKey[c] >= k) break;
                heapKey[i] = heapKey[c];
                heapPayload[i] = heapPayload[c];
                i = c;
            }
            heapKey[i] = k;
            heapPayload[i] = payload;
        }

        private void emitRun() {
            if (n == 0) return;
            for (int i = 0; i != -1; i = next[i]) emitSymbol(key[i]);
            n = 0;
        }

        /** sentencepiece_processor.cc PopulateSentencePieceText: ids, byte fallback, runs of unknowns as one. */
        private void emitSymbol(int k) {
            if (k < vocab) {
                if (types[k] == Type.UNUSED) resegment(k);
                else emit(k);
                return;
            }
            // A character that is no mergeable piece: a reserved piece of that one character, else unknown.
            int cp = k - vocab;
            int reserved = reservedChars.get(cp);
            if (reserved >= 0 && types[reserved] != Type.UNKNOWN) {
                emit(reserved);
            } else if (byteFallback) {
                int nb = Utf8.put(scratch, 0, cp);
                for (int b = 0; b < nb; b++) out.add(byteIds[scratch[b] & 0xFF]);
                prevUnknown = true;
            } else {
                if (!prevUnknown) out.add(unkId);
                prevUnknown = true;
            }
        }

        private void emit(int id) {
            out.add(id);
            prevUnknown = false;
        }

        /** An UNUSED piece is split back into the two symbols last pushed to make it, recursively (bpe_model.cc resegment). */
        private void resegment(int k) {
            int left = unusedLeft.get(k);
            if (left < 0) {
                emit(k);
                return;
            }
            int right = unusedRight.get(k);
            for (int part : new int[] {left, right}) {
                if (part < vocab && types[part] == Type.UNUSED) resegment(part);
                else emitSymbol(part);
            }
        }
    }

    /** A growable int array. */
    static final class IntList {
        int[] a = new int[64];
        int size;

        void add(int v) {
            if (size == a.length) a = Arrays.copyOf(a, size + (size >> 1) + 1);
            a[size++] = v;
        }

        int[] toArray() { return Arrays.copyOf(a, size); }
    }

    // ---- decoding ----

    /**
     * sentencepiece_processor.cc Decode: control ids vanish, runs of byte pieces are decoded as UTF-8 with one U+FFFD
     * per byte that starts no well-formed character, the unknown id becomes the unk_surface (" \u2047 "), U+2581
     * becomes a space, and the first piece that starts with U+2581 loses it (the dummy prefix) unless text came before.
     */
    @Override public String decode(int[] ids) {
        StringBuilder sb = new StringBuilder(ids.length * 4);
        byte[] pending = new byte[16];
        int np = 0;
        boolean bosWs = true, bosWsSeen = false;
        for (int t = 0; t < ids.length; t++) {
            int id = ids[t];
            checkId(id, t);
            if (byteValue[id] >= 0) {
                if (np == pending.length) pending = Arrays.copyOf(pending, np * 2);
                pending[np++] = (byte) byteValue[id];
                continue;
            }
            Utf8.appendDecoded(sb, pending, 0, np);
            np = 0;
            if (bosWsSeen || !sb.isEmpty()) bosWs = false;
            bosWsSeen = false;
            switch (types[id]) {
                case CONTROL -> { }
                case UNKNOWN -> sb.append(unkSurface);
                default -> {
                    String p = pieces[id];
                    int from = 0;
                    if (bosWs && stripLeadingSpace && p.charAt(0) == '\u2581') {
                        from = 1;
                        bosWsSeen = !removeExtraWhitespaces;
                    }
                    for (int c = from; c < p.length(); c++) {
                        char ch = p.charAt(c);
                        sb.append(ch == '\u2581' ? ' ' : ch);
                    }
                }
            }
        }
        Utf8.appendDecoded(sb, pending, 0, np);
        if (denormalizer == null) return sb.toString();
        Normalizer.Bytes d = denormalizer.normalize(Utf8.encode(sb.toString()));
        return Utf8.decode(d.data, 0, d.length);
    }
}

package rat4j.tokenizer;

import rat4j.tokenizer.SentencePieceModel.Piece;
import rat4j.tokenizer.SentencePieceModel.Type;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The quadratic reference for {@link SentencePieceTokenizer}'s merges, written from the definition on strings:
 * repeatedly merge the adjacent pair whose concatenation is a piece with the highest score (leftmost on ties), then map
 * symbols to ids. Used by the tests on short texts. Models with UNUSED pieces are outside its scope: their
 * resegmentation depends on the order of the reference's agenda, which this definition has no notion of.
 */
final class NaiveBpe {
    private final SentencePieceModel model;
    private final Map<String, Integer> mergeable = new HashMap<>(), reserved = new HashMap<>();
    private final List<String> userDefined = new ArrayList<>();
    private final int unk;

    NaiveBpe(SentencePieceModel model) {
        this.model = model;
        int unknown = -1;
        for (int i = 0; i < model.pieces().size(); i++) {
            Piece p = model.pieces().get(i);
            if (p.type() == Type.UNUSED) throw new IllegalArgumentException("the naive reference does not model UNUSED pieces (id " + i + ")");
            if (SentencePieceTokenizer.isMergeable(p.type())) mergeable.put(p.piece(), i);
            else reserved.put(p.piece(), i);
            if (p.type() == Type.USER_DEFINED) userDefined.add(p.piece());
            if (p.type() == Type.UNKNOWN) unknown = i;
        }
        unk = unknown;
    }

    /** The ids of an already normalized text (spaces as U+2581). */
    int[] encode(String normalized) {
        List<String> symbols = new ArrayList<>();
        List<Boolean> frozen = new ArrayList<>();
        for (int i = 0; i < normalized.length(); ) {
            String match = "";
            for (String u : userDefined) {
                if (normalized.startsWith(u, i) && u.length() > match.length()) match = u;
            }
            boolean isUser = !match.isEmpty();
            if (!isUser) match = normalized.substring(i, normalized.offsetByCodePoints(i, 1));
            symbols.add(match);
            frozen.add(isUser);
            i += match.length();
        }
        while (true) {
            int best = -1;
            float bestScore = 0;
            for (int i = 0; i + 1 < symbols.size(); i++) {
                if (frozen.get(i) || frozen.get(i + 1)) continue;
                Integer id = mergeable.get(symbols.get(i) + symbols.get(i + 1));
                if (id == null) continue;
                float s = model.pieces().get(id).score();
                if (best < 0 || s > bestScore) {
                    best = i;
                    bestScore = s;
                }
            }
            if (best < 0) break;
            symbols.set(best, symbols.get(best) + symbols.remove(best + 1));
            frozen.remove(best + 1);
        }
        List<Integer> ids = new ArrayList<>();
        boolean prevUnknown = false;
        for (String s : symbols) {
            Integer id = reserved.get(s);
            if (id == null) id = mergeable.get(s);
            if (id == null) id = unk;
            boolean unknown = id == unk;
            if (unknown && model.trainer().byteFallback()) {
                for (byte b : s.getBytes(StandardCharsets.UTF_8)) ids.add(reserved.get(String.format("<0x%02X>", b & 0xFF)));
            } else if (!(unknown && prevUnknown)) {
                ids.add(id);
            }
            prevUnknown = unknown;
        }
        return ids.stream().mapToInt(Integer::intValue).toArray();
    }
}

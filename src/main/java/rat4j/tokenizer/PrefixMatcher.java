package rat4j.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;

/**
 * Longest-prefix matching of user-defined symbols over UTF-8 bytes (SentencePiece's PrefixMatcher): the normalizer
 * copies a matched symbol unnormalized and the BPE encoder keeps it as one frozen symbol.
 */
final class PrefixMatcher {
    /** Trie edges: (node << 8 | byte) -> child node; node 0 is the root. */
    private final LongIntMap edges;
    /** value[node]: the id of the symbol ending at node, or -1. */
    private final int[] value;

    /** symbols: string -> piece id. */
    PrefixMatcher(Map<String, Integer> symbols) {
        int total = 1;
        for (String s : symbols.keySet()) total += s.getBytes(StandardCharsets.UTF_8).length;
        edges = new LongIntMap(total);
        value = new int[total];
        Arrays.fill(value, -1);
        int nodes = 1;
        for (Map.Entry<String, Integer> e : symbols.entrySet()) {
            int node = 0;
            for (byte b : e.getKey().getBytes(StandardCharsets.UTF_8)) {
                long key = (long) node << 8 | (b & 0xFF);
                int child = edges.get(key);
                if (child < 0) {
                    child = nodes++;
                    edges.put(key, child);
                }
                node = child;
            }
            value[node] = e.getValue();
        }
    }

    /** The longest symbol that is a prefix of b[from, to) as (byte length << 32 | id), or -1 when none is. */
    long match(byte[] b, int from, int to) {
        int node = 0;
        long best = -1;
        for (int i = from; i < to; i++) {
            node = edges.get((long) node << 8 | (b[i] & 0xFF));
            if (node < 0) break;
            if (value[node] >= 0) best = (long) (i + 1 - from) << 32 | value[node];
        }
        return best;
    }
}

package rat4j.generate;

import java.util.List;

/**
 * Stop strings, matched on decoded text (a stop string may span several tokens). While streaming, the end of the
 * text that could still become a stop string is held back, so nothing is printed that is then cut.
 */
final class StopStrings {
    private final List<String> stops;
    private final int longest; // characters of the longest stop string

    StopStrings(List<String> stops) {
        for (String s : stops) if (s.isEmpty()) throw new IllegalArgumentException("a stop string must not be empty");
        this.stops = List.copyOf(stops);
        this.longest = stops.stream().mapToInt(String::length).max().orElse(0);
    }

    /** The index of the earliest occurrence of any stop string in text, or -1. */
    int find(String text) {
        return find(new StringBuilder(text), 0);
    }

    /**
     * The index of the earliest occurrence of any stop string in text that ends at or after {@code newFrom}, or -1: a
     * stream that grows by appending searches only where its new characters can complete a match.
     */
    int find(StringBuilder text, int newFrom) {
        int from = Math.max(0, newFrom - longest + 1), best = -1;
        for (String s : stops) {
            int i = text.indexOf(s, from);
            if (i >= 0 && (best < 0 || i < best)) best = i;
        }
        return best;
    }

    /** How many characters at the end of text are a proper prefix of some stop string. */
    int holdBack(CharSequence text) {
        int hold = 0, n = text.length();
        for (String s : stops) {
            for (int len = Math.min(s.length() - 1, n); len > hold; len--) {
                if (endsWithPrefix(text, s, len)) {
                    hold = len;
                    break;
                }
            }
        }
        return hold;
    }

    /** Whether text ends with the first len characters of s. */
    private static boolean endsWithPrefix(CharSequence text, String s, int len) {
        int off = text.length() - len;
        for (int i = 0; i < len; i++) if (text.charAt(off + i) != s.charAt(i)) return false;
        return true;
    }
}

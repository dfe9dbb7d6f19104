package rat4j.generate;

import java.util.List;

/**
 * Stop strings, matched on decoded text (a stop string may span several tokens). While streaming, the end of the
 * text that could still become a stop string is held back, so nothing is printed that is then cut.
 */
final class StopStrings {
    private final List<String> stops;

    StopStrings(List<String> stops) {
        for (String s : stops) if (s.isEmpty()) throw new IllegalArgumentException("a stop string must not be empty");
        this.stops = List.copyOf(stops);
    }

    /** The index of the earliest occurrence of any stop string in text, or -1. */
    int find(String text) {
        int best = -1;
        for (String s : stops) {
            int i = text.indexOf(s);
            if (i >= 0 && (best < 0 || i < best)) best = i;
        }
        return best;
    }

    /** How many characters at the end of text are a proper prefix of some stop string. */
    int holdBack(String text) {
        int hold = 0;
        for (String s : stops) {
            for (int len = Math.min(s.length() - 1, text.length()); len > hold; len--) {
                if (text.regionMatches(text.length() - len, s, 0, len)) {
                    hold = len;
                    break;
                }
            }
        }
        return hold;
    }
}

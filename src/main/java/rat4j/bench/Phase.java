package rat4j.bench;

import java.util.Locale;

/**
 * What is timed for one (layer, T) point, as the paper's bench_train / bench_context / bench_gen:
 * TRAIN is forward plus the backward of out.mean(); PREFILL the forward that fills a cache of T tokens; GENERATE one
 * decode step at position T-1 against a full cache for the generation batch, GENERATE_ONE the same for one sequence.
 */
public enum Phase {
    TRAIN("train"),
    PREFILL("prefill"),
    GENERATE("generate"),
    GENERATE_ONE("generate-1");

    public final String label;

    Phase(String label) { this.label = label; }

    public boolean decodes() { return this == GENERATE || this == GENERATE_ONE; }

    public static Phase parse(String text) {
        String s = text.trim().toLowerCase(Locale.ROOT);
        for (Phase p : values()) if (p.label.equals(s)) return p;
        throw new IllegalArgumentException("unknown phase '" + text + "' (expected train, prefill, generate or generate-1)");
    }
}

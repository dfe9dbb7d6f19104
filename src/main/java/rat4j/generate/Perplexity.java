package rat4j.generate;

import rat4j.model.LanguageModel;

/** Perplexity of a model on a token stream: exp of the mean next-token cross-entropy over windows of T tokens. */
public final class Perplexity {
    private Perplexity() {}

    /**
     * Scores consecutive, non-overlapping windows of seqLen + 1 tokens (each predicts its last seqLen tokens); a
     * shorter tail window is scored too. Needs at least two tokens.
     */
    public static double of(LanguageModel model, int[] tokens, int seqLen) {
        if (tokens.length < 2) throw new IllegalArgumentException("perplexity needs at least 2 tokens, got " + tokens.length);
        if (seqLen < 1) throw new IllegalArgumentException("window of " + seqLen + " tokens");
        double nll = 0;
        long count = 0;
        for (int start = 0; start + 1 < tokens.length; start += seqLen) {
            int t = Math.min(seqLen, tokens.length - 1 - start);
            int[] in = new int[t], labels = new int[t];
            System.arraycopy(tokens, start, in, 0, t);
            System.arraycopy(tokens, start + 1, labels, 0, t);
            nll += model.score(in, labels, 1, t).loss() * t;
            count += t;
        }
        return Math.exp(nll / count);
    }
}

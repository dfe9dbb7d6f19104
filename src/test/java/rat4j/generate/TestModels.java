package rat4j.generate;

import rat4j.model.Initializer;
import rat4j.model.LayerSpec;
import rat4j.model.ModelConfig;
import rat4j.model.PositionEncoding;
import rat4j.tokenizer.Tokenizer;

import java.util.List;
import java.util.SplittableRandom;

/** Small random models of every layer kind, and a tokenizer whose ids are letters, for generation tests. */
final class TestModels {
    private TestModels() {}

    static final int V = 29, C = 16, FFN = 32;

    record Case(String name, ModelConfig config) {
        @Override public String toString() { return name; }
    }

    static ModelConfig plain(LayerSpec cell, PositionEncoding pe) {
        return new ModelConfig(V, C, 2, FFN, cell, null, 2, pe, 10000, true);
    }

    static List<Case> cases() {
        return List.of(
                new Case("rat L=4", plain(LayerSpec.rat(2, 4, 1), PositionEncoding.INTERROPE)),
                new Case("rat L=3 4 heads", plain(LayerSpec.rat(4, 3, 2), PositionEncoding.INTERROPE)),
                new Case("attention", plain(LayerSpec.attention(2), PositionEncoding.ROPE)),
                new Case("local W=3", plain(LayerSpec.localAttention(2, 3), PositionEncoding.ROPE)),
                new Case("rnn", plain(LayerSpec.rnn(16), PositionEncoding.NONE)),
                new Case("rat+local hybrid", new ModelConfig(V, C, 3, FFN, LayerSpec.localAttention(2, 2),
                        LayerSpec.rat(2, 3, 2), 2, PositionEncoding.ROPE_INTERROPE, 10000, true)),
                new Case("attention+local hybrid, untied", new ModelConfig(V, C, 3, FFN, LayerSpec.localAttention(2, 4),
                        LayerSpec.attention(2), 3, PositionEncoding.ROPE, 500, false)));
    }

    /** Initialised weights, perturbed so that every layer matters and logits spread out. */
    static float[] params(ModelConfig config, long seed) {
        float[] p = Initializer.initialize(config, seed);
        SplittableRandom rng = new SplittableRandom(seed + 1);
        for (int i = 0; i < p.length; i++) p[i] += (float) ((rng.nextDouble() - 0.5) * 0.4);
        return p;
    }

    static int[] tokens(int n, int vocab, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        int[] t = new int[n];
        for (int i = 0; i < n; i++) t[i] = rng.nextInt(vocab);
        return t;
    }

    /** Id i is the letter 'a' + i (ids 26.. are '{', '|', '}'); no BOS; EOS as given (or -1). */
    record Letters(int vocab, int eos) implements Tokenizer {
        @Override public int[] encode(String text) {
            int[] ids = new int[text.length()];
            for (int i = 0; i < ids.length; i++) {
                int id = text.charAt(i) - 'a';
                if (id < 0 || id >= vocab) throw new IllegalArgumentException("no token for '" + text.charAt(i) + "'");
                ids[i] = id;
            }
            return ids;
        }

        @Override public String decode(int[] ids) {
            StringBuilder sb = new StringBuilder();
            for (int id : ids) {
                if (id < 0 || id >= vocab) throw new IllegalArgumentException("id " + id);
                if (id != eos) sb.append((char) ('a' + id));
            }
            return sb.toString();
        }

        @Override public int vocabSize() { return vocab; }

        @Override public int bosId() { return -1; }

        @Override public int eosId() { return eos; }

        @Override public String name() { return "letters"; }
    }
}

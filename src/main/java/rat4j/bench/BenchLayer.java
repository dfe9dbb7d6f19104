package rat4j.bench;

import rat4j.kernel.WeightFormat;
import rat4j.model.Initializer;
import rat4j.model.LayerKind;
import rat4j.model.Layers;
import rat4j.model.LayerSpec;
import rat4j.model.ModelConfig;
import rat4j.model.ParameterLayout;
import rat4j.model.PositionEncoding;
import rat4j.nn.DecodeWeights;
import rat4j.nn.Rope;
import rat4j.nn.SequenceMixer;

import java.util.List;
import java.util.Locale;

/**
 * One sequence layer to benchmark, as the paper's Figure 3 does (src/benchmark_eff/*_eff.py): attention, RAT with
 * chunk length L (ngroups = 2, as rat_eff.py), the RNN, or sliding-window attention of window W. The layer is the
 * model's own (input RMSNorm, in_proj, mixing, out_proj, residual), without the FFN.
 *
 * @param param RAT's chunk length L, the window W; 0 for attention and the RNN
 */
public record BenchLayer(LayerKind kind, int param) {
    /** Shared q/k groups of the benchmarked RAT layer (rat_eff.py builds RAT with ngroups=2). */
    public static final int RAT_GROUPS = 2;
    /** The RNN's gate-bias initialisation length (the -xl configs' data.seq_len); it does not change the timing. */
    static final int RNN_INIT_LENGTH = 4096;

    public BenchLayer {
        if (kind == null) throw new IllegalArgumentException("layer kind is missing");
        boolean wantsParam = kind == LayerKind.RAT || kind == LayerKind.LOCAL_ATTENTION;
        if (wantsParam && param < 1) throw new IllegalArgumentException(name(kind, param) + ": the chunk length or window must be >= 1");
        if (!wantsParam && param != 0) throw new IllegalArgumentException(kind.refName + " takes no parameter, got " + param);
    }

    public static BenchLayer attention() { return new BenchLayer(LayerKind.ATTENTION, 0); }

    public static BenchLayer rat(int chunkLen) { return new BenchLayer(LayerKind.RAT, chunkLen); }

    public static BenchLayer rnn() { return new BenchLayer(LayerKind.RNN, 0); }

    public static BenchLayer window(int w) { return new BenchLayer(LayerKind.LOCAL_ATTENTION, w); }

    /** The paper's Figure 3 line-up: attention, RAT at L = 16, 64, 128, the RNN, sliding window 1024. */
    public static List<BenchLayer> paperSet() {
        return List.of(attention(), rat(16), rat(64), rat(128), rnn(), window(1024));
    }

    /** The layer of a model config's cell (chunk length and window taken from it). */
    public static BenchLayer of(LayerSpec s) {
        return switch (s.kind()) {
            case ATTENTION -> attention();
            case RAT -> rat(s.chunkSize());
            case RNN -> rnn();
            case LOCAL_ATTENTION -> window(s.windowSize());
        };
    }

    /** Parses "attention", "rat-16" (or "rat16"), "rnn", "window-1024" (or "swa-1024"). */
    public static BenchLayer parse(String text) {
        String s = text.trim().toLowerCase(Locale.ROOT);
        if (s.equals("attention")) return attention();
        if (s.equals("rnn")) return rnn();
        String prefix = s.startsWith("rat") ? "rat" : s.startsWith("window") ? "window" : s.startsWith("swa") ? "swa" : null;
        if (prefix != null) {
            String num = s.substring(prefix.length());
            if (num.startsWith("-")) num = num.substring(1);
            int n;
            try {
                n = Integer.parseInt(num);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("layer '" + text + "': expected " + prefix + "-N with a positive integer N");
            }
            if (n < 1) throw new IllegalArgumentException("layer '" + text + "': N must be >= 1");
            return prefix.equals("rat") ? rat(n) : window(n);
        }
        throw new IllegalArgumentException("unknown layer '" + text + "' (expected attention, rat-L, rnn or window-W)");
    }

    public String name() { return name(kind, param); }

    private static String name(LayerKind kind, int param) {
        return switch (kind) {
            case ATTENTION -> "attention";
            case RAT -> "rat-" + param;
            case RNN -> "rnn";
            case LOCAL_ATTENTION -> "window-" + param;
        };
    }

    /** The model config cell of this layer with the given number of heads. */
    public LayerSpec spec(int heads) {
        return switch (kind) {
            case ATTENTION -> LayerSpec.attention(heads);
            case RAT -> LayerSpec.rat(heads, param, RAT_GROUPS);
            case RNN -> LayerSpec.rnn(RNN_INIT_LENGTH);
            case LOCAL_ATTENTION -> LayerSpec.localAttention(heads, param);
        };
    }

    /** Rows of in_proj: 3C, plus the 2GD shared q/k columns for RAT. */
    public int projWidth(int c, int heads) {
        return kind == LayerKind.RAT ? 3 * c + 2 * RAT_GROUPS * (c / heads) : 3 * c;
    }

    /** Keys a query at position t attends to (RAT: the finals of earlier chunks and its own state). */
    public long keysAt(long t) {
        return switch (kind) {
            case ATTENTION -> t + 1;
            case LOCAL_ATTENTION -> Math.min(t, param) + 1;
            case RAT -> t / param + 1;
            case RNN -> 0;
        };
    }

    /** Sum of {@link #keysAt} over t in [0, seqLen): the (query, key) pairs per (sequence, head) of a causal pass. */
    public long pairs(int seqLen) {
        long sum = 0;
        for (int t = 0; t < seqLen; t++) sum += keysAt(t);
        return sum;
    }

    /** A one-block config holding just this layer (vocabulary 1, FFN width 1), for its parameter layout and init. */
    ModelConfig config(int c, int heads) {
        PositionEncoding pe = switch (kind) {
            case RAT -> PositionEncoding.INTERROPE;
            case RNN -> PositionEncoding.NONE;
            case ATTENTION, LOCAL_ATTENTION -> PositionEncoding.ROPE;
        };
        return new ModelConfig(1, c, 1, 1, spec(heads), null, 2, pe, 10000.0, true);
    }

    /** The layer with the reference's initialisation, its parameters and a gradient array laid out like them. */
    public record Built(SequenceMixer mixer, float[] params, float[] grads) {}

    public Built build(int c, int heads, long seed) {
        ModelConfig config = config(c, heads);
        ParameterLayout layout = ParameterLayout.of(config);
        float[] params = Initializer.initialize(config, seed);
        int d = spec(heads).headDim(c);
        Rope rope = d > 0 ? new Rope(d, config.ropeBase()) : null;
        SequenceMixer mixer = Layers.mixer(config, 0, layout, params, new DecodeWeights(WeightFormat.FP32), rope);
        return new Built(mixer, params, new float[params.length]);
    }

    @Override public String toString() { return name(); }
}

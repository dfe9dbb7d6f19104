package rat4j.model;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Named model configurations. The "-xl" ones are the RAT paper's five 1.3B models, as the reference's
 * configs/experiment/fineweb_edu/*-xl.yaml resolve them: 24 layers, d_model 2048, head dim 128 (16 heads),
 * FFN 4 x d_model, the Llama-2 tokenizer's 32000 tokens, tied embedding, RoPE base 10000. In the hybrids
 * seq_cell is local attention (window 1024) and seq_cell1, used by blocks 0, 2, 4, ..., is full attention or RAT.
 * The RNN's seq_len (only used by its gate-bias initialisation) is data.seq_len = 4096 there.
 * The "-small" ones are the newcomer's demo models: the same structure with the Llama-2 vocabulary at d_model 256,
 * 4 heads of 64, 4 layers, FFN 1024, window 256 (about 11M parameters, 8M of them the embedding).
 * The "-tiny" ones have the same structure at demo/test scale (d_model 128, 4 heads of 32, 4 layers, 256 tokens).
 * The "-base" ones are ~100M-parameter versions for decoding benchmarks on a CPU: d_model 768, 12 layers, 12 heads
 * of 64, FFN 3072, the Llama-2 vocabulary (32000), sliding windows of 1024, RAT chunks of 16.
 */
public final class Presets {
    private static final Map<String, ModelConfig> PRESETS = new LinkedHashMap<>();

    static {
        xl("rat-xl", LayerSpec.rat(16, 16, 2), null, PositionEncoding.INTERROPE);
        xl("attention-xl", LayerSpec.attention(16), null, PositionEncoding.ROPE);
        xl("rnn-xl", LayerSpec.rnn(4096), null, PositionEncoding.NONE);
        xl("attention_localattention_interleave-xl", LayerSpec.localAttention(16, 1024), LayerSpec.attention(16), PositionEncoding.ROPE);
        xl("rat_localattention_interleave-xl", LayerSpec.localAttention(16, 1024), LayerSpec.rat(16, 16, 2), PositionEncoding.ROPE_INTERROPE);

        small("rat-small", LayerSpec.rat(4, 16, 2), null, PositionEncoding.INTERROPE);
        small("attention-small", LayerSpec.attention(4), null, PositionEncoding.ROPE);
        small("rnn-small", LayerSpec.rnn(512), null, PositionEncoding.NONE);
        small("attention_localattention_interleave-small", LayerSpec.localAttention(4, 256), LayerSpec.attention(4), PositionEncoding.ROPE);
        small("rat_localattention_interleave-small", LayerSpec.localAttention(4, 256), LayerSpec.rat(4, 16, 2), PositionEncoding.ROPE_INTERROPE);

        tiny("rat-tiny", LayerSpec.rat(4, 16, 2), null, PositionEncoding.INTERROPE);
        tiny("attention-tiny", LayerSpec.attention(4), null, PositionEncoding.ROPE);
        tiny("local_attention-tiny", LayerSpec.localAttention(4, 64), null, PositionEncoding.ROPE);
        tiny("rnn-tiny", LayerSpec.rnn(256), null, PositionEncoding.NONE);
        tiny("attention_localattention_interleave-tiny", LayerSpec.localAttention(4, 64), LayerSpec.attention(4), PositionEncoding.ROPE);
        tiny("rat_localattention_interleave-tiny", LayerSpec.localAttention(4, 64), LayerSpec.rat(4, 16, 2), PositionEncoding.ROPE_INTERROPE);

        base("rat-base", LayerSpec.rat(12, 16, 2), null, PositionEncoding.INTERROPE);
        base("attention-base", LayerSpec.attention(12), null, PositionEncoding.ROPE);
        base("local_attention-base", LayerSpec.localAttention(12, 1024), null, PositionEncoding.ROPE);
        base("rnn-base", LayerSpec.rnn(4096), null, PositionEncoding.NONE);
        base("rat_localattention_interleave-base", LayerSpec.localAttention(12, 1024), LayerSpec.rat(12, 16, 2), PositionEncoding.ROPE_INTERROPE);
    }

    private Presets() {}

    private static void base(String name, LayerSpec cell, LayerSpec cell1, PositionEncoding pe) {
        PRESETS.put(name, new ModelConfig(32000, 768, 12, 4 * 768, cell, cell1, 2, pe, 10000.0, true));
    }

    private static void xl(String name, LayerSpec cell, LayerSpec cell1, PositionEncoding pe) {
        PRESETS.put(name, new ModelConfig(32000, 2048, 24, 4 * 2048, cell, cell1, 2, pe, 10000.0, true));
    }

    private static void small(String name, LayerSpec cell, LayerSpec cell1, PositionEncoding pe) {
        PRESETS.put(name, new ModelConfig(32000, 256, 4, 4 * 256, cell, cell1, 2, pe, 10000.0, true));
    }

    private static void tiny(String name, LayerSpec cell, LayerSpec cell1, PositionEncoding pe) {
        PRESETS.put(name, new ModelConfig(256, 128, 4, 4 * 128, cell, cell1, 2, pe, 10000.0, true));
    }

    /** Preset names, the paper's models first. */
    public static List<String> names() {
        return List.copyOf(PRESETS.keySet());
    }

    public static ModelConfig get(String name) {
        ModelConfig c = PRESETS.get(name);
        if (c == null) throw new IllegalArgumentException("unknown preset '" + name + "' (known: " + String.join(", ", PRESETS.keySet()) + ")");
        return c;
    }
}

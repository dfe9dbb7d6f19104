package rat4j.model;

import rat4j.nn.AttentionLayer;
import rat4j.nn.DecodeWeights;
import rat4j.nn.RatLayer;
import rat4j.nn.RnnLayer;
import rat4j.nn.Rope;
import rat4j.nn.SequenceMixer;

/** Builds block i's sequence layer from the config, with views of its weights (the model's and the benchmarks' one wiring). */
public final class Layers {
    private Layers() {}

    /** @param decode where the decode path's copies of the weight matrices come from */
    public static SequenceMixer mixer(ModelConfig config, int i, ParameterLayout layout, float[] params, DecodeWeights decode, Rope rope) {
        LayerSpec s = config.layer(i);
        String p = "backbone.layers." + i + ".seq_layer.";
        return switch (s.kind()) {
            case RAT -> new RatLayer(s.numHead(), s.ngroups(), s.chunkSize(), rope,
                    layout.view(params, p + "input_norm.weight"), layout.view(params, p + "in_proj.weight"),
                    layout.view(params, p + "gate_bias"), layout.view(params, p + "out_proj.weight"), decode);
            case ATTENTION, LOCAL_ATTENTION -> new AttentionLayer(s.numHead(),
                    s.kind() == LayerKind.ATTENTION ? AttentionLayer.FULL : s.windowSize(), rope,
                    layout.view(params, p + "input_norm.weight"), layout.view(params, p + "in_proj.weight"),
                    layout.view(params, p + "out_proj.weight"), decode);
            case RNN -> new RnnLayer(layout.view(params, p + "input_norm.weight"), layout.view(params, p + "in_proj.weight"),
                    layout.view(params, p + "gate_bias"), layout.view(params, p + "out_proj.weight"), decode);
        };
    }
}

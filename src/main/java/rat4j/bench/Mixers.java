package rat4j.bench;

import rat4j.model.LayerKind;
import rat4j.model.LayerSpec;
import rat4j.model.ModelConfig;
import rat4j.model.ParameterLayout;
import rat4j.nn.AttentionLayer;
import rat4j.nn.RatLayer;
import rat4j.nn.RnnLayer;
import rat4j.nn.Rope;
import rat4j.nn.SequenceMixer;

/** Builds block i's mixer from a config: the same wiring as the model's (rat4j.model.Layers is package-private). */
final class Mixers {
    private Mixers() {}

    static SequenceMixer build(ModelConfig config, int i, ParameterLayout layout, float[] params, Rope rope) {
        LayerSpec s = config.layer(i);
        String p = "backbone.layers." + i + ".seq_layer.";
        return switch (s.kind()) {
            case RAT -> new RatLayer(s.numHead(), s.ngroups(), s.chunkSize(), rope,
                    layout.view(params, p + "input_norm.weight"), layout.view(params, p + "in_proj.weight"),
                    layout.view(params, p + "gate_bias"), layout.view(params, p + "out_proj.weight"));
            case ATTENTION, LOCAL_ATTENTION -> new AttentionLayer(s.numHead(),
                    s.kind() == LayerKind.ATTENTION ? AttentionLayer.FULL : s.windowSize(), rope,
                    layout.view(params, p + "input_norm.weight"), layout.view(params, p + "in_proj.weight"),
                    layout.view(params, p + "out_proj.weight"));
            case RNN -> new RnnLayer(layout.view(params, p + "input_norm.weight"), layout.view(params, p + "in_proj.weight"),
                    layout.view(params, p + "gate_bias"), layout.view(params, p + "out_proj.weight"));
        };
    }
}

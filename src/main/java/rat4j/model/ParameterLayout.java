package rat4j.model;

import rat4j.tensor.Sizes;
import rat4j.tensor.Tensor;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Where each parameter lives in the one flat allocation of a model's parameters (and, with the same layout, of its
 * gradients and optimizer moments). Names are the reference's state_dict names, so files move between the two worlds.
 * With a tied embedding, head.lm_head.weight is not a separate entry: it is the embedding.
 */
public final class ParameterLayout {
    public record Entry(String name, int[] shape, int offset) {
        public int size() { return Sizes.product(shape); }
    }

    public static final String EMBEDDING = "embedding.wte.weight";
    public static final String FINAL_NORM = "backbone.ln.weight";
    public static final String LM_HEAD = "head.lm_head.weight";

    private final Map<String, Entry> entries = new LinkedHashMap<>();
    private int total;

    public static ParameterLayout of(ModelConfig c) {
        ParameterLayout p = new ParameterLayout();
        int d = c.dModel();
        p.add(EMBEDDING, c.vocabSize(), d);
        for (int i = 0; i < c.numLayers(); i++) {
            String s = "backbone.layers." + i + ".seq_layer.";
            LayerSpec spec = c.layer(i);
            switch (spec.kind()) {
                case RAT -> {
                    int qk = spec.ngroups() * spec.headDim(d);
                    p.add(s + "gate_bias", d);
                    p.add(s + "in_proj.weight", 3 * d + 2 * qk, d);
                    p.add(s + "input_norm.weight", d);
                    p.add(s + "out_proj.weight", d, d);
                }
                case ATTENTION, LOCAL_ATTENTION -> {
                    p.add(s + "in_proj.weight", 3 * d, d);
                    p.add(s + "input_norm.weight", d);
                    p.add(s + "out_proj.weight", d, d);
                }
                case RNN -> { // the module's own parameter (gate_bias) precedes its submodules', as in its state_dict
                    p.add(s + "gate_bias", d);
                    p.add(s + "in_proj.weight", 3 * d, d);
                    p.add(s + "out_proj.weight", d, d);
                    p.add(s + "input_norm.weight", d);
                }
            }
            String h = "backbone.layers." + i + ".hidden_layer.";
            p.add(h + "fc1.weight", c.dFfn(), d);
            p.add(h + "fc2.weight", d, c.dFfn());
            p.add(h + "ln.weight", d);
        }
        p.add(FINAL_NORM, d);
        if (!c.tieEmbedding()) p.add(LM_HEAD, c.vocabSize(), d);
        return p;
    }

    private void add(String name, int... shape) {
        int n = Sizes.product(shape);
        entries.put(name, new Entry(name, shape, total));
        total = Math.addExact(total, n);
    }

    /** Total number of floats (parameters without the tied head's duplicate). */
    public int totalSize() { return total; }

    public List<Entry> entries() { return Collections.unmodifiableList(new ArrayList<>(entries.values())); }

    public boolean contains(String name) { return entries.containsKey(name); }

    public Entry entry(String name) {
        Entry e = entries.get(name);
        if (e == null) throw new IllegalArgumentException("no parameter named " + name);
        return e;
    }

    /** The view of parameter {@code name} inside {@code storage} (an array of {@link #totalSize()} floats). */
    public Tensor view(float[] storage, String name) {
        Entry e = entry(name);
        return new Tensor(storage, e.offset(), e.shape());
    }
}

package rat4j.nn;

import java.util.ArrayList;
import java.util.List;

import rat4j.kernel.WeightFormat;
import rat4j.tensor.Tensor;

/** The weight matrices one model's decode path reads, in one format: the layers ask it for theirs, and it packs them all at once. */
public final class DecodeWeights {
    private final WeightFormat format;
    private final List<DecodeMatrix> matrices = new ArrayList<>();

    public DecodeWeights(WeightFormat format) {
        this.format = format;
    }

    public WeightFormat format() { return format; }

    /** The decode view of w (rows, cols), packed later. */
    public synchronized DecodeMatrix of(Tensor w) {
        DecodeMatrix m = new DecodeMatrix(w, format);
        matrices.add(m);
        return m;
    }

    /** Packs every matrix not packed yet (each in parallel), so that the first decode step does not pay for it. */
    public synchronized void pack() {
        for (DecodeMatrix m : matrices) m.packed();
    }
}

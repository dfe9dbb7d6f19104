package rat4j.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The work of one timed call, split into parts that each run at the roofline of their own: a part's ideal time is
 * max(flops / peak FLOP/s, bytes / memory bandwidth), and the call's ideal time is the sum over parts (GEMMs are
 * compute-bound, element-wise passes and decode attention memory-bound; summing per part keeps one from hiding the
 * other, as a single max over the totals would).
 */
public record Cost(List<Part> parts) {
    /** Part groups; the breakdown option times the first two in place. */
    public static final String GEMM = "gemm", ATTENTION = "attention", ELEMENTWISE = "elementwise";

    /** @param group one of GEMM, ATTENTION, ELEMENTWISE; name says which operation, e.g. "in_proj backward" */
    public record Part(String group, String name, double flops, double bytes) {
        public Part {
            if (!(flops >= 0) || !(bytes >= 0)) throw new IllegalArgumentException(name + ": negative or NaN work " + flops + " flops, " + bytes + " bytes");
        }

        public double idealSeconds(double flopsPerSecond, double bytesPerSecond) {
            return Math.max(flops / flopsPerSecond, bytes / bytesPerSecond);
        }
    }

    public Cost {
        parts = List.copyOf(parts);
    }

    public double flops() {
        double s = 0;
        for (Part p : parts) s += p.flops();
        return s;
    }

    public double bytes() {
        double s = 0;
        for (Part p : parts) s += p.bytes();
        return s;
    }

    public double idealSeconds(double flopsPerSecond, double bytesPerSecond) {
        double s = 0;
        for (Part p : parts) s += p.idealSeconds(flopsPerSecond, bytesPerSecond);
        return s;
    }

    /** Ideal seconds per group, in first-seen order. */
    public Map<String, Double> idealSecondsByGroup(double flopsPerSecond, double bytesPerSecond) {
        Map<String, Double> m = new LinkedHashMap<>();
        for (Part p : parts) m.merge(p.group(), p.idealSeconds(flopsPerSecond, bytesPerSecond), Double::sum);
        return m;
    }

    /** Whether the parts bound by bandwidth take longer, ideally, than those bound by arithmetic. */
    public boolean memoryBound(double flopsPerSecond, double bytesPerSecond) {
        double mem = 0, compute = 0;
        for (Part p : parts) {
            if (p.bytes() / bytesPerSecond > p.flops() / flopsPerSecond) mem += p.idealSeconds(flopsPerSecond, bytesPerSecond);
            else compute += p.idealSeconds(flopsPerSecond, bytesPerSecond);
        }
        return mem > compute;
    }

    public Cost plus(Cost other) {
        List<Part> all = new ArrayList<>(parts);
        all.addAll(other.parts);
        return new Cost(all);
    }

    /** Every part's work times k (e.g. the same step at k positions). */
    public Cost times(double k) {
        List<Part> all = new ArrayList<>();
        for (Part p : parts) all.add(new Part(p.group(), p.name(), p.flops() * k, p.bytes() * k));
        return new Cost(all);
    }
}

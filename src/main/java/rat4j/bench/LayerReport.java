package rat4j.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** The layer benchmark's outputs: the table for stdout, the JSON file, and the targets checked on a result. */
public final class LayerReport {
    private LayerReport() {}

    /** One of the speed targets of RAT(L=16) over attention, checked on measured rows. */
    public record Target(String name, boolean met, String detail) {}

    static final BenchLayer RAT16 = BenchLayer.rat(16);

    /**
     * The targets, for the rows this result has (those it lacks are left out): train and prefill >= 3x at
     * T = 16K; >= 80% of the ideal speed-up at every T >= 4K; batched generation >= 8x at T = 4K; never slower than
     * attention.
     */
    public static List<Target> targets(LayerBench.Result r) {
        List<Target> out = new ArrayList<>();
        for (Phase ph : List.of(Phase.TRAIN, Phase.PREFILL)) {
            LayerBench.Row row = r.find(RAT16, 16384, ph);
            if (row != null && !Double.isNaN(r.speedup(row))) {
                double s = r.speedup(row);
                out.add(new Target(ph.label + " at T=16384 >= 3x", s >= 3, String.format(Locale.ROOT, "%.2fx (ideal %.2fx)", s, r.idealSpeedup(row))));
            }
            List<String> misses = new ArrayList<>();
            int checked = 0;
            for (LayerBench.Row x : r.rows()) {
                if (!x.layer().equals(RAT16) || x.phase() != ph || x.seqLen() < 4096 || Double.isNaN(r.speedup(x))) continue;
                checked++;
                double f = r.speedup(x) / r.idealSpeedup(x);
                if (f < 0.8) misses.add(String.format(Locale.ROOT, "T=%d: %.0f%%", x.seqLen(), 100 * f));
            }
            if (checked > 0) {
                out.add(new Target(ph.label + " >= 80% of ideal at T >= 4096", misses.isEmpty(),
                        misses.isEmpty() ? checked + " lengths" : String.join(", ", misses)));
            }
        }
        LayerBench.Row gen = r.find(RAT16, 4096, Phase.GENERATE);
        if (gen != null && !Double.isNaN(r.speedup(gen))) {
            double s = r.speedup(gen);
            out.add(new Target("generate at T=4096 (batch " + gen.batch() + ") >= 8x", s >= 8,
                    String.format(Locale.ROOT, "%.2fx (ideal %.2fx)", s, r.idealSpeedup(gen))));
        }
        List<String> slower = new ArrayList<>();
        int compared = 0;
        for (LayerBench.Row x : r.rows()) {
            if (!x.layer().equals(RAT16) || Double.isNaN(r.speedup(x))) continue;
            compared++;
            if (r.speedup(x) < 1) slower.add(String.format(Locale.ROOT, "%s T=%d: %.2fx", x.phase().label, x.seqLen(), r.speedup(x)));
        }
        if (compared > 0) out.add(new Target("never slower than attention", slower.isEmpty(), slower.isEmpty() ? compared + " rows" : String.join(", ", slower)));
        return out;
    }

    /** The results table: one block per phase, lengths ascending, layers in the order measured. */
    public static String table(LayerBench.Result r) {
        LayerBench.Options o = r.options();
        Machine m = r.machine();
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "rat4j bench layer: d_model %d, %d heads of %d; batch x T = %d (train, prefill), %d (generate)%n",
                o.dModel(), o.heads(), o.dModel() / o.heads(), o.tokensPerBatch(), o.genTokens()));
        sb.append(m.describe()).append('\n');
        sb.append("%roof = roofline time (FLOPs at the GEMM peak, bytes at the triad bandwidth, per part) / median (over 100% when"
                + " the data fits the caches); ideal = attention's roofline time / this row's; %ideal = (vs attn) / ideal;"
                + " others = share of the machine other processes used during the measurement\n");
        boolean split = o.breakdown();
        for (Phase ph : o.phases()) {
            sb.append('\n');
            String head = String.format(Locale.ROOT, "%-12s %6s %5s %-10s %10s %6s %4s %6s %9s %8s %5s %4s %7s %6s %6s",
                    "layer", "T", "B", "phase", "median ms", "±mad", "reps", "others", "GFLOP", "GB", "%roof", "bnd", "vs attn", "ideal", "%ideal");
            if (split) head += String.format(Locale.ROOT, " %9s %9s %9s %9s", "gemm ms", "attn ms", "other ms", "scan ms");
            sb.append(head.stripTrailing()).append('\n');
            for (int t : o.lengths()) {
                for (BenchLayer layer : o.layers()) {
                    LayerBench.Row x = r.find(layer, t, ph);
                    if (x != null) sb.append(line(r, x, split)).append('\n');
                }
            }
        }
        List<Target> targets = targets(r);
        if (!targets.isEmpty()) {
            sb.append("\ntargets (rat-16 over attention):\n");
            for (Target tg : targets) sb.append(String.format(Locale.ROOT, "  %-4s %-45s %s%n", tg.met() ? "MET" : "MISS", tg.name(), tg.detail()));
        }
        return sb.toString();
    }

    private static String line(LayerBench.Result r, LayerBench.Row x, boolean split) {
        String what = String.format(Locale.ROOT, "%-12s %6d %5d %-10s", x.layer().name(), x.seqLen(), x.batch(), x.phase().label);
        if (!x.measured()) return what + " skipped: " + x.skipped();
        Machine m = r.machine();
        Timing t = x.timing();
        boolean mem = x.cost().memoryBound(m.flopsPerSecond(), m.bytesPerSecond());
        double s = r.speedup(x), ideal = r.idealSpeedup(x);
        boolean self = x.layer().equals(BenchLayer.attention());
        String line = String.format(Locale.ROOT, "%s %10.3f %5.1f%% %4d %6s %9.2f %8.3f %4.0f%% %4s %7s %6s %6s", what, t.median(), 100 * t.spread(),
                t.reps(), percent(x.others()), x.cost().flops() / 1e9, x.cost().bytes() / 1e9, 100 * x.rooflineFraction(), mem ? "mem" : "flop",
                self ? "" : ratio(s), self ? "" : ratio(ideal), self || Double.isNaN(s) ? "" : String.format(Locale.ROOT, "%.0f%%", 100 * s / ideal));
        if (split && x.split() != null) {
            LayerBench.Split sp = x.split();
            line += String.format(Locale.ROOT, " %9.3f %9.3f %9.3f %9s", sp.gemmMs(), sp.attentionMs(), sp.otherMs(),
                    Double.isNaN(sp.scanAloneMs()) ? "" : String.format(Locale.ROOT, "%.3f", sp.scanAloneMs()));
        }
        return line.stripTrailing();
    }

    /** "37%", or "-" for NaN. */
    static String percent(double share) {
        return Double.isNaN(share) ? "-" : String.format(Locale.ROOT, "%.0f%%", 100 * share);
    }

    private static String ratio(double v) {
        return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%.2fx", v);
    }

    /** The result as JSON: machine, options, one object per row (samples included), targets. NaN is written as null. */
    public static ObjectNode json(LayerBench.Result r) {
        ObjectMapper om = new ObjectMapper();
        ObjectNode root = om.createObjectNode();
        root.put("benchmark", "layer");
        root.set("machine", machineJson(om, r.machine()));
        LayerBench.Options o = r.options();
        ObjectNode opt = root.putObject("options");
        opt.put("d_model", o.dModel());
        opt.put("heads", o.heads());
        opt.put("tokens_per_batch", o.tokensPerBatch());
        opt.put("gen_tokens", o.genTokens());
        ArrayNode lengths = opt.putArray("lengths");
        o.lengths().forEach(lengths::add);
        ArrayNode layers = opt.putArray("layers");
        o.layers().forEach(l -> layers.add(l.name()));
        ArrayNode phases = opt.putArray("phases");
        o.phases().forEach(p -> phases.add(p.label));
        opt.put("warmup", o.sampler().warmup());
        opt.put("reps", o.sampler().reps());
        opt.put("min_reps", o.sampler().minReps());
        opt.put("budget_s", o.sampler().budgetSeconds());
        opt.put("breakdown", o.breakdown());
        opt.put("seed", o.seed());
        ArrayNode rows = root.putArray("rows");
        Machine m = r.machine();
        for (LayerBench.Row x : r.rows()) {
            ObjectNode n = rows.addObject();
            n.put("layer", x.layer().name());
            n.put("T", x.seqLen());
            n.put("batch", x.batch());
            n.put("phase", x.phase().label);
            n.put("flops", x.cost().flops());
            n.put("bytes", x.cost().bytes());
            num(n, "ideal_ms", x.idealMs());
            n.put("bound", x.cost().memoryBound(m.flopsPerSecond(), m.bytesPerSecond()) ? "memory" : "compute");
            num(n, "ideal_speedup", r.idealSpeedup(x));
            if (!x.measured()) {
                n.put("skipped", x.skipped());
                continue;
            }
            Timing t = x.timing();
            n.put("median_ms", t.median());
            n.put("mad_ms", t.mad());
            n.put("min_ms", t.min());
            n.put("max_ms", t.max());
            ArrayNode samples = n.putArray("samples_ms");
            for (double s : t.samplesMs()) samples.add(s);
            num(n, "roofline_fraction", x.rooflineFraction());
            num(n, "others_load", x.others());
            num(n, "speedup_vs_attention", r.speedup(x));
            num(n, "fraction_of_ideal", r.speedup(x) / r.idealSpeedup(x));
            if (x.split() != null) {
                ObjectNode sp = n.putObject("breakdown_ms");
                sp.put("gemm", x.split().gemmMs());
                sp.put("attention", x.split().attentionMs());
                sp.put("other", x.split().otherMs());
                num(sp, "scan_alone", x.split().scanAloneMs());
            }
        }
        ArrayNode targets = root.putArray("targets");
        for (Target tg : targets(r)) {
            ObjectNode n = targets.addObject();
            n.put("name", tg.name());
            n.put("met", tg.met());
            n.put("detail", tg.detail());
        }
        return root;
    }

    static ObjectNode machineJson(ObjectMapper om, Machine m) {
        ObjectNode n = om.createObjectNode();
        n.put("threads", m.threads());
        n.put("gemm", m.gemm());
        n.put("gemm_gflops", m.gemmGflops());
        n.put("bandwidth_gbs", m.bandwidthGBs());
        n.put("attention", m.attention());
        n.put("max_heap_bytes", Runtime.getRuntime().maxMemory());
        return n;
    }

    static void num(ObjectNode n, String field, double v) {
        if (Double.isNaN(v) || Double.isInfinite(v)) n.putNull(field);
        else n.put(field, v);
    }

    public static void writeJson(LayerBench.Result r, Path file) throws IOException {
        write(json(r), file);
    }

    static void write(ObjectNode root, Path file) throws IOException {
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(file.toFile(), root);
    }
}

package rat4j.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;

/** The model benchmark's table and JSON. */
public final class ModelReport {
    private ModelReport() {}

    public static String table(ModelBench.Result r) {
        ModelBench.Options o = r.options();
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "rat4j bench model: d_model %d, %d heads, %d layers, vocabulary %d; prompt %d, then %d generated tokens"
                        + " (%d steps timed); cache budget %.2f GiB, batch <= %d%n",
                o.dModel(), o.heads(), o.layers(), o.vocab(), o.prompt(), o.generate(), o.samples(), r.budgetBytes() / (double) (1L << 30), o.maxBatch()));
        sb.append(r.machine().describe()).append('\n');
        sb.append("tokens/s = batch / mean step; %roof = roofline step time / mean step; prefill = one prompt through the model;"
                + " others = share of the machine other processes used during the steps\n\n");
        sb.append(String.format(Locale.ROOT, "%-36s %6s %11s %10s %11s %10s %6s %6s %10s %9s %8s %5s %7s%n",
                "model", "batch", "cache/seq", "weights", "prefill ms", "step ms", "±mad", "others", "tokens/s", "GFLOP/st", "GB/st", "%roof", "vs attn"));
        for (ModelBench.Row x : r.rows()) {
            String what = String.format(Locale.ROOT, "%-36s %6d %11s %10s", x.model(), x.batch(), bytes(x.cacheBytesPerSequence()), bytes(x.weightBytes()));
            if (!x.measured()) {
                sb.append(what).append(" skipped: ").append(x.skipped()).append('\n');
                continue;
            }
            double s = r.speedup(x);
            sb.append(String.format(Locale.ROOT, "%s %11.1f %10.2f %5.1f%% %6s %10.1f %9.2f %8.3f %4.0f%% %7s%n", what, x.prefillMs(), x.step().mean(),
                    100 * x.step().spread(), LayerReport.percent(x.others()), x.tokensPerSecond(), x.cost().flops() / 1e9, x.cost().bytes() / 1e9,
                    100 * x.idealStepMs() / x.step().mean(), x.model().equals("attention") || Double.isNaN(s) ? "" : String.format(Locale.ROOT, "%.2fx", s)));
        }
        return sb.toString();
    }

    static String bytes(long b) {
        if (b >= 1L << 30) return String.format(Locale.ROOT, "%.2f GiB", b / (double) (1L << 30));
        if (b >= 1L << 20) return String.format(Locale.ROOT, "%.1f MiB", b / (double) (1L << 20));
        return String.format(Locale.ROOT, "%.1f KiB", b / 1024.0);
    }

    public static ObjectNode json(ModelBench.Result r) {
        ObjectMapper om = new ObjectMapper();
        ObjectNode root = om.createObjectNode();
        root.put("benchmark", "model");
        root.set("machine", LayerReport.machineJson(om, r.machine()));
        ModelBench.Options o = r.options();
        ObjectNode opt = root.putObject("options");
        opt.put("d_model", o.dModel());
        opt.put("heads", o.heads());
        opt.put("layers", o.layers());
        opt.put("vocab", o.vocab());
        opt.put("prompt", o.prompt());
        opt.put("generate", o.generate());
        opt.put("samples", o.samples());
        opt.put("warmup_steps", o.warmupSteps());
        opt.put("budget_bytes", r.budgetBytes());
        opt.put("max_batch", o.maxBatch());
        opt.put("seed", o.seed());
        ArrayNode rows = root.putArray("rows");
        for (ModelBench.Row x : r.rows()) {
            ObjectNode n = rows.addObject();
            n.put("model", x.model());
            n.put("batch", x.batch());
            n.put("cache_bytes_per_sequence", x.cacheBytesPerSequence());
            n.put("weight_bytes", x.weightBytes());
            n.put("step_flops", x.cost().flops());
            n.put("step_bytes", x.cost().bytes());
            LayerReport.num(n, "ideal_step_ms", x.idealStepMs());
            if (!x.measured()) {
                n.put("skipped", x.skipped());
                continue;
            }
            LayerReport.num(n, "prefill_ms", x.prefillMs());
            n.put("step_mean_ms", x.step().mean());
            n.put("step_median_ms", x.step().median());
            n.put("step_mad_ms", x.step().mad());
            ArrayNode samples = n.putArray("step_samples_ms");
            for (double s : x.step().samplesMs()) samples.add(s);
            n.put("tokens_per_second", x.tokensPerSecond());
            LayerReport.num(n, "others_load", x.others());
            LayerReport.num(n, "ideal_tokens_per_second", x.idealTokensPerSecond());
            LayerReport.num(n, "speedup_vs_attention", r.speedup(x));
        }
        return root;
    }

    public static void writeJson(ModelBench.Result r, Path file) throws IOException {
        LayerReport.write(json(r), file);
    }
}

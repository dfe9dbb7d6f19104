package rat4j.train;

import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

import java.awt.BasicStroke;
import java.awt.Color;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * RUN/loss.png: training and validation loss against training tokens (JFreeChart), written atomically; and the same
 * for several runs in one figure ({@link #writeComparison}, 'rat4j plot').
 */
public final class LossPlot {
    public static final String FILE = "loss.png";

    private LossPlot() {}

    public static void write(Path png, String title, List<Metrics.Point> train, List<Metrics.Point> val) throws IOException {
        // No display is needed or wanted for a file; set before the first AWT class loads.
        if (System.getProperty("java.awt.headless") == null) System.setProperty("java.awt.headless", "true");
        XYSeries t = new XYSeries("train"), v = new XYSeries("validation");
        for (Metrics.Point p : train) if (Double.isFinite(p.loss())) t.add(p.tokens(), p.loss());
        for (Metrics.Point p : val) if (Double.isFinite(p.loss())) v.add(p.tokens(), p.loss());
        XYSeriesCollection data = new XYSeriesCollection();
        data.addSeries(t);
        data.addSeries(v);
        JFreeChart chart = ChartFactory.createXYLineChart(title, "training tokens", "loss (nats / token)", data, PlotOrientation.VERTICAL, true, false, false);
        XYPlot plot = chart.getXYPlot();
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        XYLineAndShapeRenderer r = new XYLineAndShapeRenderer();
        r.setSeriesPaint(0, new Color(0x1f77b4));
        r.setSeriesStroke(0, new BasicStroke(1f));
        r.setSeriesShapesVisible(0, false);
        r.setSeriesPaint(1, new Color(0xd62728));
        r.setSeriesStroke(1, new BasicStroke(2f));
        r.setSeriesShapesVisible(1, true);
        plot.setRenderer(r);
        save(png, chart, plot);
    }

    private static void save(Path png, JFreeChart chart, XYPlot plot) throws IOException {
        ((org.jfree.chart.axis.NumberAxis) plot.getRangeAxis()).setAutoRangeIncludesZero(false);
        chart.setPadding(new org.jfree.chart.ui.RectangleInsets(4, 4, 4, 24)); // room for the last tick label
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ChartUtils.writeChartAsPNG(bytes, chart, 900, 540);
        AtomicOutput.write(png, bytes.toByteArray());
    }

    /** Which losses a comparison draws. */
    public enum Split {
        TRAIN, VAL, BOTH;

        public static Split parse(String s) {
            return switch (s) {
                case "train" -> TRAIN;
                case "val" -> VAL;
                case "both" -> BOTH;
                default -> throw new IllegalArgumentException("split must be train, val or both, got '" + s + "'");
            };
        }
    }

    /** A run in a comparison: its legend label and its losses. */
    public record Run(String label, Metrics.Curves curves) {}

    private static final Color[] PALETTE = {new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c), new Color(0xff7f0e),
            new Color(0x9467bd), new Color(0x8c564b), new Color(0xe377c2), new Color(0x7f7f7f)};

    /**
     * Several runs' losses against training tokens in one PNG: each run in its own colour, its training loss a thin
     * line, its validation loss a thick line with markers. Runs with different token budgets share the axis.
     */
    public static void writeComparison(Path png, String title, List<Run> runs, Split split) throws IOException {
        if (runs.isEmpty()) throw new IllegalArgumentException("no runs to plot");
        if (System.getProperty("java.awt.headless") == null) System.setProperty("java.awt.headless", "true");
        XYSeriesCollection data = new XYSeriesCollection();
        XYLineAndShapeRenderer r = new XYLineAndShapeRenderer();
        for (int i = 0; i < runs.size(); i++) {
            Run run = runs.get(i);
            Color c = PALETTE[i % PALETTE.length];
            if (split != Split.VAL) {
                int s = add(data, run.label() + (split == Split.BOTH ? " (train)" : ""), run.curves().train());
                r.setSeriesPaint(s, split == Split.BOTH ? new Color(c.getRed(), c.getGreen(), c.getBlue(), 110) : c);
                r.setSeriesStroke(s, new BasicStroke(split == Split.BOTH ? 1f : 1.5f));
                r.setSeriesShapesVisible(s, false);
            }
            if (split != Split.TRAIN) {
                int s = add(data, run.label() + (split == Split.BOTH ? " (validation)" : ""), run.curves().val());
                r.setSeriesPaint(s, c);
                r.setSeriesStroke(s, new BasicStroke(2.5f));
                r.setSeriesShapesVisible(s, true);
            }
        }
        String what = switch (split) {
            case TRAIN -> "training loss";
            case VAL -> "validation loss";
            case BOTH -> "loss (nats / token; thin: training, thick: validation)";
        };
        JFreeChart chart = ChartFactory.createXYLineChart(title, "training tokens", what, data, PlotOrientation.VERTICAL, true, false, false);
        XYPlot plot = chart.getXYPlot();
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        plot.setRenderer(r);
        save(png, chart, plot);
    }

    /** Adds the finite losses as a series; returns its index. Labels must differ, as JFreeChart keys series by them. */
    private static int add(XYSeriesCollection data, String label, List<Metrics.Point> points) {
        if (data.getSeriesIndex(label) >= 0) throw new IllegalArgumentException("two runs are labelled '" + label + "'; give distinct labels");
        XYSeries s = new XYSeries(label);
        for (Metrics.Point p : points) if (Double.isFinite(p.loss())) s.add(p.tokens(), p.loss());
        data.addSeries(s);
        return data.getSeriesCount() - 1;
    }
}

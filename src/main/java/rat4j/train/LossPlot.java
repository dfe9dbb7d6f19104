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

/** RUN/loss.png: training and validation loss against training tokens (JFreeChart), written atomically. */
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
        ((org.jfree.chart.axis.NumberAxis) plot.getRangeAxis()).setAutoRangeIncludesZero(false);
        chart.setPadding(new org.jfree.chart.ui.RectangleInsets(4, 4, 4, 24)); // room for the last tick label
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ChartUtils.writeChartAsPNG(bytes, chart, 900, 540);
        AtomicOutput.write(png, bytes.toByteArray());
    }
}

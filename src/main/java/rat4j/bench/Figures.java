package rat4j.bench;

import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberTickUnit;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

import javax.imageio.ImageIO;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.text.DecimalFormat;
import java.util.ArrayList;
import java.util.List;

/** The layer benchmark's figure, laid out as the paper's Figure 3: one panel per phase, ms against T, both log scale. */
public final class Figures {
    static final int PANEL_WIDTH = 520, PANEL_HEIGHT = 440;
    /** Colour-blind-safe (Okabe-Ito), readable on white. */
    private static final Color[] PALETTE = {new Color(0xD55E00), new Color(0x0072B2), new Color(0x009E73), new Color(0xCC79A7),
            new Color(0xE69F00), new Color(0x56B4E9), new Color(0x000000), new Color(0xF0E442)};
    private static final List<Phase> PANELS = List.of(Phase.TRAIN, Phase.PREFILL, Phase.GENERATE);

    private Figures() {}

    /** The panels for the phases the result holds, side by side; null when it holds none of train/prefill/generate. */
    public static BufferedImage layerFigure(LayerBench.Result r) {
        if (System.getProperty("java.awt.headless") == null) System.setProperty("java.awt.headless", "true");
        List<JFreeChart> charts = new ArrayList<>();
        for (Phase ph : PANELS) if (r.options().phases().contains(ph)) charts.add(panel(r, ph));
        if (charts.isEmpty()) return null;
        BufferedImage img = new BufferedImage(PANEL_WIDTH * charts.size(), PANEL_HEIGHT, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, img.getWidth(), img.getHeight());
        for (int i = 0; i < charts.size(); i++) {
            charts.get(i).draw(g, new Rectangle2D.Double(i * PANEL_WIDTH, 0, PANEL_WIDTH, PANEL_HEIGHT));
        }
        g.dispose();
        return img;
    }

    /** Writes {@link #layerFigure} as a PNG; returns false (writing nothing) when there is no panel to draw. */
    public static boolean writeLayerFigure(LayerBench.Result r, Path png) throws IOException {
        BufferedImage img = layerFigure(r);
        if (img == null) return false;
        if (!ImageIO.write(img, "png", png.toFile())) throw new IOException(png + ": no PNG writer in this JDK");
        return true;
    }

    static JFreeChart panel(LayerBench.Result r, Phase ph) {
        XYSeriesCollection data = new XYSeriesCollection();
        for (BenchLayer layer : r.options().layers()) {
            XYSeries s = new XYSeries(layer.name());
            for (int t : r.options().lengths()) {
                LayerBench.Row x = r.find(layer, t, ph);
                if (x != null && x.measured()) s.add(t, x.timing().median());
            }
            if (s.getItemCount() > 0) data.addSeries(s);
        }
        LogAxis xAxis = new LogAxis("sequence length T");
        xAxis.setBase(2);
        xAxis.setTickUnit(new NumberTickUnit(1));
        xAxis.setNumberFormatOverride(new DecimalFormat("0"));
        LogAxis yAxis = new LogAxis("ms");
        yAxis.setBase(2);
        yAxis.setTickUnit(new NumberTickUnit(1));
        yAxis.setNumberFormatOverride(new DecimalFormat("0.###"));
        XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, true);
        for (int i = 0; i < data.getSeriesCount(); i++) {
            renderer.setSeriesPaint(i, PALETTE[i % PALETTE.length]);
            renderer.setSeriesStroke(i, new BasicStroke(2f));
        }
        XYPlot plot = new XYPlot(data, xAxis, yAxis, renderer);
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        String title = switch (ph) {
            case TRAIN -> "train (forward + backward), B x T = " + r.options().tokensPerBatch();
            case PREFILL -> "prefill, B x T = " + r.options().tokensPerBatch();
            default -> "generation step, B x T = " + r.options().genTokens();
        };
        JFreeChart chart = new JFreeChart(title, JFreeChart.DEFAULT_TITLE_FONT.deriveFont(14f), plot, true);
        chart.setBackgroundPaint(Color.WHITE);
        return chart;
    }
}

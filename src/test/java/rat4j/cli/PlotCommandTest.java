package rat4j.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PlotCommandTest {
    @TempDir Path dir;

    static TrainCommandTest.Result run(String... args) {
        return TrainCommandTest.run(args);
    }

    /** A run directory whose metrics.jsonl holds a falling loss, validated every 10 steps, shifted by {@code offset}. */
    Path fakeRun(String name, double offset, int steps) throws IOException {
        Path run = Files.createDirectories(dir.resolve(name));
        StringBuilder b = new StringBuilder();
        for (int s = 1; s <= steps; s++) {
            double loss = offset + 8.0 / Math.sqrt(s);
            b.append(String.format(java.util.Locale.ROOT, "{\"split\":\"train\",\"step\":%d,\"tokens\":%d,\"loss\":%.4f,\"lr\":0.001,\"grad_norm\":1.0,\"tokens_per_s\":100.0}%n",
                    s, 64L * s, loss));
            if (s % 10 == 0) b.append(String.format(java.util.Locale.ROOT, "{\"split\":\"val\",\"step\":%d,\"tokens\":%d,\"loss\":%.4f,\"ppl\":1.0}%n", s, 64L * s, loss + 0.1));
        }
        b.append("{\"split\":\"train\",\"ste"); // a line cut short by a crash is skipped
        Files.writeString(run.resolve("metrics.jsonl"), b);
        return run;
    }

    @Test void threeRunsInOnePng() throws IOException {
        Path a = fakeRun("rat-small", 3.0, 40), b = fakeRun("attention-small", 3.5, 40), c = fakeRun("hybrid", 3.2, 30);
        Path png = dir.resolve("figs/compare.png");
        TrainCommandTest.Result r = run("plot", "--out", png.toString(), "--title", "three runs", a.toString(), b.toString(), c.toString());
        assertEquals(0, r.rc(), r.err());
        assertEquals("rat4j: wrote " + png + " (3 runs)\n", r.out().replace("\r", ""));
        BufferedImage img = ImageIO.read(png.toFile());
        assertNotNull(img, "a PNG");
        assertEquals(900, img.getWidth());
        assertEquals(540, img.getHeight());
        Set<Integer> colours = new HashSet<>();
        for (int y = 0; y < img.getHeight(); y += 2) for (int x = 0; x < img.getWidth(); x += 2) colours.add(img.getRGB(x, y) & 0xffffff);
        // the three runs' colours are drawn (palette: blue, red, green)
        for (int rgb : new int[] {0x1f77b4, 0xd62728, 0x2ca02c}) assertTrue(colours.contains(rgb), String.format("colour %06x drawn", rgb));

        TrainCommandTest.Result v = run("plot", "--out", dir.resolve("val.png").toString(), "--split", "val", "--labels", "RAT,attention", a.toString(), b.toString());
        assertEquals(0, v.rc(), v.err());
        assertTrue(Files.size(dir.resolve("val.png")) > 1000);
    }

    @Test void badInputsAreOneLine() throws IOException {
        Path a = fakeRun("a", 3, 10);
        assertTrue(run("plot", "--out", dir.resolve("x.png").toString(), dir.resolve("missing").toString()).error(1).contains("no metrics.jsonl"));
        assertTrue(run("plot", "--out", dir.resolve("x.png").toString(), "--split", "test", a.toString()).error(2).contains("split must be train, val or both"));
        assertTrue(run("plot", "--out", dir.resolve("x.png").toString(), "--labels", "one,two", a.toString()).error(2).contains("2 labels for 1 runs"));
        assertTrue(run("plot", "--out", dir.resolve("x.png").toString(), a.toString(), a.toString()).error(1).contains("two runs are labelled 'a (train)'"));
        assertFalse(Files.exists(dir.resolve("x.png")));
    }
}

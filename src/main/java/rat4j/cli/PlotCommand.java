package rat4j.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import rat4j.train.LossPlot;
import rat4j.train.Metrics;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "plot", mixinStandardHelpOptions = true,
        description = "Draw the loss curves of several training runs (each RUN's metrics.jsonl) in one PNG, against training tokens.")
final class PlotCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Parameters(arity = "1..*", paramLabel = "RUN", description = "run directories of 'rat4j train'")
    List<Path> runs;

    @Option(names = "--out", required = true, paramLabel = "FILE.png", description = "the PNG to write")
    Path out;

    @Option(names = "--split", defaultValue = "both", paramLabel = "train|val|both", description = "which losses to draw (default ${DEFAULT-VALUE})")
    String split;

    @Option(names = "--labels", split = ",", paramLabel = "L,...", description = "legend labels, one per RUN (default: each RUN's folder name)")
    List<String> labels;

    @Option(names = "--title", defaultValue = "rat4j: loss", paramLabel = "TEXT", description = "the figure's title (default '${DEFAULT-VALUE}')")
    String title;

    @Override public Integer call() throws IOException {
        LossPlot.Split s;
        try {
            s = LossPlot.Split.parse(split);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), "--split: " + e.getMessage());
        }
        if (labels != null && labels.size() != runs.size()) {
            throw new ParameterException(spec.commandLine(), "--labels gives " + labels.size() + " labels for " + runs.size() + " runs");
        }
        List<LossPlot.Run> plotted = new ArrayList<>();
        for (int i = 0; i < runs.size(); i++) {
            Path run = runs.get(i);
            String label = labels != null ? labels.get(i) : String.valueOf(run.toAbsolutePath().normalize().getFileName());
            plotted.add(new LossPlot.Run(label, Metrics.read(run)));
        }
        Path parent = out.toAbsolutePath().getParent();
        if (parent != null) Files.createDirectories(parent);
        LossPlot.writeComparison(out, title, plotted, s);
        spec.commandLine().getOut().println("rat4j: wrote " + out + " (" + runs.size() + " run" + (runs.size() == 1 ? "" : "s") + ")");
        return 0;
    }
}

package rat4j.cli;

import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import rat4j.model.ModelConfig;
import rat4j.model.ParameterLayout;
import rat4j.model.Presets;
import rat4j.model.io.ConfigJson;

import java.io.PrintWriter;
import java.util.concurrent.Callable;

@Command(name = "config", mixinStandardHelpOptions = true, description = "Print a preset's config.json, or list the presets.")
final class ConfigCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Choice choice;

    static final class Choice {
        @Option(names = "--preset", paramLabel = "NAME", description = "print this preset's config.json")
        String preset;

        @Option(names = "--list", description = "list the presets with their parameter counts")
        boolean list;
    }

    @Override public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        if (choice.list) {
            for (String name : Presets.names()) {
                out.printf("%-42s %,15d parameters%n", name, ParameterLayout.of(Presets.get(name)).totalSize());
            }
        } else {
            ModelConfig config;
            try {
                config = Presets.get(choice.preset);
            } catch (IllegalArgumentException e) {
                throw new ParameterException(spec.commandLine(), e.getMessage());
            }
            out.print(ConfigJson.toJson(config));
        }
        return 0;
    }
}

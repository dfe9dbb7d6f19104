package rat4j.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;
import rat4j.kernel.Kernels;
import rat4j.kernel.Parallel;
import rat4j.model.ParameterLayout;
import rat4j.model.Presets;

import java.io.PrintWriter;
import java.util.concurrent.Callable;

@Command(name = "info", mixinStandardHelpOptions = true,
        description = "Show the JVM, the threads, the kernels chosen on this machine, and the model presets.")
final class InfoCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Override public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        out.printf("java       %s (%s)%n", Runtime.version(), System.getProperty("java.vm.vendor"));
        out.printf("threads    %d%n", Parallel.threads());
        out.printf("compute    %s%n", Kernels.compute().label());
        out.printf("gemm       %s%n", Kernels.gemm().name());
        out.printf("attention  %s%n", Kernels.attention().name());
        out.println("presets:");
        for (String name : Presets.names()) {
            out.printf("  %-42s %,15d parameters%n", name, ParameterLayout.of(Presets.get(name)).totalSize());
        }
        return 0;
    }
}

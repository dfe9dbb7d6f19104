package rat4j.cli;

import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import rat4j.kernel.Compute;
import rat4j.kernel.Kernels;

/** The --compute option of 'train' and 'bench layer': fp32 (the default) or bf16 GEMMs; see {@link Compute}. */
final class ComputeOption {
    static final String DESCRIPTION = "GEMM precision: fp32 (default) or bf16 (operands rounded to bf16, fp32 sums and weights,"
            + " as torch autocast; oneDNN where installed); default from RAT4J_COMPUTE";

    private ComputeOption() {}

    /** Switches the process's GEMM to the mode given (null: the environment's) and returns the mode now in use. */
    static Compute apply(String value, CommandSpec spec) {
        if (value == null) return Kernels.compute();
        Compute mode;
        try {
            mode = Compute.parse(value, "--compute");
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
        Kernels.useCompute(mode);
        return mode;
    }
}

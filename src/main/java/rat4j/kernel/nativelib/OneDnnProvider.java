package rat4j.kernel.nativelib;

import rat4j.kernel.Gemm;
import rat4j.kernel.GemmProvider;

/**
 * "onednn-bf16": oneDNN's matmul on bf16-rounded operands with fp32 sums (torch autocast's numbers). Never chosen as
 * the default: it changes results, so it is used only by name or by the bf16 compute mode ({@link rat4j.kernel.Compute}).
 */
public final class OneDnnProvider implements GemmProvider {
    @Override public String name() { return "onednn-bf16"; }

    @Override public int rank() { return 40; }

    @Override public boolean bf16Operands() { return true; }

    @Override public Availability probe() { return OneDnn.probe(); }

    @Override public Gemm create() { return OneDnn.create(); }
}

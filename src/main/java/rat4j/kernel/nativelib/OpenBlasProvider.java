package rat4j.kernel.nativelib;

import rat4j.kernel.Gemm;
import rat4j.kernel.GemmProvider;

/** "openblas": the fastest backend where libopenblas.so.0 is installed. */
public final class OpenBlasProvider implements GemmProvider {
    @Override public String name() { return "openblas"; }

    @Override public int rank() { return 30; }

    @Override public Availability probe() { return OpenBlas.probe(); }

    @Override public Gemm create() { return OpenBlas.create(); }
}

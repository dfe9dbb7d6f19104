package rat4j.kernel.nativelib;

import rat4j.kernel.Gemm;
import rat4j.kernel.GemmProvider;

/**
 * "openblas": the fastest backend where libopenblas.so.0 is installed, unless the environment pins OPENBLAS_CORETYPE
 * to a core that leaves this CPU's AVX-512 unused: Haswell kernels then run at about half the speed of the Vector
 * API kernel (measured on the 2-core EPYC: ~170 vs ~295 GFLOP/s), so it ranks below "java" and is chosen only by name.
 */
public final class OpenBlasProvider implements GemmProvider {
    @Override public String name() { return "openblas"; }

    @Override public int rank() { return OpenBlas.presetCoreTypeIsWeaker() ? 10 : 30; }

    @Override public Availability probe() { return OpenBlas.probe(); }

    @Override public Gemm create() { return OpenBlas.create(); }
}

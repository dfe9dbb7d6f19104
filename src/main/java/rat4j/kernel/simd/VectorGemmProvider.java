package rat4j.kernel.simd;

import rat4j.kernel.Gemm;
import rat4j.kernel.GemmProvider;

/**
 * "java": the Vector API backend, available when the JVM runs with --add-modules jdk.incubator.vector. This class
 * names no Vector API type, so probing works without that module.
 */
public final class VectorGemmProvider implements GemmProvider {
    @Override public String name() { return "java"; }

    @Override public int rank() { return 20; }

    @Override public Availability probe() {
        return ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent()
                ? Availability.yes("pure Java, Vector API")
                : Availability.no("module jdk.incubator.vector not loaded (run java with --add-modules jdk.incubator.vector)");
    }

    @Override public Gemm create() {
        Availability av = probe();
        if (!av.available()) throw new IllegalStateException("java gemm unavailable: " + av.detail());
        return new VectorGemm();
    }
}

package rat4j.kernel;

/** Placeholder until the attention kernels land. */
public final class AttentionBackends {
    private AttentionBackends() {}

    public static AttentionKernels best() {
        throw new UnsupportedOperationException("attention kernels not wired yet");
    }
}

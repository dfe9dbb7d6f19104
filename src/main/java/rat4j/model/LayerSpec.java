package rat4j.model;

/**
 * One sequence layer's hyper-parameters. Fields that a kind does not use are 0.
 *
 * @param numHead    heads (RAT, attention, local attention); 0 for the RNN
 * @param chunkSize  RAT's chunk length L
 * @param ngroups    RAT's shared q/k groups (head h uses group h mod ngroups)
 * @param windowSize local attention: query i sees keys j with 0 <= i - j <= windowSize
 * @param gateInitLength RNN: the reference's `seq_len`, used only by the gate-bias initialisation log(U(1, n-1))
 */
public record LayerSpec(LayerKind kind, int numHead, int chunkSize, int ngroups, int windowSize, int gateInitLength) {

    public static LayerSpec rat(int numHead, int chunkSize, int ngroups) {
        return new LayerSpec(LayerKind.RAT, numHead, chunkSize, ngroups, 0, 0);
    }

    public static LayerSpec attention(int numHead) {
        return new LayerSpec(LayerKind.ATTENTION, numHead, 0, 0, 0, 0);
    }

    public static LayerSpec localAttention(int numHead, int windowSize) {
        return new LayerSpec(LayerKind.LOCAL_ATTENTION, numHead, 0, 0, windowSize, 0);
    }

    public static LayerSpec rnn(int gateInitLength) {
        return new LayerSpec(LayerKind.RNN, 0, 0, 0, 0, gateInitLength);
    }

    public LayerSpec withChunkSize(int l) { return new LayerSpec(kind, numHead, l, ngroups, windowSize, gateInitLength); }

    public LayerSpec withWindowSize(int w) { return new LayerSpec(kind, numHead, chunkSize, ngroups, w, gateInitLength); }

    /** Throws IllegalArgumentException naming the first bad field. {@code where} names this cell in messages. */
    void validate(int dModel, String where) {
        if (kind == null) throw new IllegalArgumentException(where + ".kind is missing");
        switch (kind) {
            case RAT -> {
                requireHeads(dModel, where);
                if (chunkSize < 1) throw new IllegalArgumentException(where + ".chunk_size must be >= 1, got " + chunkSize);
                if (ngroups < 1 || numHead % ngroups != 0) {
                    throw new IllegalArgumentException(where + ".ngroups must divide num_head " + numHead + ", got " + ngroups);
                }
            }
            case ATTENTION -> requireHeads(dModel, where);
            case LOCAL_ATTENTION -> {
                requireHeads(dModel, where);
                if (windowSize < 1) throw new IllegalArgumentException(where + ".window_size must be >= 1, got " + windowSize);
            }
            case RNN -> {
                if (gateInitLength < 0) throw new IllegalArgumentException(where + ".seq_len must be >= 0, got " + gateInitLength);
            }
        }
    }

    private void requireHeads(int dModel, String where) {
        if (numHead < 1 || dModel % numHead != 0) {
            throw new IllegalArgumentException(where + ".num_head must divide d_model " + dModel + ", got " + numHead);
        }
        if ((dModel / numHead) % 2 != 0) {
            throw new IllegalArgumentException(where + ": head dim " + dModel / numHead + " must be even for RoPE");
        }
    }

    /** Head dimension D for the kinds that have heads. */
    public int headDim(int dModel) {
        return numHead == 0 ? 0 : dModel / numHead;
    }
}

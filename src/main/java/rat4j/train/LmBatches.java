package rat4j.train;

import rat4j.model.LanguageModel;

/**
 * Language-modelling batches from a token file, as the reference's src/data/lm_dataloader.py: a row is a window of T
 * tokens x = f[s, s + T) with next-token labels y = f[s + 1, s + T + 1), and y is ignored (-100) wherever x is EOS, so
 * the model is never trained to guess the next document's first token from the end of the last one.
 * <ul>
 * <li>ordered (lm_ordered, the reference's pre-training): row r starts at r x T; micro-batch k takes the B rows after
 *     those of micro-batch k - 1 and starts over after an epoch of whole optimizer steps, floor((N - 1) / (T x B x A))
 *     steps of A micro-batches;</li>
 * <li>random (lm_random): every row starts at a uniform s in [0, N - T - 1), drawn from the seeded generator.</li>
 * </ul>
 */
public final class LmBatches implements BatchSource {
    private final TokenFile file;
    private final int eos, batch, seqLen;
    private final TrainConfig.Sampling sampling;
    private final long batchesPerEpoch;   // micro-batches
    private SplitMix64 rng;
    private long position;

    /**
     * @param accumulation micro-batches per optimizer step (an epoch is whole steps)
     * @param seed         the generator's initial state (random sampling)
     */
    public LmBatches(TokenFile file, int eos, int batch, int seqLen, int accumulation, TrainConfig.Sampling sampling, long seed) {
        this.file = file;
        this.eos = eos;
        this.batch = batch;
        this.seqLen = seqLen;
        this.sampling = sampling;
        long steps = stepsPerEpoch(file.length(), batch, seqLen, accumulation);
        if (steps < 1) {
            throw new IllegalArgumentException(file.path() + " holds " + file.length() + " tokens, fewer than one optimizer step needs: B x A x T + 1 = "
                    + batch + " x " + accumulation + " x " + seqLen + " + 1 = " + ((long) batch * accumulation * seqLen + 1)
                    + "; lower --batch-size, --grad-accum or --seq-len, or prepare more text");
        }
        if (sampling == TrainConfig.Sampling.RANDOM && file.length() < seqLen + 2L) {
            throw new IllegalArgumentException(file.path() + " holds " + file.length() + " tokens; random windows of T = " + seqLen + " need at least T + 2");
        }
        this.batchesPerEpoch = steps * accumulation;
        this.rng = new SplitMix64(seed);
    }

    /** Whole optimizer steps in one pass over a file of {@code tokens} tokens (the reference's len(loader) // accumulation). */
    public static long stepsPerEpoch(long tokens, int batch, int seqLen, int accumulation) {
        return Math.max(0, tokens - 1) / Math.multiplyExact((long) batch * seqLen, accumulation);
    }

    @Override public void next(int[] tokens, int[] labels) {
        for (int b = 0; b < batch; b++) {
            long start = switch (sampling) {
                case ORDERED -> ((position % batchesPerEpoch) * batch + b) * seqLen;
                case RANDOM -> rng.nextLong(file.length() - seqLen - 1);
            };
            window(file, start, seqLen, eos, tokens, labels, b * seqLen);
        }
        position++;
    }

    @Override public long position() { return position; }

    @Override public long rngState() { return rng.state(); }

    @Override public void seek(long position, long rngState) {
        if (position < 0) throw new IllegalArgumentException("data position must be >= 0, got " + position);
        this.position = position;
        this.rng = new SplitMix64(rngState);
    }

    /** tokens/labels[off .. off + T) = the window starting at token {@code start}, labels masked after EOS. */
    static void window(TokenFile f, long start, int seqLen, int eos, int[] tokens, int[] labels, int off) {
        f.read(start, tokens, off, seqLen);
        f.read(start + 1, labels, off, seqLen);
        for (int t = off; t < off + seqLen; t++) if (tokens[t] == eos) labels[t] = LanguageModel.IGNORE_INDEX;
    }

    /** Validation rows of a token file: row r is the window at r x T, at most {@code maxRows} of them. */
    public static Rows rows(TokenFile file, int eos, int seqLen, long maxRows) {
        long count = Math.min(maxRows, Math.max(0, file.length() - 1) / seqLen);
        return new Rows() {
            @Override public long count() { return count; }

            @Override public int seqLen() { return seqLen; }

            @Override public void fill(long row, int[] tokens, int[] labels, int off) {
                window(file, row * seqLen, seqLen, eos, tokens, labels, off);
            }
        };
    }
}

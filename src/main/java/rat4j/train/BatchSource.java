package rat4j.train;

/**
 * The training stream of micro-batches. Its whole state is a position (micro-batches drawn) and a generator state,
 * which a checkpoint records so a resumed run draws the same batches as an uninterrupted one.
 */
public interface BatchSource {
    /** Fills tokens (B, T) with the next micro-batch and labels (B, T) with its targets (-100 = ignored). */
    void next(int[] tokens, int[] labels);

    /** Micro-batches drawn so far. */
    long position();

    long rngState();

    /** Continues as if {@code position} micro-batches had been drawn, with the generator at {@code rngState}. */
    void seek(long position, long rngState);
}

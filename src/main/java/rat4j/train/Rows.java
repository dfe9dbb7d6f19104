package rat4j.train;

/** A fixed, ordered set of rows of T tokens with their labels: validation data. */
public interface Rows {
    long count();

    int seqLen();

    /** tokens[off .. off + T) and labels[off .. off + T) = row {@code row}. */
    void fill(long row, int[] tokens, int[] labels, int off);
}

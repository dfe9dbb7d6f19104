package rat4j.kernel;

/**
 * Rows of a float array with a fixed stride: row r starts at data[offset + r * stride]. An activation of shape
 * (B, T, H, D) has B*T rows of width H*D, and element (b, t, h, d) lives at data[row(b*T + t) + h*D + d]. The stride
 * may exceed the width, so q, k and v can be column slices of one in_proj output row and the layers need no
 * transposes or copies.
 */
public record Strided(float[] data, int offset, int stride) {

    /** Rows of the given width packed back to back (stride == width) from index 0. */
    public static Strided dense(float[] data, int width) {
        return new Strided(data, 0, width);
    }

    /** Index of row r's first element. Valid for r < rows once {@link #check} passed, so it cannot overflow. */
    public int row(int r) {
        return offset + r * stride;
    }

    /**
     * Throws a one-line IllegalArgumentException naming the argument when rows rows of width width do not fit the
     * array or the stride is narrower than a row. After it passes, every row(r) + c with r < rows, c < width is a
     * valid int index.
     */
    public void check(String name, long rows, int width) {
        if (data == null) throw new IllegalArgumentException(name + ": array is null");
        if (offset < 0) throw new IllegalArgumentException(name + ": negative offset " + offset);
        if (width < 0) throw new IllegalArgumentException(name + ": negative row width " + width);
        if (rows < 0) throw new IllegalArgumentException(name + ": negative row count " + rows);
        if (stride < width) {
            throw new IllegalArgumentException(name + ": stride " + stride + " is smaller than the row width " + width);
        }
        if (rows == 0 || width == 0) return;
        long end = offset + (rows - 1) * (long) stride + width;
        if (end > data.length) {
            throw new IllegalArgumentException(name + ": " + rows + " rows of width " + width + " at offset " + offset
                    + " with stride " + stride + " need " + end + " floats, the array has " + data.length);
        }
    }
}

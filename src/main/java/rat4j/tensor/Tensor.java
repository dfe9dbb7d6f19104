package rat4j.tensor;

import java.util.Arrays;

/** A named-shape view into a float array: data[offset .. offset + size), row-major. Views share storage. */
public record Tensor(float[] data, int offset, int[] shape) {

    public Tensor {
        shape = shape.clone();
        int n = Sizes.product(shape);
        if (offset < 0 || offset + (long) n > data.length) {
            throw new IllegalArgumentException("view " + Arrays.toString(shape) + " at " + offset + " exceeds storage of " + data.length);
        }
    }

    public static Tensor zeros(int... shape) {
        return new Tensor(new float[Sizes.product(shape)], 0, shape);
    }

    public int size() {
        return Sizes.product(shape);
    }

    public int dim(int i) {
        return shape[i];
    }

    public int rank() {
        return shape.length;
    }

    public float get(int i) {
        return data[offset + i];
    }

    public void set(int i, float v) {
        data[offset + i] = v;
    }

    public void zero() {
        Arrays.fill(data, offset, offset + size(), 0f);
    }

    public float[] toArray() {
        return Arrays.copyOfRange(data, offset, offset + size());
    }

    public void copyFrom(float[] src) {
        if (src.length != size()) throw new IllegalArgumentException("copy of " + src.length + " values into a view of " + size());
        System.arraycopy(src, 0, data, offset, src.length);
    }

    public String shapeString() {
        return Arrays.toString(shape);
    }

    @Override public boolean equals(Object o) {
        return o instanceof Tensor t && t.data == data && t.offset == offset && Arrays.equals(t.shape, shape);
    }

    @Override public int hashCode() {
        return 31 * System.identityHashCode(data) + offset;
    }

    @Override public String toString() {
        return "Tensor" + shapeString() + "@" + offset;
    }
}

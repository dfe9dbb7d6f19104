package rat4j.tensor;

/** Size arithmetic that fails loudly instead of wrapping: a 1.3B model and 64K-token activations overflow int. */
public final class Sizes {
    private Sizes() {}

    /** Product of the dimensions as an int index into a Java array; throws when it does not fit. */
    public static int product(int... dims) {
        long n = 1;
        for (int d : dims) {
            if (d < 0) throw new IllegalArgumentException("negative dimension " + d);
            n = Math.multiplyExact(n, (long) d);
        }
        if (n > Integer.MAX_VALUE - 8) {
            throw new ArithmeticException("tensor of " + n + " elements does not fit one Java array");
        }
        return (int) n;
    }
}

package rat4j.kernel;

/**
 * How the decode path stores the weight matrices it streams once per token. Decoding is memory-bound, so bytes per
 * weight are tokens per second.
 */
public enum WeightFormat {
    /** The float32 parameters as they are. */
    FP32("fp32"),
    /**
     * bfloat16 (round to nearest even): half the bytes. The model's float32 parameters are rounded to the same values,
     * so prefill, scoring and decoding all compute with one set of weights.
     */
    BF16("bf16");

    public final String label;

    WeightFormat(String label) { this.label = label; }

    public static WeightFormat parse(String s) {
        for (WeightFormat f : values()) if (f.label.equals(s)) return f;
        throw new IllegalArgumentException("unknown weight format '" + s + "' (expected fp32 or bf16)");
    }
}

package rat4j.model;

/**
 * Positional encodings, under the reference's names. RoPE rotates attention's q/k by token position; inter-chunk RoPE
 * rotates RAT's q/k by chunk index; the hybrid uses both (each layer kind takes its own); NONE adds nothing.
 */
public enum PositionEncoding {
    NONE("empty"),
    ROPE("rope"),
    INTERROPE("interrope"),
    ROPE_INTERROPE("rope_interrope");

    public final String refName;

    PositionEncoding(String refName) { this.refName = refName; }

    public static PositionEncoding fromRefName(String name) {
        for (PositionEncoding p : values()) if (p.refName.equals(name)) return p;
        throw new IllegalArgumentException("unknown positional encoding '" + name + "' (expected empty, rope, interrope or rope_interrope)");
    }

    public boolean hasRope() { return this == ROPE || this == ROPE_INTERROPE; }

    public boolean hasInterRope() { return this == INTERROPE || this == ROPE_INTERROPE; }
}

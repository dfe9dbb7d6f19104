package rat4j.model;

/** The sequence layers of the RAT paper's model zoo, under the reference's registry names. */
public enum LayerKind {
    RAT("rat"),
    ATTENTION("attention"),
    LOCAL_ATTENTION("local_attention"),
    RNN("rnn");

    public final String refName;

    LayerKind(String refName) { this.refName = refName; }

    public static LayerKind fromRefName(String name) {
        for (LayerKind k : values()) if (k.refName.equals(name)) return k;
        throw new IllegalArgumentException("unknown sequence layer '" + name + "' (expected rat, attention, local_attention or rnn)");
    }
}

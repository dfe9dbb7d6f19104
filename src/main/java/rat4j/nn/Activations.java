package rat4j.nn;

/** Scalar activation functions shared by the layers (the vectorised ones live in kernel.Elementwise). */
public final class Activations {
    private Activations() {}

    public static float sigmoid(float x) {
        return (float) (1.0 / (1.0 + Math.exp(-x)));
    }
}

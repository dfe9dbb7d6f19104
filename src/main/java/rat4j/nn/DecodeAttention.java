package rat4j.nn;

/**
 * One query against a short list of cached keys, for decoding: softmax(q . k_j * scale) weighted sum of v_j over the
 * cached rows of one (sequence, head), plus optionally one extra "own" key/value (RAT's running state).
 */
final class DecodeAttention {
    private DecodeAttention() {}

    /**
     * @param keys   cached keys, row j at keys[kOff + j * D]
     * @param values cached values, row j at values[vOff + j * D]
     * @param rows   which cached rows to use: slots[0..count) (null: rows 0..count-1)
     * @param ownK   extra key (D) at ownOff, or null
     * @param out    (D) at outOff, overwritten
     */
    static void attend(float[] q, int qOff, float[] keys, int kOff, float[] values, int vOff, int[] slots, int count,
                       float[] ownK, float[] ownV, int ownOff, int d, float scale, float[] out, int outOff, float[] scratch) {
        int total = count + (ownK != null ? 1 : 0);
        float max = Float.NEGATIVE_INFINITY;
        for (int j = 0; j < total; j++) {
            float[] ka = j < count ? keys : ownK;
            int ko = j < count ? kOff + (slots == null ? j : slots[j]) * d : ownOff;
            float s = 0;
            for (int i = 0; i < d; i++) s += q[qOff + i] * ka[ko + i];
            s *= scale;
            scratch[j] = s;
            max = Math.max(max, s);
        }
        double sum = 0;
        for (int j = 0; j < total; j++) {
            float p = (float) Math.exp(scratch[j] - max);
            scratch[j] = p;
            sum += p;
        }
        float inv = (float) (1.0 / sum);
        java.util.Arrays.fill(out, outOff, outOff + d, 0f);
        for (int j = 0; j < total; j++) {
            float[] va = j < count ? values : ownV;
            int vo = j < count ? vOff + (slots == null ? j : slots[j]) * d : ownOff;
            float p = scratch[j] * inv;
            for (int i = 0; i < d; i++) out[outOff + i] += p * va[vo + i];
        }
    }
}

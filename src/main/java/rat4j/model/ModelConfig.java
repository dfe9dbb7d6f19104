package rat4j.model;

/**
 * A language model's shape: token embedding, a stack of (sequence layer, FFN) blocks, final RMSNorm, LM head.
 * Immutable and validated on construction; change it with the withX copies.
 *
 * @param seqCell        the sequence layer of every block ("sequence" backbone), or of blocks i % interleaveStep != 0
 * @param seqCell1       null for the plain backbone; the layer of blocks i % interleaveStep == 0 in the hybrid
 * @param interleaveStep the hybrid's period (the reference's `interleave_step`); ignored when seqCell1 is null
 * @param dFfn           the FFN's hidden width (fc1 rows)
 */
public record ModelConfig(int vocabSize, int dModel, int numLayers, int dFfn,
                          LayerSpec seqCell, LayerSpec seqCell1, int interleaveStep,
                          PositionEncoding pe, double ropeBase, boolean tieEmbedding) {

    public ModelConfig {
        if (vocabSize < 1) throw new IllegalArgumentException("vocab_size must be >= 1, got " + vocabSize);
        if (dModel < 1) throw new IllegalArgumentException("d_model must be >= 1, got " + dModel);
        if (numLayers < 1) throw new IllegalArgumentException("num_layers must be >= 1, got " + numLayers);
        if (dFfn < 1) throw new IllegalArgumentException("d_ffn must be >= 1, got " + dFfn);
        if (seqCell == null) throw new IllegalArgumentException("seq_cell is missing");
        seqCell.validate(dModel, "seq_cell");
        if (seqCell1 != null) {
            seqCell1.validate(dModel, "seq_cell1");
            if (interleaveStep < 1) throw new IllegalArgumentException("interleave_step must be >= 1, got " + interleaveStep);
        }
        if (pe == null) throw new IllegalArgumentException("pe is missing");
        if (!(ropeBase > 0)) throw new IllegalArgumentException("rope_base must be > 0, got " + ropeBase);
        for (int i = 0; i < numLayers; i++) {
            LayerSpec s = (seqCell1 != null && i % interleaveStep == 0) ? seqCell1 : seqCell;
            boolean needsRope = s.kind() == LayerKind.ATTENTION || s.kind() == LayerKind.LOCAL_ATTENTION;
            if (needsRope && !pe.hasRope()) {
                throw new IllegalArgumentException("pe '" + pe.refName + "' gives no RoPE, which layer " + i + " (" + s.kind().refName + ") needs");
            }
            if (s.kind() == LayerKind.RAT && !pe.hasInterRope()) {
                throw new IllegalArgumentException("pe '" + pe.refName + "' gives no inter-chunk RoPE, which layer " + i + " (rat) needs");
            }
        }
    }

    /** The sequence layer of block i, by the reference's rule. */
    public LayerSpec layer(int i) {
        return (seqCell1 != null && i % interleaveStep == 0) ? seqCell1 : seqCell;
    }

    /** The reference's cache slot of block i: layer ids count per cell type. */
    public int layerId(int i) {
        if (seqCell1 == null) return i;
        int id = 0;
        boolean one = i % interleaveStep == 0;
        for (int j = 0; j < i; j++) if ((j % interleaveStep == 0) == one) id++;
        return id;
    }

    public boolean interleaved() { return seqCell1 != null; }

    public ModelConfig withVocabSize(int v) { return new ModelConfig(v, dModel, numLayers, dFfn, seqCell, seqCell1, interleaveStep, pe, ropeBase, tieEmbedding); }

    public ModelConfig withNumLayers(int n) { return new ModelConfig(vocabSize, dModel, n, dFfn, seqCell, seqCell1, interleaveStep, pe, ropeBase, tieEmbedding); }

    public ModelConfig withSeqCell(LayerSpec s) { return new ModelConfig(vocabSize, dModel, numLayers, dFfn, s, seqCell1, interleaveStep, pe, ropeBase, tieEmbedding); }
}

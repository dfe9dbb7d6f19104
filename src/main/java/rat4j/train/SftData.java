package rat4j.train;

import rat4j.tokenizer.Tokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import rat4j.model.LanguageModel;
import rat4j.model.io.FormatException;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Supervised fine-tuning rows from {"prompt": ..., "response": ...} lines, built as the reference's tokenize/sft.py
 * (tokenize_answer_only) builds them: with P the prompt's ids and R the response's,
 * <pre>
 *   input  = P + R + [EOS] * (T - |P| - |R|)
 *   labels = [-100] * (|P| - 1) + R + [EOS] + [-100] * (T - |P| - |R|)
 * </pre>
 * so the loss counts only the response and the EOS after it (labels are already the next tokens: the last prompt
 * token's label is R[0]). A pair of T tokens or more keeps its first (T - 1) / 2 and last T - 1 - (T - 1) / 2 tokens
 * (the reference cuts the middle), which makes room for the EOS. Rows are (R, T); training draws rows uniformly with
 * replacement (sft_random), validation reads them in order (sft_ordered).
 */
public final class SftData implements Rows {
    private final int[] inputs, labels;  // (R, T) each
    private final int rows, seqLen;

    private SftData(int[] inputs, int[] labels, int rows, int seqLen) {
        this.inputs = inputs;
        this.labels = labels;
        this.rows = rows;
        this.seqLen = seqLen;
    }

    /** A prompt/response pair. */
    public record Pair(String prompt, String response) {}

    /** Reads the pairs of a JSONL file; blank lines are skipped, other keys on a line are ignored. */
    public static List<Pair> readPairs(Path file) throws IOException {
        List<Pair> pairs = new ArrayList<>();
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line;
            int no = 0;
            while ((line = r.readLine()) != null) {
                no++;
                if (line.isBlank()) continue;
                try {
                    JsonNode n = Json.parseObject(line);
                    pairs.add(new Pair(Json.text(n, "prompt"), Json.text(n, "response")));
                } catch (IllegalArgumentException e) {
                    throw new FormatException(file + ":" + no + ": " + e.getMessage() + " (each line must be {\"prompt\": \"...\", \"response\": \"...\"})");
                }
            }
        } catch (CharacterCodingException e) {
            throw new FormatException(file + ": not UTF-8 text");
        }
        if (pairs.isEmpty()) throw new FormatException(file + ": no prompt/response pairs");
        return pairs;
    }

    /** Rows of length {@code seqLen} for {@code pairs}, in the given order. */
    public static SftData build(List<Pair> pairs, Tokenizer enc, int seqLen) {
        if (seqLen < 3) throw new IllegalArgumentException("SFT rows need T >= 3 (prompt, response, EOS), got " + seqLen);
        int n = pairs.size();
        int[] inputs = new int[Math.multiplyExact(n, seqLen)], labels = new int[Math.multiplyExact(n, seqLen)];
        for (int r = 0; r < n; r++) {
            Pair p = pairs.get(r);
            int[] prompt = enc.encode(p.prompt()), response = enc.encode(p.response());
            if (prompt.length == 0) {
                throw new IllegalArgumentException("pair " + (r + 1) + " has an empty prompt; the first response token needs a prompt token before it");
            }
            row(prompt, response, enc.eosId(), seqLen, inputs, labels, r * seqLen);
        }
        return new SftData(inputs, labels, n, seqLen);
    }

    /** Writes one row at {@code off}; see the class comment. */
    static void row(int[] prompt, int[] response, int eos, int seqLen, int[] inputs, int[] labels, int off) {
        int len = prompt.length + response.length;
        int[] ids = new int[len];
        System.arraycopy(prompt, 0, ids, 0, prompt.length);
        System.arraycopy(response, 0, ids, prompt.length, response.length);
        int[] lab = new int[len - 1];  // labels before the EOS: -100 under the prompt, then the response
        Arrays.fill(lab, 0, prompt.length - 1, LanguageModel.IGNORE_INDEX);
        System.arraycopy(response, 0, lab, prompt.length - 1, response.length);
        if (len >= seqLen) {
            int half = (seqLen - 1) / 2, second = seqLen - 1 - half;
            int[] cutIds = new int[seqLen - 1], cutLab = new int[seqLen - 2];
            System.arraycopy(ids, 0, cutIds, 0, half);
            System.arraycopy(ids, len - second, cutIds, half, second);
            System.arraycopy(lab, 0, cutLab, 0, half);
            System.arraycopy(lab, lab.length - (second - 1), cutLab, half, second - 1);
            ids = cutIds;
            lab = cutLab;
            len = ids.length;
        }
        System.arraycopy(ids, 0, inputs, off, len);
        Arrays.fill(inputs, off + len, off + seqLen, eos);
        System.arraycopy(lab, 0, labels, off, len - 1);
        labels[off + len - 1] = eos;
        Arrays.fill(labels, off + len, off + seqLen, LanguageModel.IGNORE_INDEX);
    }

    @Override public long count() { return rows; }

    @Override public int seqLen() { return seqLen; }

    @Override public void fill(long row, int[] tokens, int[] labels, int off) {
        int from = Math.multiplyExact((int) row, seqLen);
        System.arraycopy(inputs, from, tokens, off, seqLen);
        System.arraycopy(this.labels, from, labels, off, seqLen);
    }

    /** Optimizer steps in one epoch: rows // (B x A), as the reference's sft_random with drop_last. */
    public long stepsPerEpoch(int batch, int accumulation) {
        return rows / ((long) batch * accumulation);
    }

    /** Training batches: B rows drawn uniformly with replacement per micro-batch. */
    public BatchSource randomBatches(int batch, long seed) {
        return new BatchSource() {
            private SplitMix64 rng = new SplitMix64(seed);
            private long position;

            @Override public void next(int[] tokens, int[] labels) {
                for (int b = 0; b < batch; b++) fill(rng.nextInt(rows), tokens, labels, b * seqLen);
                position++;
            }

            @Override public long position() { return position; }

            @Override public long rngState() { return rng.state(); }

            @Override public void seek(long position, long rngState) {
                this.position = position;
                this.rng = new SplitMix64(rngState);
            }
        };
    }
}

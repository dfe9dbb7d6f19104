package rat4j.generate;

import rat4j.model.LanguageModel;

import java.util.SplittableRandom;

/**
 * Decoding speed of a batch of sequences at a given context length, beside the memory-bandwidth bound. One random
 * prompt of {@code context} tokens is prefilled (the parallel forward) and forked into every sequence of the batch,
 * then every sequence decodes {@code steps} tokens (greedy) together.
 */
public final class DecodeBench {
    private DecodeBench() {}

    /** Steps run before timing, so the JIT has compiled the decode path. */
    public static final int WARMUP_STEPS = 16;

    /**
     * @param weightBytes        bytes of weights one step reads (all sequences share them)
     * @param cacheBytesPerStep  bytes of cache one step reads, all sequences together, at the middle timed step
     * @param cacheBytesPerSeq   bytes a sequence's cache holds at exactly {@code context} tokens
     * @param cacheBytesHeld     bytes of all caches as allocated (context + steps tokens per sequence)
     */
    public record Result(int batch, int context, int steps, long prefillNanos, long decodeNanos, long weightBytes,
                         long cacheBytesPerStep, long cacheBytesPerSeq, long cacheBytesHeld) {
        public double tokensPerSecond() { return (double) batch * steps * 1e9 / decodeNanos; }

        public long bytesPerStep() { return weightBytes + cacheBytesPerStep; }

        /** Tokens/s if a step took exactly its bytes over the bandwidth (bytes/s). */
        public double boundTokensPerSecond(double bandwidth) { return batch * bandwidth / bytesPerStep(); }

        /** The line the decode bench prints: tokens/s beside the bound at STREAM's bandwidth and at reads alone. */
        public String summary(MemoryBandwidth.Result bw) {
            double bound = boundTokensPerSecond(bw.best()), readBound = boundTokensPerSecond(bw.read());
            return String.format("decode %.1f tokens/s (batch %d x %.2f) at context %d; per step %s (weights %s + cache %s);"
                            + " bound %.1f tokens/s at %.1f GB/s: %.0f%% of it (%.0f%% of %.1f tokens/s at the %.1f GB/s of reads alone);"
                            + " cache %s per sequence at %d tokens, %s held; prefill of %d tokens %.1f s",
                    tokensPerSecond(), batch, tokensPerSecond() / batch, context, Bytes.format(bytesPerStep()), Bytes.format(weightBytes),
                    Bytes.format(cacheBytesPerStep), bound, bw.best() / 1e9, 100 * tokensPerSecond() / bound,
                    100 * tokensPerSecond() / readBound, readBound, bw.read() / 1e9,
                    Bytes.format(cacheBytesPerSeq), context, Bytes.format(cacheBytesHeld), context, prefillNanos / 1e9);
        }
    }

    public static Result run(LanguageModel model, int batch, int context, int steps, long seed) {
        if (batch < 1 || context < 1 || steps < 1) {
            throw new IllegalArgumentException("batch, context and steps must be >= 1, got " + batch + ", " + context + ", " + steps);
        }
        int v = model.config().vocabSize();
        int maxLen = Math.addExact(context, steps + WARMUP_STEPS);
        LanguageModel.DecodeState state = model.newDecodeState(batch, maxLen);
        SplittableRandom rng = new SplittableRandom(seed);
        int[] prompt = new int[context];
        for (int i = 0; i < context; i++) prompt[i] = rng.nextInt(v);
        long t0 = System.nanoTime();
        float[] first = model.prefill(state, new int[] {0}, new int[][] {prompt});
        long prefill = System.nanoTime() - t0;
        for (int b = 1; b < batch; b++) state.copySequence(0, b);
        int[] slots = new int[batch], next = new int[batch];
        for (int b = 0; b < batch; b++) {
            slots[b] = b;
            next[b] = Sampler.argmax(first, 0, v);
        }
        for (int s = 0; s < WARMUP_STEPS; s++) feed(model.step(state, batch, slots, next), next, batch, v);
        long t1 = System.nanoTime();
        for (int s = 0; s < steps; s++) feed(model.step(state, batch, slots, next), next, batch, v);
        long decode = System.nanoTime() - t1;
        long cachePerStep = batch * model.stepCacheBytes(context + WARMUP_STEPS + steps / 2);
        return new Result(batch, context, steps, prefill, decode, model.stepWeightBytes(), cachePerStep,
                model.stepCacheBytes(context - 1), state.cacheBytes());
    }

    private static void feed(float[] logits, int[] next, int batch, int v) {
        for (int b = 0; b < batch; b++) next[b] = Sampler.argmax(logits, b * v, v);
    }
}

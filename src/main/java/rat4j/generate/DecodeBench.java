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

    /**
     * A batch of sequences prefilled to {@code context} tokens and warmed up, ready to time segments of decode steps;
     * several sessions (models) can alternate segments, so that their speeds are compared under the same machine
     * conditions.
     */
    public static final class Session {
        private final LanguageModel model;
        private final LanguageModel.DecodeState state;
        private final int batch, context, vocab;
        private final int[] slots, next;
        private final long prefillNanos;
        private int position; // tokens in each sequence's cache

        /** Prefills one random prompt of context tokens, forks it into all batch sequences, runs the warm-up steps; room for maxSteps more. */
        public static Session start(LanguageModel model, int batch, int context, int maxSteps, long seed) {
            if (batch < 1 || context < 1 || maxSteps < 1) {
                throw new IllegalArgumentException("batch, context and steps must be >= 1, got " + batch + ", " + context + ", " + maxSteps);
            }
            return new Session(model, batch, context, maxSteps, seed);
        }

        private Session(LanguageModel model, int batch, int context, int maxSteps, long seed) {
            this.model = model;
            this.batch = batch;
            this.context = context;
            this.vocab = model.config().vocabSize();
            model.prepareDecoding();
            state = model.newDecodeState(batch, Math.addExact(context, maxSteps + WARMUP_STEPS));
            SplittableRandom rng = new SplittableRandom(seed);
            int[] prompt = new int[context];
            for (int i = 0; i < context; i++) prompt[i] = rng.nextInt(vocab);
            long t0 = System.nanoTime();
            float[] first = model.prefill(state, new int[] {0}, new int[][] {prompt});
            prefillNanos = System.nanoTime() - t0;
            for (int b = 1; b < batch; b++) state.copySequence(0, b);
            slots = new int[batch];
            next = new int[batch];
            for (int b = 0; b < batch; b++) {
                slots[b] = b;
                next[b] = Sampler.argmax(first, 0, vocab);
            }
            position = context;
            for (int s = 0; s < WARMUP_STEPS; s++) step();
        }

        private void step() {
            float[] logits = model.step(state, batch, slots, next);
            for (int b = 0; b < batch; b++) next[b] = Sampler.argmax(logits, b * vocab, vocab);
            position++;
        }

        /** Runs and times steps decode steps (greedy, every sequence one token per step). */
        public Result time(int steps) {
            if (steps < 1) throw new IllegalArgumentException("steps must be >= 1, got " + steps);
            int middle = position + steps / 2;
            long t0 = System.nanoTime();
            for (int s = 0; s < steps; s++) step();
            long nanos = System.nanoTime() - t0;
            return new Result(batch, context, steps, prefillNanos, nanos, model.stepWeightBytes(), batch * model.stepCacheBytes(middle),
                    model.stepCacheBytes(context - 1), state.cacheBytes());
        }
    }

}

package rat4j.generate;

import rat4j.model.LanguageModel;
import rat4j.tokenizer.Tokenizer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Text generation: several prompts at once, each with its own cache slot, position, sampler and stopping rule.
 * The prompts (of any lengths) are prefilled with the parallel forward, then all unfinished sequences decode one
 * token per step together; a sequence that finishes leaves the batch. Greedy decoding of a batch gives the tokens
 * that decoding each prompt alone gives.
 */
public final class Generator {
    private final LanguageModel model;
    private final Tokenizer tokenizer;

    public Generator(LanguageModel model, Tokenizer tokenizer) {
        if (tokenizer.vocabSize() > model.config().vocabSize()) {
            throw new IllegalArgumentException("the tokenizer's " + tokenizer.vocabSize() + " tokens do not fit the model's vocabulary of "
                    + model.config().vocabSize());
        }
        this.model = model;
        this.tokenizer = tokenizer;
        model.prepareDecoding();
    }

    /**
     * @param maxNewTokens at most this many tokens per sequence (EOS included)
     * @param stops        stop strings: generation ends before the first occurrence of any, which is cut from the text
     * @param addBos       put the tokenizer's BOS before each text prompt (when it has one)
     * @param stopAtEos    end a sequence at the tokenizer's EOS
     */
    public record Options(int maxNewTokens, Sampling sampling, List<String> stops, boolean addBos, boolean stopAtEos) {
        public Options {
            if (maxNewTokens < 1) throw new IllegalArgumentException("max new tokens must be >= 1, got " + maxNewTokens);
            stops = List.copyOf(stops);
            new StopStrings(stops); // validates
        }

        public static Options of(int maxNewTokens, Sampling sampling) {
            return new Options(maxNewTokens, sampling, List.of(), true, true);
        }

        public Options withStops(List<String> s) { return new Options(maxNewTokens, sampling, s, addBos, stopAtEos); }
    }

    /** Why a sequence ended. */
    public enum Finish { EOS, STOP, LENGTH }

    /** One sequence's outcome: its prompt ids, the generated ids (EOS and tokens of a stop string included), the text. */
    public record Completion(int[] prompt, int[] tokens, String text, Finish finish) {}

    /**
     * @param decodeTokens tokens produced by decode steps (the first token of each sequence comes from the prefill)
     * @param cacheBytes   bytes of the caches of all sequences (keys, values, states)
     */
    public record Stats(long promptTokens, long generatedTokens, long decodeTokens, long prefillNanos, long decodeNanos, long cacheBytes) {
        public double prefillTokensPerSecond() { return promptTokens * 1e9 / Math.max(1, prefillNanos); }

        public double decodeTokensPerSecond() { return decodeTokens * 1e9 / Math.max(1, decodeNanos); }

        /** The one-line summary. */
        public String summary() {
            return String.format("prompt tokens %d, generated tokens %d, prefill %.1f tokens/s, decode %.1f tokens/s, cache %s",
                    promptTokens, generatedTokens, prefillTokensPerSecond(), decodeTokensPerSecond(), Bytes.format(cacheBytes));
        }
    }

    public record Result(List<Completion> completions, Stats stats) {}

    /** Receives text as it becomes final, and each completion when its sequence ends. */
    public interface Listener {
        default void text(int sequence, String delta) {}

        default void finished(int sequence, Completion completion) {}
    }

    /** Generates from text prompts (BOS put before each when the options say so). */
    public Result generate(List<String> prompts, Options options, Listener listener) {
        List<int[]> ids = new ArrayList<>(prompts.size());
        for (String p : prompts) {
            int[] t = tokenizer.encode(p);
            if (options.addBos() && tokenizer.bosId() >= 0) {
                int[] withBos = new int[t.length + 1];
                withBos[0] = tokenizer.bosId();
                System.arraycopy(t, 0, withBos, 1, t.length);
                t = withBos;
            }
            if (t.length == 0) throw new IllegalArgumentException("prompt " + ids.size() + " is empty and the tokenizer has no BOS to start from");
            ids.add(t);
        }
        return generateIds(ids, options, listener);
    }

    /** Generates from prompts given as token ids (used as they are). */
    public Result generateIds(List<int[]> prompts, Options options, Listener listener) {
        int b = prompts.size(), v = model.config().vocabSize();
        if (b == 0) throw new IllegalArgumentException("no prompt to generate from");
        int maxLen = 0;
        for (int[] p : prompts) maxLen = Math.max(maxLen, Math.addExact(p.length, options.maxNewTokens()));
        StopStrings stops = new StopStrings(options.stops());
        Sequence[] seqs = new Sequence[b];
        int[] slots = new int[b], next = new int[b];
        int[][] promptArray = new int[b][];
        long promptTokens = 0;
        for (int i = 0; i < b; i++) {
            promptArray[i] = prompts.get(i).clone();
            // the model's vocabulary may be padded beyond the tokenizer's: only tokens the tokenizer knows are drawn
            seqs[i] = new Sequence(i, promptArray[i], new Sampler(options.sampling(), tokenizer.vocabSize(), options.sampling().seed() + i));
            slots[i] = i;
            promptTokens += promptArray[i].length;
        }
        LanguageModel.DecodeState state = model.newDecodeState(b, maxLen);

        long t0 = System.nanoTime();
        float[] logits = model.prefill(state, slots, promptArray);
        long t1 = System.nanoTime();
        for (int i = 0; i < b; i++) seqs[i].choose(logits, i * v, options, stops, listener);

        long decodeTokens = 0;
        while (true) {
            int n = 0;
            for (Sequence s : seqs) {
                if (s.finish != null) continue;
                slots[n] = s.index;
                next[n++] = s.last();
            }
            if (n == 0) break;
            logits = model.step(state, n, slots, next);
            for (int r = 0; r < n; r++) seqs[slots[r]].choose(logits, r * v, options, stops, listener);
            decodeTokens += n;
        }
        long t2 = System.nanoTime();

        List<Completion> out = new ArrayList<>(b);
        long generated = 0;
        for (Sequence s : seqs) {
            out.add(s.completion);
            generated += s.completion.tokens().length;
        }
        return new Result(out, new Stats(promptTokens, generated, decodeTokens, t1 - t0, t2 - t1, state.cacheBytes()));
    }

    /**
     * One sequence's generation: its tokens, sampler, and its text, detokenized incrementally: each step decodes only a
     * short window of ids (as vLLM's detokenizer does), so a long generation costs O(n), not O(n^2) decodes of the
     * whole text. The ids are the prompt's last token (the anchor, so a token's leading space is kept as it reads after
     * the prompt; SentencePiece drops it at the start of a decode) followed by the generated tokens; the window
     * ids[prefixOffset, end) is decoded and what it adds after ids[prefixOffset, readOffset) becomes text once it no
     * longer ends in an incomplete UTF-8 character (U+FFFD); the window then slides to [readOffset, end).
     */
    private final class Sequence {
        final int index;
        final int[] prompt;
        final Sampler sampler;
        int[] ids = new int[16];     // (1 + count) the anchor, then the generated tokens
        int count;                   // generated tokens
        int prefixOffset, readOffset = 1;
        String prefixText;           // decode of ids[prefixOffset, readOffset)
        final StringBuilder text = new StringBuilder(); // the text of ids[1, readOffset) and, while a step runs, its pending tail
        int emitted;                 // characters of text handed to the listener
        Finish finish;
        Completion completion;

        Sequence(int index, int[] prompt, Sampler sampler) {
            this.index = index;
            this.prompt = prompt;
            this.sampler = sampler;
            ids[0] = prompt[prompt.length - 1];
            prefixText = tokenizer.decode(new int[] {ids[0]});
        }

        int last() { return ids[count]; }

        void choose(float[] logits, int off, Options options, StopStrings stops, Listener listener) {
            int t = sampler.next(logits, off);
            sampler.accept(t);
            if (count + 1 == ids.length) ids = Arrays.copyOf(ids, ids.length * 2);
            ids[++count] = t;
            boolean eos = options.stopAtEos() && t == tokenizer.eosId();
            int committed = text.length();
            String pending = detokenize();
            text.append(pending); // the tail that may still change; taken back below unless the sequence ends
            int cut = stops.find(text, committed);
            if (cut >= 0) {
                text.setLength(cut);
                finish = Finish.STOP;
            } else if (eos) {
                finish = Finish.EOS;
            } else if (count >= options.maxNewTokens()) {
                finish = Finish.LENGTH;
            }
            int stable = text.length();
            if (finish == null) {
                // hold back a possibly incomplete UTF-8 character (decoded as U+FFFD) and a possible stop string's start
                while (stable > emitted && text.charAt(stable - 1) == '\uFFFD' && text.length() - stable < 3) stable--;
                stable = Math.min(stable, text.length() - stops.holdBack(text));
            }
            if (stable > emitted) {
                listener.text(index, text.substring(emitted, stable));
                emitted = stable;
            }
            if (finish != null) {
                completion = new Completion(prompt, Arrays.copyOfRange(ids, 1, count + 1), text.toString(), finish);
                listener.finished(index, completion);
            } else {
                text.setLength(text.length() - pending.length());
            }
        }

        /**
         * Decodes the window after the newest token: appends to text what has become final and returns the pending
         * tail (text that ends in U+FFFD, which the next token may complete), "" when there is none.
         */
        private String detokenize() {
            int end = count + 1;
            String window = tokenizer.decode(Arrays.copyOfRange(ids, prefixOffset, end));
            String added = window.length() > prefixText.length() ? window.substring(prefixText.length()) : "";
            if (added.isEmpty() || added.charAt(added.length() - 1) == '\uFFFD') return added;
            text.append(added);
            prefixText = tokenizer.decode(Arrays.copyOfRange(ids, readOffset, end));
            prefixOffset = readOffset;
            readOffset = end;
            return "";
        }
    }
}

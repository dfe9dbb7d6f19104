package rat4j.tokenizer;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.io.IOException;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * Llama 2 encode and decode of a 4 MB document on one thread (one op = the whole document; MB/s = 4 / (ms/op) * 1000).
 * "english": words, punctuation, digits and newlines; "mixed": a third of the words CJK, emoji, Cyrillic or
 * accented (many byte-fallback tokens); "oneline": English without a newline or tab (one run for the merges).
 * <pre>
 * mvn -q -o test-compile dependency:build-classpath -Dmdep.outputFile=target/cp.txt -Dmdep.includeScope=test
 * java -cp target/test-classes:target/classes:$(cat target/cp.txt) org.openjdk.jmh.Main TokenizerBench
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class TokenizerBench {
    @Param({"english", "mixed", "oneline"})
    String text;

    SentencePieceTokenizer tok;
    String doc;
    int[] ids;

    static String document(String kind, int bytes) {
        String[] english = {"the", "of", "and", "a", "to", "in", "is", "was", "language", "model", "recurrence", "attention",
                "tokenizer", "Llama", "however", "between", "1984", "3.14", "(", ")", ",", ".", ";", "\"", "isn't", "re-use"};
        String[] other = {"東京", "中文分词", "🚀", "😀👍🏽", "Русский", "über", "naïve", "한국어", "ελληνικά", "हिन्दी"};
        SplittableRandom r = new SplittableRandom(1);
        StringBuilder sb = new StringBuilder();
        int size = 0, words = 0;
        while (size < bytes) {
            String w = kind.equals("mixed") && r.nextInt(3) == 0 ? other[r.nextInt(other.length)] : english[r.nextInt(english.length)];
            sb.append(w);
            size += Utf8.encode(w).length + 1;
            boolean newline = !kind.equals("oneline") && ++words % 15 == 0;
            sb.append(newline ? '\n' : ' ');
        }
        return sb.toString();
    }

    @Setup public void setUp() throws IOException {
        tok = Llama2.tokenizer();
        doc = document(text, 4_000_000);
        ids = tok.encode(doc);
    }

    @Benchmark public int[] encode() { return tok.encode(doc); }

    @Benchmark public String decode() { return tok.decode(ids); }
}

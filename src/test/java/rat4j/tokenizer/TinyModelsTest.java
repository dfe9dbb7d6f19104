package rat4j.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Parity with SentencePiece on the small models regenerate.sh trains: the paths Llama 2's model does not take
 * (normalization rules, whitespace removal, a denormalizer, user-defined and control symbols, no byte fallback, no
 * dummy prefix, whitespace as suffix, UNUSED pieces).
 */
class TinyModelsTest {
    static SentencePieceModel model(String name) throws IOException {
        try (InputStream in = TinyModelsTest.class.getResourceAsStream(name)) {
            if (in == null) throw new IllegalStateException("test resource rat4j/tokenizer/" + name + " is missing");
            return SentencePieceModel.parse(in.readAllBytes());
        }
    }

    static JsonNode fixture() throws IOException {
        try (InputStream in = TinyModelsTest.class.getResourceAsStream("tiny-cases.json")) {
            return new ObjectMapper().readTree(in).get("models");
        }
    }

    @Test void everyTinyModelEncodesAndDecodesLikeSentencePiece() throws IOException {
        int models = 0, checked = 0;
        StringBuilder report = new StringBuilder();
        for (Map.Entry<String, JsonNode> m : fixture().properties()) {
            SentencePieceTokenizer tok = new SentencePieceTokenizer(model(m.getKey()), m.getKey());
            for (JsonNode c : m.getValue().get("encode")) {
                String text = c.get("text").textValue();
                int[] want = Llama2.ints(c.get("ids")), got = tok.encode(text);
                if (!Arrays.equals(want, got)) {
                    report.append("\n").append(m.getKey()).append(" encode ").append(SentencePieceTokenizerTest.escape(text))
                            .append("\n  want ").append(Arrays.toString(want)).append("\n  got  ").append(Arrays.toString(got));
                }
                checked++;
            }
            for (JsonNode c : m.getValue().get("decode")) {
                int[] ids = Llama2.ints(c.get("ids"));
                String want = c.get("text").textValue(), got = tok.decode(ids);
                if (!want.equals(got)) {
                    report.append("\n").append(m.getKey()).append(" decode ").append(Arrays.toString(ids))
                            .append("\n  want ").append(SentencePieceTokenizerTest.escape(want)).append("\n  got  ").append(SentencePieceTokenizerTest.escape(got));
                }
                checked++;
            }
            models++;
        }
        assertEquals(4, models);
        assertTrue(checked > 400, "cases: " + checked);
        assertEquals("", report.length() > 4000 ? report.substring(0, 4000) : report.toString());
    }

    @Test void heapEncoderMatchesTheNaiveReferenceOnTheTinyModels() throws IOException {
        int checked = 0;
        for (Map.Entry<String, JsonNode> m : fixture().properties()) {
            SentencePieceModel model = model(m.getKey());
            if (model.pieces().stream().anyMatch(p -> p.type() == SentencePieceModel.Type.UNUSED)) continue;
            SentencePieceTokenizer tok = new SentencePieceTokenizer(model, m.getKey());
            NaiveBpe naive = new NaiveBpe(model);
            for (JsonNode c : m.getValue().get("encode")) {
                String text = c.get("text").textValue();
                Normalizer.Bytes norm = tok.normalize(text);
                assertArrayEquals(naive.encode(Utf8.decode(norm.data, 0, norm.length)), tok.encode(text), m.getKey() + " " + text);
                checked++;
            }
        }
        assertTrue(checked > 200, "cases: " + checked);
    }

    @Test void theTinyModelsDeclareWhatTheyCover() throws IOException {
        SentencePieceModel rules = model("tiny-rules.model");
        assertTrue(rules.normalizer().precompiledCharsMap().length > 0);
        assertTrue(rules.normalizer().removeExtraWhitespaces());
        assertTrue(rules.denormalizer() != null && rules.denormalizer().precompiledCharsMap().length > 0);
        assertTrue(!rules.trainer().byteFallback());
        assertTrue(rules.pieces().stream().anyMatch(p -> p.type() == SentencePieceModel.Type.USER_DEFINED));
        assertTrue(rules.pieces().stream().anyMatch(p -> p.type() == SentencePieceModel.Type.CONTROL && p.piece().equals("<ctl>")));
        SentencePieceModel bytes = model("tiny-bytes.model");
        assertTrue(bytes.trainer().byteFallback() && !bytes.normalizer().addDummyPrefix());
        assertTrue(model("tiny-suffix.model").trainer().treatWhitespaceAsSuffix());
        assertEquals(18, model("tiny-unused.model").pieces().stream().filter(p -> p.type() == SentencePieceModel.Type.UNUSED).count());
    }
}

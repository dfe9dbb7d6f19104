package rat4j.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SentencePieceTokenizerTest {
    @Test void encodeMatchesSentencePieceOnTheFixture() throws IOException {
        SentencePieceTokenizer tok = Llama2.tokenizer();
        int n = 0, failures = 0;
        StringBuilder report = new StringBuilder();
        for (JsonNode c : Llama2.cases("llama2-encode.json")) {
            String text = c.get("text").textValue();
            int[] want = Llama2.ints(c.get("ids"));
            int[] got = tok.encode(text);
            if (!Arrays.equals(want, got) && failures++ < 5) {
                report.append("\n").append(escape(text)).append("\n  want ").append(Arrays.toString(want)).append("\n  got  ").append(Arrays.toString(got));
            }
            n++;
        }
        assertTrue(n > 100, "cases: " + n);
        assertEquals(0, failures, failures + " of " + n + " differ:" + report);
    }

    @Test void decodeMatchesSentencePieceOnTheFixture() throws IOException {
        SentencePieceTokenizer tok = Llama2.tokenizer();
        int n = 0, failures = 0;
        StringBuilder report = new StringBuilder();
        for (JsonNode c : Llama2.cases("llama2-decode.json")) {
            int[] ids = Llama2.ints(c.get("ids"));
            String want = c.get("text").textValue(), got = tok.decode(ids);
            if (!want.equals(got) && failures++ < 5) {
                report.append("\n").append(Arrays.toString(ids)).append("\n  want ").append(escape(want)).append("\n  got  ").append(escape(got));
            }
            n++;
        }
        assertTrue(n > 100, "cases: " + n);
        assertEquals(0, failures, failures + " of " + n + " differ:" + report);
    }

    static String escape(String s) {
        StringBuilder sb = new StringBuilder("\"");
        s.codePoints().forEach(cp -> {
            if (cp >= 0x20 && cp < 0x7F) sb.append((char) cp);
            else sb.append(String.format("\\u{%X}", cp));
        });
        return sb.append('"').toString();
    }
}

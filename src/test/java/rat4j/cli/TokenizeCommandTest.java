package rat4j.cli;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TokenizeCommandTest {
    static final Path LLAMA2 = Path.of("data/tokenizers/llama2/tokenizer.model");

    record Result(int rc, String out, String err) {}

    static Result run(String stdin, String... args) {
        InputStream saved = System.in;
        try {
            if (stdin != null) System.setIn(new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)));
            StringWriter out = new StringWriter(), err = new StringWriter();
            int rc = Main.execute(new PrintWriter(out), new PrintWriter(err), false, args);
            return new Result(rc, out.toString(), err.toString());
        } finally {
            System.setIn(saved);
        }
    }

    @Test void byteTokenizerEncodesAndDecodes() {
        Result r = run(null, "tokenize", "--tokenizer", "byte", "hé");
        assertEquals(0, r.rc(), r.err());
        assertEquals("104 195 169" + System.lineSeparator(), r.out());
        r = run("104, 195,169\n257", "tokenize", "--tokenizer", "byte", "--decode");
        assertEquals(0, r.rc(), r.err());
        assertEquals("hé", r.out());
    }

    @Test void llama2FromStandardInput() {
        assertTrue(Files.isRegularFile(LLAMA2) || fetched(), "bin/fetch-tokenizer could not fetch " + LLAMA2);
        Result r = run("Hello world", "tokenize", "--tokenizer", LLAMA2.toString());
        assertEquals(0, r.rc(), r.err());
        assertEquals("15043 3186" + System.lineSeparator(), r.out());
        r = run(null, "tokenize", "--tokenizer", LLAMA2.toString(), "--decode", "1 15043 3186 2");
        assertEquals("Hello world", r.out());
    }

    private static boolean fetched() {
        try {
            return new ProcessBuilder("bin/fetch-tokenizer").inheritIO().start().waitFor() == 0;
        } catch (Exception e) {
            return false;
        }
    }

    @Test void badInputIsOneErrorLine() {
        assertError("token 2 is not an integer id: 'x'", run(null, "tokenize", "--tokenizer", "byte", "--decode", "1 x"));
        assertError("token id 300 at position 0 is outside [0, 258)", run(null, "tokenize", "--tokenizer", "byte", "--decode", "300"));
        Result r = run(null, "tokenize", "--tokenizer", "no/such/tokenizer.model", "hi");
        assertEquals(1, r.rc());
        assertTrue(r.err().startsWith("rat4j: error: no/such/tokenizer.model: no such tokenizer file"), r.err());
        assertEquals(1, r.err().lines().count(), r.err());
        r = run(null, "tokenize", "hi");
        assertEquals(2, r.rc());
        assertTrue(r.err().contains("--tokenizer"), r.err());
    }

    private static void assertError(String message, Result r) {
        assertEquals(1, r.rc(), r.err());
        assertEquals("rat4j: error: " + message + System.lineSeparator(), r.err());
    }
}

package rat4j.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/** Llama 2's tokenizer.model for the tests, fetched once with bin/fetch-tokenizer when missing, and the fixtures. */
final class Llama2 {
    private Llama2() {}

    static final Path MODEL = Path.of("data/tokenizers/llama2/tokenizer.model");
    private static SentencePieceTokenizer tokenizer;
    private static SentencePieceModel model;

    static synchronized Path modelFile() {
        if (!Files.isRegularFile(MODEL)) fetch();
        return MODEL;
    }

    private static void fetch() {
        String hint = "Llama 2's tokenizer is missing at " + MODEL.toAbsolutePath() + " and bin/fetch-tokenizer could not fetch it"
                + " (it needs npm and the npm registry; bin/setup runs it)";
        try {
            Process p = new ProcessBuilder("bin/fetch-tokenizer").redirectErrorStream(true).start();
            String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(300, TimeUnit.SECONDS) || p.exitValue() != 0 || !Files.isRegularFile(MODEL)) {
                throw new IllegalStateException(hint + ": " + log.strip());
            }
        } catch (IOException e) {
            throw new IllegalStateException(hint + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(hint + ": interrupted", e);
        }
    }

    static synchronized SentencePieceModel model() throws IOException {
        if (model == null) model = SentencePieceModel.read(modelFile());
        return model;
    }

    static synchronized SentencePieceTokenizer tokenizer() throws IOException {
        if (tokenizer == null) tokenizer = SentencePieceTokenizer.load(modelFile());
        return tokenizer;
    }

    /** A fixture beside regenerate.sh: its "cases" array. */
    static JsonNode cases(String name) {
        try (InputStream in = Llama2.class.getResourceAsStream(name)) {
            if (in == null) throw new IllegalStateException("test resource rat4j/tokenizer/" + name + " is missing");
            return new ObjectMapper().readTree(in).get("cases");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static int[] ints(JsonNode array) {
        int[] a = new int[array.size()];
        for (int i = 0; i < a.length; i++) a[i] = array.get(i).intValue();
        return a;
    }
}

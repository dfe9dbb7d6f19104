package rat4j.model.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rat4j.model.Initializer;
import rat4j.model.ModelConfig;
import rat4j.model.Presets;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The optional tokenizer of a model directory: "byte" as tokenizer.json, a SentencePiece model as a copy. */
class ModelDirectoryTokenizerTest {
    @TempDir Path dir;

    static final ModelConfig CONFIG = Presets.get("rnn-tiny");

    Path sentencePiece() throws IOException {
        Path p = dir.resolve("sp.model");
        try (InputStream in = getClass().getResourceAsStream("/rat4j/tokenizer/tiny-bytes.model")) {
            Files.write(p, in.readAllBytes());
        }
        return p;
    }

    @Test void aModelWithoutTokenizerLoadsAsBefore() throws IOException {
        Path m = dir.resolve("m");
        ModelDirectory.save(m, CONFIG, Initializer.initialize(CONFIG, 1));
        assertNull(ModelDirectory.tokenizer(m));
        assertEquals(CONFIG, ModelDirectory.load(m).config());
    }

    @Test void tokenizersAreStoredReplacedAndTravelWithSaves() throws IOException {
        Path m = dir.resolve("m");
        float[] p = Initializer.initialize(CONFIG, 1);
        ModelDirectory.save(m, CONFIG, p, "byte");
        assertEquals("byte", ModelDirectory.tokenizer(m));
        assertEquals("{\"type\": \"byte\"}\n", Files.readString(m.resolve(ModelDirectory.TOKENIZER_JSON_FILE)));

        Path sp = sentencePiece();
        ModelDirectory.saveTokenizer(m, sp.toString());
        assertEquals(m.resolve(ModelDirectory.TOKENIZER_MODEL_FILE).toString(), ModelDirectory.tokenizer(m));
        assertArrayEquals(Files.readAllBytes(sp), Files.readAllBytes(m.resolve(ModelDirectory.TOKENIZER_MODEL_FILE)));
        assertFalse(Files.exists(m.resolve(ModelDirectory.TOKENIZER_JSON_FILE)), "one tokenizer at a time");

        // a directory holding a tokenizer is still a model directory that a save may replace
        ModelDirectory.save(m, CONFIG, p, "byte");
        assertEquals("byte", ModelDirectory.tokenizer(m));
        assertFalse(Files.exists(m.resolve(ModelDirectory.TOKENIZER_MODEL_FILE)));
        assertArrayEquals(p, ModelDirectory.load(m).parameters());
        try (var files = Files.list(dir)) {
            assertEquals(2, files.count(), "no temporary files left: " + dir);
        }
    }

    @Test void badTokenizersAreRefusedNamingTheFile() throws IOException {
        Path m = dir.resolve("m");
        ModelDirectory.save(m, CONFIG, Initializer.initialize(CONFIG, 1));
        Files.writeString(m.resolve(ModelDirectory.TOKENIZER_JSON_FILE), "{\"type\": \"wordpiece\"}");
        FormatException e = assertThrows(FormatException.class, () -> ModelDirectory.tokenizer(m));
        assertEquals(m.resolve("tokenizer.json") + ": expected {\"type\": \"byte\"}, got {\"type\":\"wordpiece\"}", e.getMessage());
        Files.writeString(m.resolve(ModelDirectory.TOKENIZER_JSON_FILE), "{");
        assertTrue(assertThrows(FormatException.class, () -> ModelDirectory.tokenizer(m)).getMessage().startsWith(m.resolve("tokenizer.json") + ": not JSON"));
        assertTrue(assertThrows(java.nio.file.NoSuchFileException.class, () -> ModelDirectory.saveTokenizer(m, dir.resolve("none.model").toString()))
                .getMessage().contains("none.model"));
        assertEquals(dir.resolve("x") + ": no config.json (not a model directory?)",
                assertThrows(FormatException.class, () -> ModelDirectory.saveTokenizer(dir.resolve("x"), "byte")).getMessage());
    }
}

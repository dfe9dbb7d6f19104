package rat4j.model.io;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rat4j.model.ModelConfig;
import rat4j.model.Presets;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ConfigJsonTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test void everyPresetAndGoldenConfigRoundTrips() {
        for (String name : Presets.names()) {
            ModelConfig c = Presets.get(name);
            assertEquals(c, ConfigJson.fromJson(ConfigJson.toJson(c)), name);
        }
        for (String c : Goldens.cases()) {
            ModelConfig config = Goldens.oracleConfig(c);
            assertEquals(config, ConfigJson.fromJson(ConfigJson.toJson(config)), c);
        }
    }

    @Test void writesTheDocumentedSchema() throws Exception {
        String text = ConfigJson.toJson(Presets.get("rat_localattention_interleave-xl"));
        assertTrue(text.endsWith("}\n"));
        assertEquals(JSON.readTree("{\"format_version\": 1, \"vocab_size\": 32000, \"d_model\": 2048, \"num_layers\": 24, \"d_ffn\": 8192,"
                + " \"seq_cell\": {\"_name_\": \"local_attention\", \"num_head\": 16, \"window_size\": 1024},"
                + " \"seq_cell1\": {\"_name_\": \"rat\", \"num_head\": 16, \"chunk_size\": 16, \"ngroups\": 2},"
                + " \"interleave_step\": 2, \"pe\": \"rope_interrope\", \"rope_base\": 10000.0, \"tie_embedding\": true}"), JSON.readTree(text));
        assertEquals(JSON.readTree("{\"_name_\": \"rnn\", \"seq_len\": 4096}"), ConfigJson.toTree(Presets.get("rnn-xl")).get("seq_cell"));
        assertEquals(JSON.readTree("{\"_name_\": \"attention\", \"num_head\": 16}"), ConfigJson.toTree(Presets.get("attention-xl")).get("seq_cell"));
    }

    private static String refused(ModelConfig base, Consumer<ObjectNode> edit) {
        ObjectNode n = ConfigJson.toTree(base);
        edit.accept(n);
        return assertThrows(IllegalArgumentException.class, () -> ConfigJson.fromTree(n)).getMessage();
    }

    @Test void refusesUnknownMissingAndBadKeysNamingThem() {
        ModelConfig rat = Presets.get("rat-tiny");
        assertEquals("unknown key 'dropout'", refused(rat, n -> n.put("dropout", 0.1)));
        assertEquals("missing key d_ffn", refused(rat, n -> n.remove("d_ffn")));
        assertEquals("missing keys vocab_size, seq_cell1, tie_embedding", refused(rat, n -> n.remove(List.of("vocab_size", "seq_cell1", "tie_embedding"))));
        assertEquals("unknown key 'seq_cell.window_size' for a rat cell", refused(rat, n -> ((ObjectNode) n.get("seq_cell")).put("window_size", 3)));
        assertEquals("missing key seq_cell.ngroups", refused(rat, n -> ((ObjectNode) n.get("seq_cell")).remove("ngroups")));
        assertEquals("missing key seq_cell._name_", refused(rat, n -> ((ObjectNode) n.get("seq_cell")).remove("_name_")));
        assertTrue(refused(rat, n -> ((ObjectNode) n.get("seq_cell")).put("_name_", "mamba")).startsWith("seq_cell._name_: unknown sequence layer 'mamba'"));
        assertEquals("seq_cell must be an object, got \"rat\"", refused(rat, n -> n.put("seq_cell", "rat")));
        assertEquals("d_model must be an integer, got \"128\"", refused(rat, n -> n.put("d_model", "128")));
        assertEquals("d_model must be an integer, got 127.5", refused(rat, n -> n.put("d_model", 127.5)));
        assertEquals("tie_embedding must be true or false, got 1", refused(rat, n -> n.put("tie_embedding", 1)));
        assertEquals("rope_base must be a number, got \"1e4\"", refused(rat, n -> n.put("rope_base", "1e4")));
        assertTrue(refused(rat, n -> n.put("pe", "alibi")).startsWith("pe: unknown positional encoding 'alibi'"));
        assertEquals("format_version 2 is not one this rat4j reads (1)", refused(rat, n -> n.put("format_version", 2)));
        // ModelConfig's own validation, naming the key.
        assertEquals("seq_cell.num_head must divide d_model 128, got 3", refused(rat, n -> ((ObjectNode) n.get("seq_cell")).put("num_head", 3)));
        assertEquals("seq_cell1.window_size must be >= 1, got 0",
                refused(Presets.get("attention_localattention_interleave-tiny"), n -> n.set("seq_cell1", JSON.createObjectNode()
                        .put("_name_", "local_attention").put("num_head", 4).put("window_size", 0))));
        // Optional format_version, integral floats accepted.
        ObjectNode n = ConfigJson.toTree(rat);
        n.remove("format_version");
        n.put("d_model", 128.0);
        assertEquals(rat, ConfigJson.fromTree(n));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ConfigJson.fromJson("{\"a\": ")).getMessage().startsWith("not valid JSON"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ConfigJson.fromJson("{\"a\": 1, \"a\": 2}")).getMessage().contains("Duplicate field 'a'"));
    }

    @Test void readNamesTheFile(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("config.json");
        Files.writeString(f, "{\"vocab_size\": 5}");
        FormatException e = assertThrows(FormatException.class, () -> ConfigJson.read(f));
        assertEquals(f + ": missing keys d_model, num_layers, d_ffn, seq_cell, seq_cell1, interleave_step, pe, rope_base, tie_embedding", e.getMessage());
        Files.write(f, new byte[] {'{', (byte) 0xff, '}'});
        assertEquals(f + ": not UTF-8 text", assertThrows(FormatException.class, () -> ConfigJson.read(f)).getMessage());
    }
}

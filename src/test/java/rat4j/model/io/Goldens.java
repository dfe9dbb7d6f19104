package rat4j.model.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import rat4j.model.LayerSpec;
import rat4j.model.ModelConfig;
import rat4j.model.PositionEncoding;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** The golden vectors in ../shared/golden (beside the repository): case names, their JSON, their oracle configs. */
public final class Goldens {
    public static final Path DIR = Path.of("../shared/golden");
    private static final ObjectMapper JSON = new ObjectMapper();

    private Goldens() {}

    /** Fails the calling test when the goldens are not beside the repository: parity is never skipped. */
    public static void assumeAvailable() {
        assertTrue(Files.isDirectory(DIR), "no golden vectors at " + DIR.toAbsolutePath() + " (the checkout needs ../shared beside it)");
    }

    /** Every case: a NAME.json with an oracle_config. */
    public static List<String> cases() {
        assumeAvailable();
        try (Stream<Path> s = Files.list(DIR)) {
            List<String> names = s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".json")).sorted()
                    .map(n -> n.substring(0, n.length() - 5)).filter(n -> json(n).has("oracle_config")).toList();
            if (names.isEmpty()) throw new IllegalStateException("no golden cases in " + DIR);
            return names;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static JsonNode json(String name) {
        try {
            return JSON.readTree(DIR.resolve(name + ".json").toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static Path params(String name) { return DIR.resolve(name + ".params.safetensors"); }

    public static Path io(String name) { return DIR.resolve(name + ".io.safetensors"); }

    /** The model the oracle ran, from its own oracle_config (independent of ReferenceConfig's reading). */
    public static ModelConfig oracleConfig(String name) {
        JsonNode o = json(name).get("oracle_config");
        LayerSpec cell = cell(o.get("seq_cell"));
        LayerSpec cell1 = o.get("seq_cell1").isNull() ? null : cell(o.get("seq_cell1"));
        return new ModelConfig(o.get("vocab_size").intValue(), o.get("d_model").intValue(), o.get("num_layers").intValue(),
                o.get("hidden_cell").get("d_ffn").intValue(), cell, cell1, o.get("interleave_step").intValue(),
                PositionEncoding.fromRefName(o.get("pe").textValue()), o.get("rope_base").doubleValue(), o.get("tie_embedding").booleanValue());
    }

    private static LayerSpec cell(JsonNode c) {
        return switch (c.get("_name_").textValue()) {
            case "rat" -> LayerSpec.rat(c.get("num_head").intValue(), c.get("chunk_size").intValue(), c.get("ngroups").intValue());
            case "attention" -> LayerSpec.attention(c.get("num_head").intValue());
            case "local_attention" -> LayerSpec.localAttention(c.get("num_head").intValue(), c.get("window_size").intValue());
            case "rnn" -> LayerSpec.rnn(c.get("seq_len").intValue());
            default -> throw new IllegalArgumentException(c.toString());
        };
    }
}

package rat4j.model.io;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import rat4j.model.LayerKind;
import rat4j.model.LayerSpec;
import rat4j.model.ModelConfig;
import rat4j.model.PositionEncoding;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.nio.charset.CharacterCodingException;

import static rat4j.model.io.JsonFields.bool;
import static rat4j.model.io.JsonFields.intValue;
import static rat4j.model.io.JsonFields.isNull;
import static rat4j.model.io.JsonFields.number;
import static rat4j.model.io.JsonFields.rejectUnknown;
import static rat4j.model.io.JsonFields.requireKeys;
import static rat4j.model.io.JsonFields.text;

/**
 * A model directory's config.json: {@link ModelConfig} in snake_case, cells named as in the reference's registry.
 * <pre>
 * {"format_version": 1, "vocab_size": 32000, "d_model": 2048, "num_layers": 24, "d_ffn": 8192,
 *  "seq_cell": {"_name_": "rat", "num_head": 16, "chunk_size": 16, "ngroups": 2},
 *  "seq_cell1": null, "interleave_step": 2, "pe": "interrope", "rope_base": 10000.0, "tie_embedding": true}
 * </pre>
 * Cells: {"_name_":"attention","num_head"}, {"_name_":"local_attention","num_head","window_size"},
 * {"_name_":"rnn","seq_len"}. Every key but format_version is required; unknown keys are refused.
 */
public final class ConfigJson {
    public static final int FORMAT_VERSION = 1;

    private static final List<String> REQUIRED = List.of("vocab_size", "d_model", "num_layers", "d_ffn", "seq_cell", "seq_cell1",
            "interleave_step", "pe", "rope_base", "tie_embedding");
    private static final Set<String> ALLOWED = union(REQUIRED, "format_version");

    static final ObjectMapper JSON = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS).build();

    private ConfigJson() {}

    public static ObjectNode toTree(ModelConfig c) {
        ObjectNode n = JSON.createObjectNode();
        n.put("format_version", FORMAT_VERSION);
        n.put("vocab_size", c.vocabSize());
        n.put("d_model", c.dModel());
        n.put("num_layers", c.numLayers());
        n.put("d_ffn", c.dFfn());
        n.set("seq_cell", cellTree(c.seqCell()));
        n.set("seq_cell1", c.seqCell1() == null ? JSON.nullNode() : cellTree(c.seqCell1()));
        n.put("interleave_step", c.interleaveStep());
        n.put("pe", c.pe().refName);
        n.put("rope_base", c.ropeBase());
        n.put("tie_embedding", c.tieEmbedding());
        return n;
    }

    /** Pretty-printed config.json text with a final newline. */
    public static String toJson(ModelConfig c) {
        try {
            return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(toTree(c)) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static ObjectNode cellTree(LayerSpec s) {
        ObjectNode n = JSON.createObjectNode();
        n.put("_name_", s.kind().refName);
        switch (s.kind()) {
            case RAT -> {
                n.put("num_head", s.numHead());
                n.put("chunk_size", s.chunkSize());
                n.put("ngroups", s.ngroups());
            }
            case ATTENTION -> n.put("num_head", s.numHead());
            case LOCAL_ATTENTION -> {
                n.put("num_head", s.numHead());
                n.put("window_size", s.windowSize());
            }
            case RNN -> n.put("seq_len", s.gateInitLength());
        }
        return n;
    }

    /** Parses config.json text; IllegalArgumentException naming the key for anything wrong or missing. */
    public static ModelConfig fromJson(String json) {
        JsonNode n;
        try {
            n = JSON.readTree(json);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("not valid JSON: " + e.getOriginalMessage().replaceAll("\\s+", " "));
        }
        return fromTree(n);
    }

    public static ModelConfig fromTree(JsonNode n) {
        if (n == null || !n.isObject()) throw new IllegalArgumentException("not a JSON object");
        rejectUnknown(n, "", ALLOWED);
        requireKeys(n, "", REQUIRED);
        if (n.has("format_version")) {
            int v = intValue(n.get("format_version"), "format_version");
            if (v != FORMAT_VERSION) throw new IllegalArgumentException("format_version " + v + " is not one this rat4j reads (" + FORMAT_VERSION + ")");
        }
        LayerSpec cell = cell(n.get("seq_cell"), "seq_cell");
        LayerSpec cell1 = isNull(n.get("seq_cell1")) ? null : cell(n.get("seq_cell1"), "seq_cell1");
        String peName = text(n.get("pe"), "pe");
        PositionEncoding pe;
        try {
            pe = PositionEncoding.fromRefName(peName);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("pe: " + e.getMessage());
        }
        return new ModelConfig(intValue(n.get("vocab_size"), "vocab_size"), intValue(n.get("d_model"), "d_model"),
                intValue(n.get("num_layers"), "num_layers"), intValue(n.get("d_ffn"), "d_ffn"), cell, cell1,
                intValue(n.get("interleave_step"), "interleave_step"), pe, number(n.get("rope_base"), "rope_base"),
                bool(n.get("tie_embedding"), "tie_embedding"));
    }

    private static LayerSpec cell(JsonNode c, String where) {
        if (c == null || !c.isObject()) throw new IllegalArgumentException(where + " must be an object, got " + JsonFields.describe(c));
        requireKeys(c, where + ".", List.of("_name_"));
        String name = text(c.get("_name_"), where + "._name_");
        LayerKind kind;
        try {
            kind = LayerKind.fromRefName(name);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(where + "._name_: " + e.getMessage());
        }
        List<String> keys = switch (kind) {
            case RAT -> List.of("num_head", "chunk_size", "ngroups");
            case ATTENTION -> List.of("num_head");
            case LOCAL_ATTENTION -> List.of("num_head", "window_size");
            case RNN -> List.of("seq_len");
        };
        Set<String> allowed = union(keys, "_name_");
        for (var e : c.properties()) {
            if (!allowed.contains(e.getKey())) {
                throw new IllegalArgumentException("unknown key '" + where + "." + e.getKey() + "' for a " + kind.refName + " cell");
            }
        }
        requireKeys(c, where + ".", keys);
        return switch (kind) {
            case RAT -> LayerSpec.rat(intValue(c.get("num_head"), where + ".num_head"), intValue(c.get("chunk_size"), where + ".chunk_size"),
                    intValue(c.get("ngroups"), where + ".ngroups"));
            case ATTENTION -> LayerSpec.attention(intValue(c.get("num_head"), where + ".num_head"));
            case LOCAL_ATTENTION -> LayerSpec.localAttention(intValue(c.get("num_head"), where + ".num_head"),
                    intValue(c.get("window_size"), where + ".window_size"));
            case RNN -> LayerSpec.rnn(intValue(c.get("seq_len"), where + ".seq_len"));
        };
    }

    private static Set<String> union(List<String> keys, String extra) {
        Set<String> s = new HashSet<>(keys);
        s.add(extra);
        return Set.copyOf(s);
    }

    /** Reads a config.json; a FormatException "FILE: problem" for anything wrong in it. */
    public static ModelConfig read(Path file) throws IOException {
        return JsonFields.readFile(file, ConfigJson::fromJson);
    }
}

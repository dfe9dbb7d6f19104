package rat4j.train;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/** JSON for the training files (manifest, run config, checkpoint headers, metrics): strict parsing, typed reads naming the key. */
final class Json {
    static final ObjectMapper MAPPER = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS).build();

    private Json() {}

    static ObjectNode object() {
        return MAPPER.createObjectNode();
    }

    /** Parses an object; IllegalArgumentException with the parser's message otherwise. */
    static JsonNode parseObject(String text) {
        JsonNode n;
        try {
            n = MAPPER.readTree(text);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("not valid JSON: " + e.getOriginalMessage().replaceAll("\\s+", " "));
        }
        if (n == null || !n.isObject()) throw new IllegalArgumentException("not a JSON object");
        return n;
    }

    static String compact(JsonNode n) {
        try {
            return MAPPER.writeValueAsString(n);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    static String pretty(JsonNode n) {
        try {
            return MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(n) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    static JsonNode field(JsonNode obj, String key) {
        JsonNode v = obj.get(key);
        if (v == null) throw new IllegalArgumentException("missing key " + key);
        return v;
    }

    static long longValue(JsonNode obj, String key) {
        JsonNode v = field(obj, key);
        if (v.isIntegralNumber() && v.canConvertToLong()) return v.longValue();
        throw new IllegalArgumentException(key + " must be an integer, got " + v);
    }

    static int intValue(JsonNode obj, String key) {
        long v = longValue(obj, key);
        if (v != (int) v) throw new IllegalArgumentException(key + " must fit in an int, got " + v);
        return (int) v;
    }

    /** A number; JSON has no NaN, so null stands for it (e.g. no validation loss yet). */
    static double number(JsonNode obj, String key) {
        JsonNode v = field(obj, key);
        if (v.isNull()) return Double.NaN;
        if (v.isNumber()) return v.doubleValue();
        throw new IllegalArgumentException(key + " must be a number, got " + v);
    }

    static boolean bool(JsonNode obj, String key) {
        JsonNode v = field(obj, key);
        if (v.isBoolean()) return v.booleanValue();
        throw new IllegalArgumentException(key + " must be true or false, got " + v);
    }

    static String text(JsonNode obj, String key) {
        JsonNode v = field(obj, key);
        if (v.isTextual()) return v.textValue();
        throw new IllegalArgumentException(key + " must be a string, got " + v);
    }

    /** A string or null. */
    static String textOrNull(JsonNode obj, String key) {
        JsonNode v = field(obj, key);
        return v.isNull() ? null : text(obj, key);
    }

    static void putNumber(ObjectNode n, String key, double v) {
        if (Double.isFinite(v)) n.put(key, v);
        else n.putNull(key);
    }

    /** Refuses keys outside {@code allowed} and missing ones, naming them. */
    static void requireExactly(JsonNode obj, Collection<String> allowed) {
        List<String> missing = new ArrayList<>();
        for (String k : allowed) if (!obj.has(k)) missing.add(k);
        for (Map.Entry<String, JsonNode> e : obj.properties()) {
            if (!allowed.contains(e.getKey())) throw new IllegalArgumentException("unknown key '" + e.getKey() + "'");
        }
        if (!missing.isEmpty()) throw new IllegalArgumentException("missing key" + (missing.size() > 1 ? "s " : " ") + String.join(", ", missing));
    }
}

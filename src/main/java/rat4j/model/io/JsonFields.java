package rat4j.model.io;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Typed reads of JSON config values; every failure is an IllegalArgumentException naming the key. */
final class JsonFields {
    private JsonFields() {}

    /** An integer; 128.0 is accepted as 128 (Python configs sometimes compute sizes as floats), 2.5 and "2" are not. */
    static int intValue(JsonNode v, String key) {
        if (v != null && v.isNumber()) {
            if (v.isIntegralNumber() && v.canConvertToInt()) return v.intValue();
            if (v.isFloatingPointNumber()) {
                double d = v.doubleValue();
                if (d == Math.rint(d) && Math.abs(d) <= Integer.MAX_VALUE) return (int) d;
            }
        }
        throw new IllegalArgumentException(key + " must be an integer, got " + describe(v));
    }

    static double number(JsonNode v, String key) {
        if (v != null && v.isNumber()) return v.doubleValue();
        throw new IllegalArgumentException(key + " must be a number, got " + describe(v));
    }

    static boolean bool(JsonNode v, String key) {
        if (v != null && v.isBoolean()) return v.booleanValue();
        throw new IllegalArgumentException(key + " must be true or false, got " + describe(v));
    }

    static String text(JsonNode v, String key) {
        if (v != null && v.isTextual()) return v.textValue();
        throw new IllegalArgumentException(key + " must be a string, got " + describe(v));
    }

    static boolean isNull(JsonNode v) {
        return v == null || v.isNull() || v.isMissingNode();
    }

    /** Refuses keys of {@code obj} outside {@code allowed}, naming the first as prefix + key. */
    static void rejectUnknown(JsonNode obj, String prefix, Set<String> allowed) {
        for (Map.Entry<String, JsonNode> e : obj.properties()) {
            if (!allowed.contains(e.getKey())) throw new IllegalArgumentException("unknown key '" + prefix + e.getKey() + "'");
        }
    }

    /** Refuses an object lacking any of {@code required}, naming all that are missing. */
    static void requireKeys(JsonNode obj, String prefix, List<String> required) {
        List<String> missing = new ArrayList<>();
        for (String k : required) if (!obj.has(k)) missing.add(prefix + k);
        if (missing.size() == 1) throw new IllegalArgumentException("missing key " + missing.getFirst());
        if (!missing.isEmpty()) throw new IllegalArgumentException("missing keys " + String.join(", ", missing));
    }

    static String describe(JsonNode v) {
        if (v == null || v.isMissingNode()) return "nothing";
        String s = v.toString();
        return s.length() > 60 ? s.substring(0, 57) + "..." : s;
    }

    /** Reads a UTF-8 JSON file and parses it; a FormatException "FILE: problem" for anything wrong in it. */
    static <T> T readFile(java.nio.file.Path file, java.util.function.Function<String, T> parse) throws java.io.IOException {
        String text;
        try {
            text = java.nio.file.Files.readString(file, java.nio.charset.StandardCharsets.UTF_8);
        } catch (java.nio.charset.CharacterCodingException e) {
            throw new FormatException(file + ": not UTF-8 text");
        }
        try {
            return parse.apply(text);
        } catch (IllegalArgumentException e) {
            throw new FormatException(file + ": " + e.getMessage());
        }
    }
}

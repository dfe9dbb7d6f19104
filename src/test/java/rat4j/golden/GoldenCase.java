package rat4j.golden;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/** One case of ../shared/golden: its JSON description and tensors (as double[] / long[] with shapes). */
final class GoldenCase {
    static final Path DIR = Path.of("../shared/golden");

    record Arr(String dtype, int[] shape, double[] values, long[] ints) {}

    final String name;
    final JsonNode json;
    final Map<String, Arr> params;
    final Map<String, Arr> io;

    GoldenCase(String name) throws IOException {
        this.name = name;
        this.json = new ObjectMapper().readTree(DIR.resolve(name + ".json").toFile());
        this.params = read(DIR.resolve(name + ".params.safetensors"));
        this.io = read(DIR.resolve(name + ".io.safetensors"));
    }

    static Map<String, Arr> read(Path file) throws IOException {
        byte[] all = Files.readAllBytes(file);
        ByteBuffer bb = ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN);
        int n = (int) bb.getLong(0);
        JsonNode header = new ObjectMapper().readTree(new String(all, 8, n, java.nio.charset.StandardCharsets.UTF_8));
        Map<String, Arr> out = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = header.properties().iterator(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (e.getKey().equals("__metadata__")) continue;
            JsonNode t = e.getValue();
            String dtype = t.get("dtype").asText();
            int[] shape = new int[t.get("shape").size()];
            for (int i = 0; i < shape.length; i++) shape[i] = t.get("shape").get(i).asInt();
            int start = 8 + n + t.get("data_offsets").get(0).asInt();
            int count = 1;
            for (int s : shape) count *= s;
            double[] v = new double[count];
            long[] ints = null;
            switch (dtype) {
                case "F32" -> { for (int i = 0; i < count; i++) v[i] = bb.getFloat(start + 4 * i); }
                case "F64" -> { for (int i = 0; i < count; i++) v[i] = bb.getDouble(start + 8 * i); }
                case "I64" -> {
                    ints = new long[count];
                    for (int i = 0; i < count; i++) { ints[i] = bb.getLong(start + 8 * i); v[i] = ints[i]; }
                }
                default -> throw new IOException("unexpected dtype " + dtype);
            }
            out.put(e.getKey(), new Arr(dtype, shape, v, ints));
        }
        return out;
    }
}

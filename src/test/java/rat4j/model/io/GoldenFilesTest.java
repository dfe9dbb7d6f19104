package rat4j.model.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import rat4j.model.ParameterLayout;
import rat4j.model.io.Safetensors.TensorInfo;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every golden safetensors file, read by SafetensorsFile and by a naive whole-file parse that must agree. */
class GoldenFilesTest {

    @Test void readsEveryGoldenSafetensorsFileLikeANaiveParser() throws IOException {
        Goldens.assumeAvailable();
        List<Path> files;
        try (Stream<Path> s = Files.list(Goldens.DIR)) {
            files = s.filter(p -> p.getFileName().toString().endsWith(".safetensors")).sorted().toList();
        }
        assertTrue(files.size() >= 18, "expected the params and io files of every case, found " + files.size());
        int tensors = 0;
        for (Path p : files) {
            byte[] bytes = Files.readAllBytes(p);
            ByteBuffer all = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
            int n = (int) all.getLong(0);
            JsonNode header = new ObjectMapper().readTree(new String(bytes, 8, n, StandardCharsets.UTF_8));
            try (SafetensorsFile f = SafetensorsFile.open(p)) {
                List<String> names = new ArrayList<>();
                for (Map.Entry<String, JsonNode> e : header.properties()) {
                    if (e.getKey().equals("__metadata__")) {
                        assertEquals(e.getValue().get("case").textValue(), f.metadata().get("case"));
                        continue;
                    }
                    names.add(e.getKey());
                    checkTensor(f, e.getKey(), e.getValue(), all, 8 + n);
                    tensors++;
                }
                assertEquals(names.stream().sorted().toList(), f.names(), p.toString());
            }
        }
        assertTrue(tensors > 400, "read " + tensors + " tensors");
    }

    private static void checkTensor(SafetensorsFile f, String name, JsonNode entry, ByteBuffer all, int dataStart) throws IOException {
        TensorInfo t = f.info(name);
        int[] shape = new int[entry.get("shape").size()];
        for (int i = 0; i < shape.length; i++) shape[i] = entry.get("shape").get(i).intValue();
        assertArrayEquals(shape, t.shape(), name);
        assertEquals(entry.get("dtype").textValue(), t.dtype().name(), name);
        int begin = dataStart + entry.get("data_offsets").get(0).intValue();
        int count = (int) t.numel();
        switch (t.dtype()) {
            case F32 -> {
                float[] got = f.readFloats(name);
                for (int i = 0; i < count; i++) assertEquals(all.getFloat(begin + 4 * i), got[i], name);
            }
            case F64 -> {
                double[] got = f.readDoubles(name);
                for (int i = 0; i < count; i++) assertEquals(all.getDouble(begin + 8 * i), got[i], name);
            }
            case I64 -> {
                long[] got = f.readLongs(name);
                for (int i = 0; i < count; i++) assertEquals(all.getLong(begin + 8 * i), got[i], name);
            }
            default -> throw new AssertionError("unexpected dtype " + t.dtype() + " in " + name);
        }
    }

    @Test void goldenParameterFilesMatchTheirCaseShapesAndTieTheHead() throws IOException {
        for (String c : Goldens.cases()) {
            JsonNode shapes = Goldens.json(c).get("param_shapes");
            try (SafetensorsFile f = SafetensorsFile.open(Goldens.params(c))) {
                List<String> expected = new ArrayList<>();
                shapes.properties().forEach(e -> expected.add(e.getKey()));
                assertEquals(expected.stream().sorted().toList(), f.names(), c);
                for (String name : expected) {
                    int[] want = new ObjectMapper().convertValue(shapes.get(name), int[].class);
                    assertArrayEquals(want, f.info(name).shape(), c + " " + name);
                }
                assertArrayEquals(f.readFloats(ParameterLayout.EMBEDDING), f.readFloats(ParameterLayout.LM_HEAD), c + ": the tied head is the embedding");
            }
        }
    }
}

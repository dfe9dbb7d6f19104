package rat4j.arch;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Data flows one way (../shared/STYLE.md): each package imports only the rat4j packages listed for it. */
class LayeringTest {
    static final Map<String, List<String>> ALLOWED = Map.ofEntries(
            Map.entry("tensor", List.of()),
            Map.entry("kernel", List.of("tensor")),
            Map.entry("kernel.simd", List.of("kernel", "tensor")),
            Map.entry("kernel.nativelib", List.of("kernel", "tensor")),
            Map.entry("nn", List.of("kernel", "tensor")),
            Map.entry("model", List.of("nn", "kernel", "tensor")),
            Map.entry("model.io", List.of("model.io.pickle", "model", "nn", "kernel", "tensor")),
            Map.entry("model.io.pickle", List.of("model", "nn", "kernel", "tensor")),
            Map.entry("tokenizer", List.of()),
            Map.entry("train", List.of("model", "model.io", "nn", "kernel", "tensor", "tokenizer")),
            Map.entry("generate", List.of("model", "nn", "kernel", "tensor", "tokenizer")),
            Map.entry("bench", List.of("train", "model", "nn", "kernel", "tensor")), // bench train times the trainer's step
            Map.entry("cli", List.of("*")));

    static final Pattern IMPORT = Pattern.compile("^import\\s+(?:static\\s+)?rat4j\\.([a-z.]+)\\.[A-Z]", Pattern.MULTILINE);

    @Test
    void packagesImportOnlyWhatTheLayoutAllows() throws IOException {
        Path root = Path.of("src/main/java/rat4j");
        List<String> violations = new ArrayList<>();
        int files = 0;
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path p : paths.filter(f -> f.toString().endsWith(".java")).toList()) {
                files++;
                String pkg = root.relativize(p.getParent()).toString().replace('/', '.');
                List<String> allowed = ALLOWED.get(pkg);
                assertTrue(allowed != null, "package rat4j." + pkg + " is not in the layout table of STYLE.md; add it here");
                if (allowed.contains("*")) continue;
                Matcher m = IMPORT.matcher(Files.readString(p));
                while (m.find()) {
                    String dep = m.group(1);
                    if (!dep.equals(pkg) && !allowed.contains(dep)) violations.add(root.relativize(p) + " imports rat4j." + dep);
                }
                if (!pkg.equals("kernel.simd") && Files.readString(p).contains("import jdk.incubator.vector")) {
                    violations.add(root.relativize(p) + " uses the Vector API outside kernel.simd");
                }
            }
        }
        assertTrue(files > 10, "scanned " + files + " files");
        assertEquals(List.of(), violations);
    }
}

package rat4j.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rat4j.model.ParameterLayout;
import rat4j.model.io.Goldens;
import rat4j.model.io.ModelDirectory;
import rat4j.model.io.Safetensors;
import rat4j.model.io.SafetensorsFile;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code rat4j import --weights X.pth}: the reference's own checkpoints, with their pickled config or a JSON one. */
class ImportPthTest {
    static final Path PTH = Goldens.DIR.resolve("pth");
    static final Path MARKER = Path.of("/tmp/rat4j-pickle-executed");

    @TempDir Path dir;

    record Result(int rc, String out, String err) {}

    private static Result run(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int rc = Main.execute(new PrintWriter(out), new PrintWriter(err), false, args);
        return new Result(rc, out.toString(), err.toString());
    }

    /** The model directory holds the case's float32 parameters, rounded to bf16 for a bf16 checkpoint. */
    private static void assertImported(Path out, String c, boolean bf16) throws IOException {
        ModelDirectory.Model m = ModelDirectory.load(out);
        assertEquals(Goldens.oracleConfig(c), m.config());
        try (SafetensorsFile golden = SafetensorsFile.open(Goldens.params(c))) {
            for (ParameterLayout.Entry e : ParameterLayout.of(m.config()).entries()) {
                float[] want = golden.readFloats(e.name());
                for (int i = 0; i < want.length; i++) {
                    float w = bf16 ? Safetensors.bf16ToFloat(Safetensors.floatToBf16(want[i])) : want[i];
                    if (Float.floatToRawIntBits(w) != Float.floatToRawIntBits(m.parameters()[e.offset() + i])) {
                        throw new AssertionError(c + (bf16 ? " bf16 " : " ") + e.name() + "[" + i + "]");
                    }
                }
            }
        }
    }

    @Test void importsEveryGoldenCheckpointWithItsOwnConfigOrAGivenOne() throws IOException {
        Goldens.assumeAvailable();
        int imported = 0;
        for (String c : new String[] {"rat_c16_L3_T64", "interleave_rat4_local8_L4_T32"}) {
            for (boolean bf16 : new boolean[] {false, true}) {
                Path pth = PTH.resolve(c + (bf16 ? ".bf16.pth" : ".pth"));
                Path out = dir.resolve(c + bf16);
                Result r = run("import", "--weights", pth.toString(), "--out", out.toString());
                assertEquals(0, r.rc(), r.err());
                assertTrue(r.out().startsWith("rat4j: wrote " + out), r.out());
                assertImported(out, c, bf16);

                Path cfg = Files.writeString(dir.resolve(c + ".json"), Goldens.json(c).get("official_hydra_equivalent").toString());
                Path out2 = dir.resolve(c + bf16 + "-json");
                r = run("import", "--weights", pth.toString(), "--reference-config", cfg.toString(), "--out", out2.toString());
                assertEquals(0, r.rc(), r.err());
                assertImported(out2, c, bf16);
                imported += 2;
                if (!bf16) { // a tokenizer with more ids than the model embeds is refused before anything is written
                    Path out3 = dir.resolve(c + "-tok");
                    r = run("import", "--weights", pth.toString(), "--tokenizer", "byte", "--out", out3.toString());
                    assertEquals(2, r.rc(), r.err());
                    assertTrue(r.err().contains("--tokenizer byte has 258 ids, more than the model's vocab_size 97"), r.err());
                    assertFalse(Files.exists(out3));
                }
            }
        }
        assertEquals(8, imported);
    }

    @Test void hostileCheckpointsFailWithOneLineAndWriteNothing() throws IOException {
        Goldens.assumeAvailable();
        Files.deleteIfExists(MARKER);
        for (String[] h : new String[][] {{"hostile_os_system.pth", "posix.system"}, {"hostile_eval.pth", "__builtin__.eval"}}) {
            Path pth = PTH.resolve(h[0]);
            Path out = dir.resolve(h[0] + ".model");
            Result r = run("import", "--weights", pth.toString(), "--out", out.toString());
            assertEquals(1, r.rc());
            assertEquals("rat4j: error: " + pth + ": refusing pickle global " + h[1] + " (only plain data is loaded)", r.err().strip());
            assertFalse(Files.exists(out));
        }
        assertFalse(Files.exists(MARKER), "the hostile pickle's os.system ran");
    }

    @Test void safetensorsWithoutAConfigAreRefused() {
        Goldens.assumeAvailable();
        Path st = Goldens.params("rat_c16_L3_T64");
        Result r = run("import", "--weights", st.toString(), "--out", dir.resolve("x").toString());
        assertEquals(1, r.rc());
        assertEquals("rat4j: error: " + st + ": a safetensors file holds no config; the reference's config (JSON) must be given too", r.err().strip());
        Path missing = dir.resolve("none.pth");
        r = run("import", "--weights", missing.toString(), "--out", dir.resolve("y").toString());
        assertEquals("rat4j: error: " + missing + ": no such file or directory", r.err().strip());
    }
}

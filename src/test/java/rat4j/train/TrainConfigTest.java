package rat4j.train;

import org.junit.jupiter.api.Test;
import rat4j.kernel.Compute;
import rat4j.model.Presets;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TrainConfigTest {
    final TrainConfig config = TrainConfig.pretrain(Path.of("data"), Presets.get("rat-tiny"), null, Path.of("run"));

    @Test void runJsonRoundTripsTheComputeMode() {
        TrainConfig bf16 = config.withCompute(Compute.BF16);
        assertEquals(bf16, TrainConfig.fromJson(bf16.toJson()));
        assertEquals(Compute.FP32, TrainConfig.fromJson(config.toJson()).compute());
    }

    /** run.json written before the bf16 mode existed has no "compute": those runs trained in fp32. */
    @Test void aRunJsonWithoutComputeIsAnFp32Run() {
        var tree = config.withCompute(Compute.BF16).toTree();
        tree.remove("compute");
        assertEquals(Compute.FP32, TrainConfig.fromJson(tree.toString()).compute());
    }

    @Test void anUnknownComputeModeIsRefused() {
        var tree = config.toTree();
        tree.put("compute", "int4");
        var e = assertThrows(IllegalArgumentException.class, () -> TrainConfig.fromJson(tree.toString()));
        assertTrue(e.getMessage().contains("unknown compute mode 'int4'"), e.getMessage());
    }
}

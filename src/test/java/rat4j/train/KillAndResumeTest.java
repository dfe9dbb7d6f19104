package rat4j.train;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rat4j.model.io.ConfigJson;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The real interruption: `rat4j train` in its own JVM is killed (SIGKILL) right after its first checkpoint, and the
 * resumed run ends bit-identical to one that was never interrupted.
 */
class KillAndResumeTest {
    @TempDir Path dir;

    @Test void aKilledTrainingProcessResumesBitIdentically() throws Exception {
        Path data = Fixtures.preparedData(dir, 60, 0.1);
        Path modelConfig = Files.writeString(dir.resolve("config.json"), ConfigJson.toJson(Fixtures.tinyModel()));
        Path straight = dir.resolve("straight"), killed = dir.resolve("killed");
        int steps = 60;
        TrainConfig c = TrainConfig.pretrain(data, Fixtures.tinyModel(), null, straight).withBatch(32, 4, 1).withLength(1, steps)
                .withSampling(TrainConfig.Sampling.RANDOM).withEvaluation(25, 256).withCheckpoints(10, 2, false);

        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx1g",
                "-cp", System.getProperty("java.class.path"), "rat4j.cli.Main", "train",
                "--data", data.toString(), "--model-config", modelConfig.toString(), "--out", killed.toString(),
                "--seq-len", "32", "--batch-size", "4", "--max-steps", String.valueOf(steps), "--sampling", "random",
                "--eval-every", "25", "--val-tokens", "256", "--checkpoint-every", "10"));
        Path log = dir.resolve("train.log");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        Checkpoint.Store store = new Checkpoint.Store(killed);
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (store.list().isEmpty()) {
                assertTrue(p.isAlive(), () -> "the training process ended before its first checkpoint: " + read(log));
                assertTrue(System.nanoTime() < deadline, () -> "no checkpoint after 120 s: " + read(log));
                Thread.sleep(2);
            }
        } finally {
            p.destroyForcibly();
            p.waitFor(30, TimeUnit.SECONDS);
        }
        assertFalse(Files.exists(killed.resolve(Trainer.MODEL_DIR)), () -> "killed before the end: " + read(log));
        assertEquals(c.withRunDir(killed), TrainConfig.fromJson(Files.readString(killed.resolve(Trainer.RUN_FILE))), "the CLI made the same run config");

        try (Trainer t = Trainer.start(c, Progress.silent())) {
            t.run();
        }
        try (Trainer t = Trainer.resume(killed, Progress.silent())) {
            assertTrue(t.step() >= 10 && t.step() < steps, "resumed from step " + t.step());
            assertTrue(t.run().finished());
        }
        TrainerTest.assertSameMetrics(straight, killed);
        TrainerTest.assertBitIdentical(TrainerTest.finalWeights(straight), TrainerTest.finalWeights(killed), "final weights");
    }

    private static String read(Path log) {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }
}

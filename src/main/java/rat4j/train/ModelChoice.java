package rat4j.train;

import rat4j.tokenizer.Tokenizers;
import rat4j.model.ModelConfig;
import rat4j.model.Presets;
import rat4j.model.io.ConfigJson;
import rat4j.model.io.ModelDirectory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Which model a run trains, from what a user names: a preset, a config.json, or a model directory to start from. */
public final class ModelChoice {
    private ModelChoice() {}

    /**
     * A preset by name, with its vocabulary set to the data's (a preset fixes a shape, the data fixes the ids), or a
     * config.json, whose vocabulary must hold the data's ids.
     */
    public static ModelConfig fromSpec(String presetOrFile, int dataVocab) throws IOException {
        if (Presets.names().contains(presetOrFile)) return Presets.get(presetOrFile).withVocabSize(dataVocab);
        Path f = Path.of(presetOrFile);
        if (!Files.exists(f)) {
            throw new IllegalArgumentException("'" + presetOrFile + "' is neither a preset (" + String.join(", ", Presets.names()) + ") nor a config.json file");
        }
        if (Files.isDirectory(f)) f = f.resolve(ModelDirectory.CONFIG_FILE);
        return ConfigJson.read(f);
    }

    /** The config of the model saved in {@code modelDir}, read without loading its weights. */
    public static ModelConfig ofModelDirectory(Path modelDir) throws IOException {
        Path f = modelDir.resolve(ModelDirectory.CONFIG_FILE);
        if (!Files.isRegularFile(f)) throw new IOException(modelDir + ": no " + ModelDirectory.CONFIG_FILE + " (not a model directory?)");
        return ConfigJson.read(f);
    }

    /** The vocabulary the training data uses: the manifest's for prepared data, the tokenizer's for SFT pairs. */
    public static int dataVocab(Path dataDir, String sftTokenizer) throws IOException {
        return dataDir != null ? DataManifest.read(dataDir).vocabSize() : Tokenizers.open(sftTokenizer).vocabSize();
    }
}

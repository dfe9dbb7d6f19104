package rat4j.model.io;

import com.fasterxml.jackson.databind.JsonNode;
import rat4j.model.ModelConfig;
import rat4j.model.ParameterLayout;
import rat4j.model.io.Safetensors.DType;
import rat4j.model.io.Safetensors.TensorData;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.UnaryOperator;

/**
 * rat4j's model directory: DIR/config.json ({@link ConfigJson}) and DIR/model.safetensors (every parameter under the
 * reference's state_dict names, so the reference can load it; a tied LM head is written too, as a copy of the
 * embedding). Saving replaces the directory as a whole: a crash never leaves a half-written model behind.
 */
public final class ModelDirectory {
    public static final String CONFIG_FILE = "config.json";
    public static final String WEIGHTS_FILE = "model.safetensors";
    /** Optional: the model's SentencePiece tokenizer, a copy of the tokenizer.model it was trained with. */
    public static final String TOKENIZER_MODEL_FILE = "tokenizer.model";
    /** Optional: {"type": "byte"} when the model reads UTF-8 bytes as tokens. */
    public static final String TOKENIZER_JSON_FILE = "tokenizer.json";
    /** The spec of the byte tokenizer, as rat4j.tokenizer.Tokenizers.open takes it. */
    public static final String BYTE_TOKENIZER = "byte";
    private static final Set<String> MODEL_FILES = Set.of(CONFIG_FILE, WEIGHTS_FILE, TOKENIZER_MODEL_FILE, TOKENIZER_JSON_FILE);

    /** A loaded model: its config and its parameters laid out by {@link ParameterLayout#of(ModelConfig)}. */
    public record Model(ModelConfig config, float[] parameters) {}

    private ModelDirectory() {}

    public static Model load(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) throw new IOException(dir + ": no model directory there" + leftoverHint(dir));
        Path configFile = dir.resolve(CONFIG_FILE), weightsFile = dir.resolve(WEIGHTS_FILE);
        if (!Files.isRegularFile(configFile)) throw new FormatException(dir + ": no " + CONFIG_FILE + " (not a model directory?)");
        if (!Files.isRegularFile(weightsFile)) throw new FormatException(dir + ": no " + WEIGHTS_FILE);
        ModelConfig config = ConfigJson.read(configFile);
        try (SafetensorsFile f = SafetensorsFile.open(weightsFile)) {
            return new Model(config, readParameters(f, config, UnaryOperator.identity()));
        }
    }

    /**
     * The tokenizer stored with a model, as a spec for rat4j.tokenizer.Tokenizers.open: the path of DIR/tokenizer.model,
     * "byte" when DIR/tokenizer.json says so, or null when the directory holds no tokenizer (models saved before
     * tokenizers travelled with them).
     */
    public static String tokenizer(Path dir) throws IOException {
        Path model = dir.resolve(TOKENIZER_MODEL_FILE), json = dir.resolve(TOKENIZER_JSON_FILE);
        if (Files.isRegularFile(model)) return model.toString();
        if (!Files.isRegularFile(json)) return null;
        JsonNode tree;
        try {
            tree = ConfigJson.JSON.readTree(Files.readString(json, StandardCharsets.UTF_8));
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            throw new FormatException(json + ": not JSON (" + e.getOriginalMessage() + ")");
        }
        JsonNode type = tree == null ? null : tree.get("type");
        if (type == null || !type.isTextual() || !type.textValue().equals(BYTE_TOKENIZER)) {
            throw new FormatException(json + ": expected {\"type\": \"byte\"}, got " + (tree == null ? "nothing" : tree.toString()));
        }
        return BYTE_TOKENIZER;
    }

    /**
     * Stores a tokenizer with the model in {@code dir}, replacing the one there: spec is "byte" (written as
     * tokenizer.json) or the path of a SentencePiece tokenizer.model (copied). Each file is written atomically.
     */
    public static void saveTokenizer(Path dir, String spec) throws IOException {
        if (!Files.isRegularFile(dir.resolve(CONFIG_FILE))) throw new FormatException(dir + ": no " + CONFIG_FILE + " (not a model directory?)");
        writeTokenizer(dir, spec);
        AtomicFiles.fsyncDirectory(dir);
    }

    private static void writeTokenizer(Path dir, String spec) throws IOException {
        byte[] content;
        String keep, drop;
        if (spec.equals(BYTE_TOKENIZER)) {
            content = "{\"type\": \"byte\"}\n".getBytes(StandardCharsets.UTF_8);
            keep = TOKENIZER_JSON_FILE;
            drop = TOKENIZER_MODEL_FILE;
        } else {
            Path src = Path.of(spec);
            if (!Files.isRegularFile(src)) throw new java.nio.file.NoSuchFileException(spec, null, "no such tokenizer file (give a SentencePiece tokenizer.model, or \"byte\")");
            content = Files.readAllBytes(src);
            keep = TOKENIZER_MODEL_FILE;
            drop = TOKENIZER_JSON_FILE;
        }
        AtomicFiles.write(dir.resolve(keep), ch -> {
            ByteBuffer b = ByteBuffer.wrap(content);
            while (b.hasRemaining()) ch.write(b);
        });
        Files.deleteIfExists(dir.resolve(drop));
    }

    /** The prefix torch.compile puts on every state_dict name (the reference compiles its model when training). */
    public static final String COMPILE_PREFIX = "_orig_mod.";

    /**
     * A model from the reference's world. {@code weights} is either a safetensors file of parameters under the
     * reference's state_dict names, or a checkpoint the reference saved with torch.save ({@link PthArchive}: a
     * {@code .pth}/{@code .pt} file or any zip archive), whose state_dict is read from its {@code task} entry; an
     * {@code _orig_mod.} prefix is stripped. The config is {@code referenceConfig} (the reference's resolved config
     * as JSON, {@link ReferenceConfig}) when given; else, for a checkpoint, the config pickled inside it. A safetensors
     * file holds no config, so it needs {@code referenceConfig}.
     *
     * @param referenceConfig null to take the config from a checkpoint
     */
    public static Model fromReference(Path weights, Path referenceConfig) throws IOException {
        if (isTorchCheckpoint(weights)) {
            try (PthArchive archive = PthArchive.open(weights)) {
                ModelConfig config = referenceConfig != null ? ReferenceConfig.read(referenceConfig) : configOf(archive);
                return new Model(config, readParameters(pthSource(archive), config, ModelDirectory::stripCompilePrefix));
            }
        }
        if (referenceConfig == null) throw new FormatException(weights + ": a safetensors file holds no config; the reference's config (JSON) must be given too");
        ModelConfig config = ReferenceConfig.read(referenceConfig);
        try (SafetensorsFile f = SafetensorsFile.open(weights)) {
            return new Model(config, readParameters(f, config, ModelDirectory::stripCompilePrefix));
        }
    }

    private static String stripCompilePrefix(String name) {
        return name.startsWith(COMPILE_PREFIX) ? name.substring(COMPILE_PREFIX.length()) : name;
    }

    /** A zip archive (what torch.save writes since PyTorch 1.6), or a file named like a torch checkpoint. */
    private static boolean isTorchCheckpoint(Path weights) throws IOException {
        String name = weights.getFileName() == null ? "" : weights.getFileName().toString();
        if (name.endsWith(".pth") || name.endsWith(".pt")) return true;
        if (Files.isDirectory(weights)) return false;
        byte[] magic;
        try (InputStream in = Files.newInputStream(weights)) {
            magic = in.readNBytes(4);
        }
        return magic.length == 4 && magic[0] == 'P' && magic[1] == 'K' && magic[2] == 3 && magic[3] == 4;
    }

    /** The config pickled in a checkpoint (an EasyDict of the reference's resolved Hydra config). */
    private static ModelConfig configOf(PthArchive archive) throws FormatException {
        JsonNode tree = archive.config();
        if (tree == null) throw new FormatException(archive.path() + ": the checkpoint holds no config; give the reference's config (JSON) instead");
        try {
            return ReferenceConfig.fromTree(tree);
        } catch (IllegalArgumentException e) {
            throw new FormatException(archive.path() + ": its config: " + e.getMessage());
        }
    }

    /** Saves a model into {@code dir}, replacing a model directory already there (but nothing else). */
    public static void save(Path dir, ModelConfig config, float[] parameters) throws IOException {
        save(dir, config, parameters, null, stage -> {});
    }

    /**
     * Saves a model with its tokenizer (spec as {@link #saveTokenizer}; null for none) into {@code dir}, replacing a
     * model directory already there as a whole.
     */
    public static void save(Path dir, ModelConfig config, float[] parameters, String tokenizer) throws IOException {
        save(dir, config, parameters, tokenizer, stage -> {});
    }

    static void save(Path dir, ModelConfig config, float[] parameters, SaveHook hook) throws IOException {
        save(dir, config, parameters, null, hook);
    }

    /** Called at the stages of a save, so tests can simulate a crash there. */
    interface SaveHook {
        /** @param stage "written" (the new directory is complete, nothing renamed yet) or "old-moved" (the old model moved aside) */
        void reached(String stage) throws IOException;
    }

    static void save(Path dir, ModelConfig config, float[] parameters, String tokenizer, SaveHook hook) throws IOException {
        ParameterLayout layout = ParameterLayout.of(config);
        if (parameters.length != layout.totalSize()) {
            throw new IllegalArgumentException("parameters hold " + parameters.length + " floats, config needs " + layout.totalSize());
        }
        Path target = dir.toAbsolutePath().normalize();
        Path parent = target.getParent();
        if (parent == null) throw new IllegalArgumentException("cannot save a model as the root directory");
        Files.createDirectories(parent);
        boolean replacing = checkReplaceable(target);

        // Write the whole new model beside the target, then swap it in by renames: never a mix of old and new files.
        Path fresh = AtomicFiles.siblingName(target, "new");
        Files.createDirectory(fresh);
        boolean committed = false;
        try {
            Safetensors.write(fresh.resolve(WEIGHTS_FILE), stateDict(config, parameters), Map.of("format", "pt", "producer", "rat4j"));
            byte[] json = ConfigJson.toJson(config).getBytes(StandardCharsets.UTF_8);
            AtomicFiles.write(fresh.resolve(CONFIG_FILE), ch -> {
                ByteBuffer b = ByteBuffer.wrap(json);
                while (b.hasRemaining()) ch.write(b);
            });
            if (tokenizer != null) writeTokenizer(fresh, tokenizer);
            AtomicFiles.fsyncDirectory(fresh);
            hook.reached("written");
            if (!replacing) {
                AtomicFiles.move(fresh, target);
                committed = true;
                AtomicFiles.fsyncDirectory(parent);
                return;
            }
            // Two renames: a crash between them leaves no DIR but both complete models beside it (load() points there).
            Path old = AtomicFiles.siblingName(target, "old");
            AtomicFiles.move(target, old);
            try {
                hook.reached("old-moved");
                AtomicFiles.move(fresh, target);
            } catch (IOException | RuntimeException e) {
                try {
                    AtomicFiles.move(old, target);
                } catch (IOException restore) {
                    e.addSuppressed(restore);
                }
                throw e;
            }
            committed = true;
            AtomicFiles.fsyncDirectory(parent);
            deleteModelDir(old);
        } finally {
            if (!committed) deleteModelDir(fresh);
        }
    }

    /** True when {@code target} is a model directory to replace; false when absent; refuses anything else. */
    private static boolean checkReplaceable(Path target) throws IOException {
        if (!Files.exists(target, LinkOption.NOFOLLOW_LINKS)) return false;
        if (Files.isSymbolicLink(target)) throw new IOException(target + " is a symbolic link; refusing to replace it with a model directory");
        if (!Files.isDirectory(target)) throw new IOException(target + " exists and is not a directory");
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(target)) {
            for (Path p : entries) {
                if (!MODEL_FILES.contains(p.getFileName().toString()) || !Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
                    throw new IOException(target + " holds " + p.getFileName() + ", which is not part of a model; refusing to replace the directory");
                }
            }
        }
        return true;
    }

    private static void deleteModelDir(Path dir) throws IOException {
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) return;
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            for (Path p : entries) Files.delete(p);
        }
        Files.delete(dir);
    }

    private static String leftoverHint(Path dir) {
        Path abs = dir.toAbsolutePath().normalize();
        Path parent = abs.getParent();
        if (parent == null || !Files.isDirectory(parent)) return "";
        String prefix = "." + abs.getFileName() + ".new-";
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(parent, prefix + "*")) {
            for (Path p : entries) {
                if (Files.isRegularFile(p.resolve(CONFIG_FILE))) {
                    return " (an interrupted save left a complete new model in " + p + "; rename it to " + abs.getFileName() + ")";
                }
            }
        } catch (IOException e) {
            return "";
        }
        return "";
    }

    /**
     * The tensors to write for a model, under the reference's state_dict names. With a tied embedding
     * head.lm_head.weight is written as well (a second copy of the embedding), as the reference's state_dict has it.
     */
    public static Map<String, TensorData> stateDict(ModelConfig config, float[] parameters) {
        ParameterLayout layout = ParameterLayout.of(config);
        Map<String, TensorData> out = new LinkedHashMap<>();
        for (ParameterLayout.Entry e : layout.entries()) out.put(e.name(), TensorData.f32(parameters, e.offset(), e.shape()));
        if (config.tieEmbedding()) {
            ParameterLayout.Entry emb = layout.entry(ParameterLayout.EMBEDDING);
            out.put(ParameterLayout.LM_HEAD, TensorData.f32(parameters, emb.offset(), emb.shape()));
        }
        return out;
    }

    /**
     * Reads every parameter {@code config} needs from {@code file} into a new array laid out by
     * {@link ParameterLayout#of(ModelConfig)}. File names are mapped through {@code rename} first (e.g. to strip a
     * prefix). F32, BF16 and F16 tensors are accepted. All missing, unexpected and mis-shaped tensors are reported
     * together in one FormatException. With a tied embedding, a head.lm_head.weight in the file is accepted only when
     * it equals the embedding.
     */
    public static float[] readParameters(SafetensorsFile file, ModelConfig config, UnaryOperator<String> rename) throws IOException {
        return readParameters(safetensorsSource(file), config, rename);
    }

    /** Where parameters come from: a safetensors file or a checkpoint's state_dict. */
    private interface TensorSource {
        Path path();

        Collection<String> names();

        DType dtype(String name) throws FormatException;

        int[] shape(String name) throws FormatException;

        void readFloats(String name, float[] dst, int offset) throws IOException;

        float[] readFloats(String name) throws IOException;
    }

    private static TensorSource safetensorsSource(SafetensorsFile file) {
        return new TensorSource() {
            @Override public Path path() { return file.path(); }

            @Override public Collection<String> names() { return file.names(); }

            @Override public DType dtype(String name) throws FormatException { return file.info(name).dtype(); }

            @Override public int[] shape(String name) throws FormatException { return file.info(name).shape(); }

            @Override public void readFloats(String name, float[] dst, int offset) throws IOException { file.readFloats(name, dst, offset); }

            @Override public float[] readFloats(String name) throws IOException { return file.readFloats(name); }
        };
    }

    private static TensorSource pthSource(PthArchive archive) throws FormatException {
        Map<String, PthArchive.Tensor> sd = archive.stateDict();
        return new TensorSource() {
            @Override public Path path() { return archive.path(); }

            @Override public Collection<String> names() { return sd.keySet(); }

            @Override public DType dtype(String name) { return sd.get(name).dtype(); }

            @Override public int[] shape(String name) { return sd.get(name).shape(); }

            @Override public void readFloats(String name, float[] dst, int offset) throws IOException { archive.readFloats(name, sd.get(name), dst, offset); }

            @Override public float[] readFloats(String name) throws IOException { return archive.readFloats(name, sd.get(name)); }
        };
    }

    private static float[] readParameters(TensorSource file, ModelConfig config, UnaryOperator<String> rename) throws IOException {
        ParameterLayout layout = ParameterLayout.of(config);
        Map<String, String> byName = new TreeMap<>();   // reference name -> name in the file
        List<String> problems = new ArrayList<>();
        for (String n : file.names()) {
            String canonical = rename.apply(n);
            String before = byName.put(canonical, n);
            if (before != null) problems.add("both " + before + " and " + n + " give " + canonical);
        }
        List<String> missing = new ArrayList<>();
        List<String> shapeProblems = new ArrayList<>();
        List<Source> toRead = new ArrayList<>();
        for (ParameterLayout.Entry e : layout.entries()) {
            String src = byName.remove(e.name());
            if (src == null) {
                missing.add(e.name());
            } else if (checkTensor(file, src, e.shape(), shapeProblems)) {
                toRead.add(new Source(e, src));
            }
        }
        String tiedHead = null;
        if (config.tieEmbedding() && byName.containsKey(ParameterLayout.LM_HEAD)) {
            tiedHead = byName.remove(ParameterLayout.LM_HEAD);
            if (!checkTensor(file, tiedHead, layout.entry(ParameterLayout.EMBEDDING).shape(), shapeProblems)) tiedHead = null;
        }
        if (!missing.isEmpty()) problems.add("missing " + String.join(", ", missing));
        if (!byName.isEmpty()) problems.add("unexpected " + String.join(", ", byName.values()));
        problems.addAll(shapeProblems);
        if (!problems.isEmpty()) throw new FormatException(file.path() + ": " + String.join("; ", problems));

        float[] params = new float[layout.totalSize()];
        for (Source s : toRead) file.readFloats(s.fileName(), params, s.entry().offset());
        if (tiedHead != null) checkTiedHead(file, tiedHead, layout, params);
        return params;
    }

    private record Source(ParameterLayout.Entry entry, String fileName) {}

    /** Adds a problem and returns false when tensor {@code name} is not a float tensor of {@code shape}. */
    private static boolean checkTensor(TensorSource file, String name, int[] shape, List<String> problems) throws FormatException {
        int[] has = file.shape(name);
        if (!Arrays.equals(has, shape)) {
            problems.add(name + " has shape " + Arrays.toString(has) + ", config needs " + Arrays.toString(shape));
            return false;
        }
        DType dtype = file.dtype(name);
        if (dtype != DType.F32 && dtype != DType.BF16 && dtype != DType.F16) {
            problems.add(name + " has dtype " + dtype + ", needs F32, BF16 or F16");
            return false;
        }
        return true;
    }

    private static void checkTiedHead(TensorSource file, String name, ParameterLayout layout, float[] params) throws IOException {
        ParameterLayout.Entry emb = layout.entry(ParameterLayout.EMBEDDING);
        float[] head = file.readFloats(name);
        int d = emb.shape()[1];
        for (int i = 0; i < head.length; i++) {
            float e = params[emb.offset() + i];
            if (Float.floatToIntBits(head[i]) != Float.floatToIntBits(e)) {
                throw new FormatException(file.path() + ": " + name + " differs from " + ParameterLayout.EMBEDDING + " at [" + i / d + ", " + i % d
                        + "] (" + head[i] + " vs " + e + ") but the config ties them (tie_embedding true); refusing to drop the head");
            }
        }
    }
}

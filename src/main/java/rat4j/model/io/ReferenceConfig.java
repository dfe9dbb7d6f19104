package rat4j.model.io;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import rat4j.model.LayerKind;
import rat4j.model.LayerSpec;
import rat4j.model.ModelConfig;
import rat4j.model.PositionEncoding;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.nio.charset.CharacterCodingException;

import static rat4j.model.io.JsonFields.bool;
import static rat4j.model.io.JsonFields.describe;
import static rat4j.model.io.JsonFields.intValue;
import static rat4j.model.io.JsonFields.isNull;
import static rat4j.model.io.JsonFields.number;
import static rat4j.model.io.JsonFields.text;

/**
 * Reads the reference's (CLAIRE-Labo/RAT) resolved Hydra config, as JSON, into a {@link ModelConfig}.
 *
 * <p>Keys as in its YAML: {@code model.backbone.{_name_, num_layers, d_model, interleave_step, ln, bias, dropout,
 * seq_cell, seq_cell1, hidden_cell}}, {@code model.embedding.pe.{_name_, base, dim, chunk_size}},
 * {@code data.vocab_size}, {@code task.tie_embedding}. Nested objects, dotted top-level keys
 * ({@code "model.backbone.num_layers": 24}, as the goldens' official_hydra_equivalent) and mixtures of both are
 * accepted. Keys elsewhere (optimizer, trainer, ...) are ignored.
 *
 * <p>A key left out takes the value the reference's YAML would give it (configs/model/backbone/layer/*.yaml, with its
 * {@code ${...}} references followed): d_head 64 and num_head = d_model // d_head, chunk_size 64, ngroups 2,
 * window_size 1024, an RNN's seq_len = data.seq_len, d_ffn 4 * d_model, act_fn gelu, ln and bias from the backbone
 * (rmsnorm, false), interleave_step 2, pe base 10000, tie_embedding true. The sizes that have no YAML default
 * (num_layers, d_model, vocab_size, the cells' and the pe's {@code _name_}) are required.
 *
 * <p>Anything that would change the maths and that rat4j does not implement is refused, naming the key: biases,
 * LayerNorm, activations other than exact GELU, dropout, inconsistent sizes, unknown keys inside the backbone, the
 * cells or the pe.
 */
public final class ReferenceConfig {
    private static final Set<String> BACKBONE_KEYS = Set.of("_name_", "num_layers", "d_model", "interleave_step", "ln", "bias",
            "dropout", "init", "seq_cell", "seq_cell1", "hidden_cell");
    private static final Set<String> HIDDEN_KEYS = Set.of("_name_", "d_model", "d_ffn", "act_fn", "bias", "ln", "dropout", "init");
    private static final Set<String> PE_KEYS = Set.of("_name_", "dim", "base", "chunk_size", "max_seq_len", "max_num_chunk");

    private ReferenceConfig() {}

    /** Reads a JSON file; FormatException "FILE: problem" when it is not a usable reference config. */
    public static ModelConfig read(Path file) throws IOException {
        return JsonFields.readFile(file, ReferenceConfig::fromJson);
    }

    public static ModelConfig fromJson(String json) {
        try {
            return fromTree(ConfigJson.JSON.readTree(json));
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("not valid JSON: " + e.getOriginalMessage().replaceAll("\\s+", " "));
        }
    }

    /** Converts a reference config tree (nested, dotted or mixed); IllegalArgumentException naming the key on failure. */
    public static ModelConfig fromTree(JsonNode tree) {
        if (tree == null || !tree.isObject()) throw new IllegalArgumentException("a reference config must be a JSON object");
        ObjectNode root = normalise(tree, "");

        JsonNode backbone = object(root, "model.backbone", true);
        JsonFields.rejectUnknown(backbone, "model.backbone.", BACKBONE_KEYS);
        String backboneName = text(requireIn(backbone, "_name_", "model.backbone."), "model.backbone._name_");
        if (!backboneName.equals("sequence") && !backboneName.equals("sequence_interleave")) {
            throw new IllegalArgumentException("model.backbone._name_ '" + backboneName + "' is not sequence or sequence_interleave");
        }
        int numLayers = intValue(requireIn(backbone, "num_layers", "model.backbone."), "model.backbone.num_layers");
        int dModel = intValue(requireIn(backbone, "d_model", "model.backbone."), "model.backbone.d_model");
        int interleaveStep = optInt(backbone, "interleave_step", "model.backbone.", 2);
        String ln = optText(backbone, "ln", "model.backbone.", "rmsnorm");
        expect(ln, "rmsnorm", "model.backbone.ln");
        boolean bias = optBool(backbone, "bias", "model.backbone.", false);
        if (bias) throw new IllegalArgumentException("model.backbone.bias is true; rat4j's layers have no biases");
        requireNoDropout(backbone, "model.backbone.");

        Integer dataSeqLen = isNull(at(root, "data.seq_len")) ? null : intValue(at(root, "data.seq_len"), "data.seq_len");
        LayerSpec seqCell = cell(object(root, "model.backbone.seq_cell", true), "model.backbone.seq_cell", dModel, dataSeqLen);
        LayerSpec seqCell1 = null;
        // The "sequence" backbone takes seq_cell1 as an unused keyword argument, so it is ignored there as well.
        if (backboneName.equals("sequence_interleave")) {
            seqCell1 = cell(object(root, "model.backbone.seq_cell1", true), "model.backbone.seq_cell1", dModel, dataSeqLen);
        }
        int dFfn = hiddenCell(object(root, "model.backbone.hidden_cell", true), dModel);

        JsonNode pe = object(root, "model.embedding.pe", true);
        JsonFields.rejectUnknown(pe, "model.embedding.pe.", PE_KEYS);
        String peName = text(requireIn(pe, "_name_", "model.embedding.pe."), "model.embedding.pe._name_");
        PositionEncoding encoding;
        try {
            encoding = PositionEncoding.fromRefName(peName);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("model.embedding.pe._name_: " + e.getMessage());
        }
        double ropeBase = isNull(pe.get("base")) ? 10000.0 : number(pe.get("base"), "model.embedding.pe.base");
        if (encoding != PositionEncoding.NONE) {
            for (LayerSpec c : seqCell1 == null ? List.of(seqCell) : List.of(seqCell, seqCell1)) checkPe(pe, c, dModel, encoding);
        }

        int vocab = intValue(require(root, "data.vocab_size"), "data.vocab_size");
        JsonNode embedding = object(root, "model.embedding", false);
        if (embedding != null) {
            requireNoDropout(embedding, "model.embedding.");
            expectSame(embedding.get("vocab_size"), vocab, "model.embedding.vocab_size", "data.vocab_size");
            expectSame(embedding.get("d_model"), dModel, "model.embedding.d_model", "model.backbone.d_model");
        }
        JsonNode head = object(root, "model.head", false);
        if (head != null) {
            if (!isNull(head.get("_name_"))) expect(text(head.get("_name_"), "model.head._name_"), "lm", "model.head._name_");
            expectSame(head.get("vocab_size"), vocab, "model.head.vocab_size", "data.vocab_size");
            expectSame(head.get("d_model"), dModel, "model.head.d_model", "model.backbone.d_model");
        }
        JsonNode task = object(root, "task", false);
        boolean tie = task == null ? true : optBool(task, "tie_embedding", "task.", true);

        return new ModelConfig(vocab, dModel, numLayers, dFfn, seqCell, seqCell1, interleaveStep, encoding, ropeBase, tie);
    }

    private static LayerSpec cell(JsonNode c, String key, int dModel, Integer dataSeqLen) {
        String p = key + ".";
        String name = text(requireIn(c, "_name_", p), p + "_name_");
        LayerKind kind;
        try {
            kind = LayerKind.fromRefName(name);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(p + "_name_: " + e.getMessage());
        }
        List<String> allowed = new ArrayList<>(List.of("_name_", "d_model", "bias", "ln", "init"));
        switch (kind) {
            case RAT -> allowed.addAll(List.of("d_head", "num_head", "k_channel", "chunk_size", "ngroups"));
            case ATTENTION -> allowed.addAll(List.of("d_head", "num_head", "k_channel"));
            case LOCAL_ATTENTION -> allowed.addAll(List.of("d_head", "num_head", "k_channel", "window_size"));
            case RNN -> allowed.add("seq_len");
        }
        for (Map.Entry<String, JsonNode> e : c.properties()) {
            if (!allowed.contains(e.getKey())) throw new IllegalArgumentException("unknown key '" + p + e.getKey() + "' for a " + name + " cell");
        }
        expectSame(c.get("d_model"), dModel, p + "d_model", "model.backbone.d_model");
        if (optBool(c, "bias", p, false)) throw new IllegalArgumentException(p + "bias is true; rat4j's layers have no biases");
        // RAT and the RNN hard-code RMSNorm whatever `ln` says; attention layers take theirs from `ln`.
        if (kind == LayerKind.ATTENTION || kind == LayerKind.LOCAL_ATTENTION) expect(optText(c, "ln", p, "rmsnorm"), "rmsnorm", p + "ln");
        if (kind == LayerKind.RNN) {
            Integer seqLen = isNull(c.get("seq_len")) ? dataSeqLen : Integer.valueOf(intValue(c.get("seq_len"), p + "seq_len"));
            if (seqLen == null) throw new IllegalArgumentException("missing key " + p + "seq_len (or data.seq_len)");
            return LayerSpec.rnn(seqLen);
        }
        int numHead = numHead(c, p, dModel);
        int dHead = dModel / numHead;
        if (!isNull(c.get("k_channel"))) {
            int k = intValue(c.get("k_channel"), p + "k_channel");
            if (k != dHead) throw new IllegalArgumentException(p + "k_channel " + k + " differs from the head dim " + dHead);
        }
        return switch (kind) {
            case RAT -> LayerSpec.rat(numHead, optInt(c, "chunk_size", p, 64), optInt(c, "ngroups", p, 2));
            case ATTENTION -> LayerSpec.attention(numHead);
            case LOCAL_ATTENTION -> LayerSpec.localAttention(numHead, optInt(c, "window_size", p, 1024));
            case RNN -> throw new IllegalStateException();
        };
    }

    /** num_head as given, else d_model // d_head as the YAML computes it (d_head 64 by default); checks they agree. */
    private static int numHead(JsonNode c, String p, int dModel) {
        boolean hasHeads = !isNull(c.get("num_head")), hasDHead = !isNull(c.get("d_head"));
        int dHead = hasDHead ? intValue(c.get("d_head"), p + "d_head") : 64;
        if (dHead < 1) throw new IllegalArgumentException(p + "d_head must be >= 1, got " + dHead);
        if (hasHeads) {
            int h = intValue(c.get("num_head"), p + "num_head");
            if (h < 1 || dModel % h != 0) throw new IllegalArgumentException(p + "num_head " + h + " does not divide d_model " + dModel);
            if (hasDHead && (long) h * dHead != dModel) {
                throw new IllegalArgumentException(p + "d_head " + dHead + " * num_head " + h + " is not d_model " + dModel);
            }
            return h;
        }
        if (dModel % dHead != 0) throw new IllegalArgumentException(p + "d_head " + dHead + " does not divide d_model " + dModel);
        return dModel / dHead;
    }

    private static int hiddenCell(JsonNode h, int dModel) {
        String p = "model.backbone.hidden_cell.";
        JsonFields.rejectUnknown(h, p, HIDDEN_KEYS);
        expect(optText(h, "_name_", p, "ffn"), "ffn", p + "_name_");
        expectSame(h.get("d_model"), dModel, p + "d_model", "model.backbone.d_model");
        expect(optText(h, "act_fn", p, "gelu"), "gelu", p + "act_fn");
        expect(optText(h, "ln", p, "rmsnorm"), "rmsnorm", p + "ln");
        if (optBool(h, "bias", p, false)) throw new IllegalArgumentException(p + "bias is true; rat4j's FFN has no biases");
        requireNoDropout(h, p);
        return optInt(h, "d_ffn", p, Math.multiplyExact(4, dModel));
    }

    /** pe.dim must be the head dim of the cells it rotates, pe.chunk_size the chunk of the RAT cells it indexes. */
    private static void checkPe(JsonNode pe, LayerSpec c, int dModel, PositionEncoding encoding) {
        if (c.kind() == LayerKind.RNN) return;
        if (!isNull(pe.get("dim"))) {
            int dim = intValue(pe.get("dim"), "model.embedding.pe.dim");
            if (dim != c.headDim(dModel)) {
                throw new IllegalArgumentException("model.embedding.pe.dim " + dim + " differs from the " + c.kind().refName + " cell's head dim " + c.headDim(dModel));
            }
        }
        if (c.kind() == LayerKind.RAT && encoding.hasInterRope() && !isNull(pe.get("chunk_size"))) {
            int chunk = intValue(pe.get("chunk_size"), "model.embedding.pe.chunk_size");
            if (chunk != c.chunkSize()) {
                throw new IllegalArgumentException("model.embedding.pe.chunk_size " + chunk + " differs from the rat cell's chunk_size " + c.chunkSize());
            }
        }
    }

    /**
     * Splits dotted keys into nesting, recursively, merging what lands on the same path; two different values for one
     * path are refused.
     */
    static ObjectNode normalise(JsonNode node, String prefix) {
        ObjectNode out = ConfigJson.JSON.createObjectNode();
        for (Map.Entry<String, JsonNode> e : node.properties()) {
            String[] parts = e.getKey().split("\\.", -1);
            for (String part : parts) {
                if (part.isEmpty()) throw new IllegalArgumentException("bad key '" + prefix + e.getKey() + "'");
            }
            ObjectNode at = out;
            String path = prefix;
            for (int i = 0; i < parts.length - 1; i++) {
                path += parts[i] + ".";
                JsonNode next = at.get(parts[i]);
                if (next == null) {
                    at = at.putObject(parts[i]);
                } else if (next.isObject()) {
                    at = (ObjectNode) next;
                } else {
                    throw new IllegalArgumentException("conflicting values for " + path.substring(0, path.length() - 1) + ": " + describe(next) + " and an object");
                }
            }
            String last = parts[parts.length - 1];
            JsonNode value = e.getValue().isObject() ? normalise(e.getValue(), path + last + ".") : e.getValue();
            merge(at, last, value, path + last);
        }
        return out;
    }

    private static void merge(ObjectNode into, String key, JsonNode value, String path) {
        JsonNode old = into.get(key);
        if (old == null) {
            into.set(key, value);
        } else if (old.isObject() && value.isObject()) {
            for (Map.Entry<String, JsonNode> e : value.properties()) merge((ObjectNode) old, e.getKey(), e.getValue(), path + "." + e.getKey());
        } else if (!old.equals(value)) {
            throw new IllegalArgumentException("conflicting values for " + path + ": " + describe(old) + " and " + describe(value));
        }
    }

    /** The node at a dotted path in a normalised tree, or null. */
    private static JsonNode at(JsonNode root, String path) {
        JsonNode n = root;
        for (String part : path.split("\\.")) {
            if (n == null || !n.isObject()) return null;
            n = n.get(part);
        }
        return n;
    }

    private static JsonNode require(JsonNode root, String path) {
        JsonNode v = at(root, path);
        if (isNull(v)) throw new IllegalArgumentException("missing key " + path);
        return v;
    }

    private static JsonNode requireIn(JsonNode obj, String key, String prefix) {
        JsonNode v = obj.get(key);
        if (isNull(v)) throw new IllegalArgumentException("missing key " + prefix + key);
        return v;
    }

    private static JsonNode object(JsonNode root, String path, boolean required) {
        JsonNode v = at(root, path);
        if (isNull(v)) {
            if (required) throw new IllegalArgumentException("missing key " + path);
            return null;
        }
        if (!v.isObject()) throw new IllegalArgumentException(path + " must be an object, got " + describe(v));
        return v;
    }

    private static int optInt(JsonNode obj, String key, String prefix, int fallback) {
        JsonNode v = obj.get(key);
        return isNull(v) ? fallback : intValue(v, prefix + key);
    }

    private static boolean optBool(JsonNode obj, String key, String prefix, boolean fallback) {
        JsonNode v = obj.get(key);
        return isNull(v) ? fallback : bool(v, prefix + key);
    }

    private static String optText(JsonNode obj, String key, String prefix, String fallback) {
        JsonNode v = obj.get(key);
        return isNull(v) ? fallback : text(v, prefix + key);
    }

    private static void expect(String got, String want, String key) {
        if (!got.equals(want)) throw new IllegalArgumentException(key + " is '" + got + "'; rat4j implements only '" + want + "'");
    }

    private static void expectSame(JsonNode v, int want, String key, String otherKey) {
        if (isNull(v)) return;
        int got = intValue(v, key);
        if (got != want) throw new IllegalArgumentException(key + " " + got + " differs from " + otherKey + " " + want);
    }

    private static void requireNoDropout(JsonNode obj, String prefix) {
        JsonNode v = obj.get("dropout");
        if (!isNull(v) && number(v, prefix + "dropout") != 0.0) {
            throw new IllegalArgumentException(prefix + "dropout is " + v + "; rat4j has no dropout (the paper's models use 0.0)");
        }
    }
}

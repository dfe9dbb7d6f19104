package rat4j.model.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import rat4j.model.LayerSpec;
import rat4j.model.ModelConfig;
import rat4j.model.ParameterLayout;
import rat4j.model.PositionEncoding;
import rat4j.model.Presets;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ReferenceConfigTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test void everyGoldenHydraConfigGivesTheOracleModelAndItsParameterShapes() {
        for (String c : Goldens.cases()) {
            JsonNode golden = Goldens.json(c);
            ModelConfig config = ReferenceConfig.fromTree(golden.get("official_hydra_equivalent"));
            assertEquals(Goldens.oracleConfig(c), config, c);

            Map<String, int[]> shapes = new LinkedHashMap<>();
            for (ParameterLayout.Entry e : ParameterLayout.of(config).entries()) shapes.put(e.name(), e.shape());
            if (config.tieEmbedding()) shapes.put(ParameterLayout.LM_HEAD, ParameterLayout.of(config).entry(ParameterLayout.EMBEDDING).shape());
            List<String> want = new ArrayList<>();
            golden.get("param_shapes").properties().forEach(e -> want.add(e.getKey()));
            assertEquals(want, List.copyOf(shapes.keySet()), c + ": parameter names, in the reference's state_dict order");
            for (String name : want) {
                assertArrayEquals(JSON.convertValue(golden.get("param_shapes").get(name), int[].class), shapes.get(name), c + " " + name);
            }
        }
    }

    @Test void nestedDottedAndMixedFormsAgree() throws Exception {
        JsonNode dotted = Goldens.json("interleave_rat4_local8_L4_T32").get("official_hydra_equivalent");
        ModelConfig want = ReferenceConfig.fromTree(dotted);
        ObjectNode nested = ReferenceConfig.normalise(dotted, "");
        assertTrue(nested.get("model").get("backbone").get("seq_cell1").isObject());
        assertEquals(want, ReferenceConfig.fromTree(nested));

        ObjectNode mixed = (ObjectNode) JSON.readTree("{\"model\": {\"backbone\": {\"_name_\": \"sequence_interleave\", \"num_layers\": 4}},"
                + " \"model.backbone.d_model\": 64, \"data\": {\"vocab_size\": 97}}");
        for (Map.Entry<String, JsonNode> e : dotted.properties()) {
            if (!e.getKey().equals("model.backbone.num_layers") && !e.getKey().equals("model.backbone.d_model") && !e.getKey().equals("data.vocab_size")) {
                mixed.set(e.getKey(), e.getValue());
            }
        }
        mixed.put("model.embedding.pe.base", 10000);   // also given inside model.embedding.pe: the same value merges
        assertEquals(want, ReferenceConfig.fromTree(mixed));

        mixed.put("model.backbone.num_layers", 6);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ReferenceConfig.fromTree(mixed));
        assertEquals("conflicting values for model.backbone.num_layers: 4 and 6", e.getMessage());
    }

    /** The reference's experiment configs, resolved the way Hydra resolves them, for the paper's 1.3B models. */
    private static ObjectNode resolvedXl(String backbone, ObjectNode seqCell, ObjectNode seqCell1, ObjectNode pe) {
        ObjectNode init = JSON.createObjectNode().put("_name_", "fixed").put("initializer_range", 0.02);
        ObjectNode root = JSON.createObjectNode();
        root.putObject("data").put("_name_", "fineweb_llama").put("seq_len", 4096).put("vocab_size", 32000).put("global_batch_size", 512);
        ObjectNode model = root.putObject("model");
        ObjectNode b = model.putObject("backbone").put("_name_", backbone).put("num_layers", 24).put("d_model", 2048).put("bias", false)
                .put("ln", "rmsnorm").put("dropout", 0.0);
        b.set("init", init);
        if (backbone.equals("sequence_interleave")) b.put("interleave_step", 2);
        b.set("seq_cell", seqCell);
        if (seqCell1 != null) b.set("seq_cell1", seqCell1);
        ObjectNode hidden = b.putObject("hidden_cell").put("_name_", "ffn").put("d_model", 2048).put("ln", "rmsnorm").put("d_ffn", 8192)
                .put("act_fn", "gelu").put("bias", false).put("dropout", 0.0);
        hidden.set("init", init);
        model.putObject("head").put("_name_", "lm").put("vocab_size", 32000).put("d_model", 2048).set("init", init);
        ObjectNode emb = model.putObject("embedding").put("_name_", "lm").put("vocab_size", 32000).put("seq_len", 4096).put("d_model", 2048).put("dropout", 0.0);
        emb.set("pe", pe);
        root.putObject("task").put("_name_", "lm").put("tie_embedding", true).put("ignore_index", -100);
        root.putObject("optim").putObject("optimizer").put("lr", 8.0e-4).put("weight_decay", 0.1);
        root.putObject("trainer").put("dtype", "bfloat16").put("gradient_clipping", 1.0);
        return root;
    }

    private static ObjectNode headCell(String name) {
        return JSON.createObjectNode().put("_name_", name).put("d_model", 2048).put("d_head", 128).put("num_head", 16).put("k_channel", 128)
                .put("bias", false).put("ln", "rmsnorm");
    }

    private static ObjectNode pe(String name, Integer chunk) {
        ObjectNode p = JSON.createObjectNode().put("_name_", name);
        if (!name.equals("empty")) p.put("dim", 128).put("base", 10000);
        if (name.contains("rope") && !name.equals("interrope")) p.put("max_seq_len", 4096);
        if (chunk != null) p.put("chunk_size", chunk).put("max_num_chunk", 4096 / chunk);
        return p;
    }

    @Test void thePapersResolvedConfigsGiveThePresets() {
        ObjectNode rat = headCell("rat").put("ngroups", 2).put("chunk_size", 16);
        ObjectNode local = headCell("local_attention").put("window_size", 1024);
        ObjectNode rnn = JSON.createObjectNode().put("_name_", "rnn").put("d_model", 2048).put("bias", false).put("seq_len", 4096).put("ln", "rmsnorm");
        assertEquals(Presets.get("rat-xl"), ReferenceConfig.fromTree(resolvedXl("sequence", rat, null, pe("interrope", 16))));
        assertEquals(Presets.get("attention-xl"), ReferenceConfig.fromTree(resolvedXl("sequence", headCell("attention"), null, pe("rope", null))));
        assertEquals(Presets.get("rnn-xl"), ReferenceConfig.fromTree(resolvedXl("sequence", rnn, null, pe("empty", null))));
        assertEquals(Presets.get("attention_localattention_interleave-xl"),
                ReferenceConfig.fromTree(resolvedXl("sequence_interleave", local, headCell("attention"), pe("rope", null))));
        assertEquals(Presets.get("rat_localattention_interleave-xl"),
                ReferenceConfig.fromTree(resolvedXl("sequence_interleave", local, rat, pe("rope_interrope", 16))));
    }

    @Test void absentKeysTakeTheReferenceYamlDefaults() throws Exception {
        // Only what configs/experiment/fineweb_edu/rat-xl.yaml sets, plus the cells' names: the rest comes from the YAML.
        String minimal = "{\"model\": {\"backbone\": {\"_name_\": \"sequence\", \"num_layers\": 24, \"d_model\": 2048,"
                + " \"seq_cell\": {\"_name_\": \"rat\", \"d_head\": 128, \"chunk_size\": 16}, \"hidden_cell\": {\"_name_\": \"ffn\"}},"
                + " \"embedding\": {\"pe\": {\"_name_\": \"interrope\"}}}, \"data\": {\"vocab_size\": 32000, \"seq_len\": 4096}}";
        assertEquals(Presets.get("rat-xl"), ReferenceConfig.fromJson(minimal));
        String rnn = minimal.replace("{\"_name_\": \"rat\", \"d_head\": 128, \"chunk_size\": 16}", "{\"_name_\": \"rnn\"}").replace("interrope", "empty");
        assertEquals(Presets.get("rnn-xl"), ReferenceConfig.fromJson(rnn), "an RNN's seq_len is data.seq_len");
        String noHeads = minimal.replace("\"d_head\": 128, ", "");
        ModelConfig c = ReferenceConfig.fromJson(noHeads);
        assertEquals(LayerSpec.rat(32, 16, 2), c.seqCell(), "d_head 64 by default: 2048 // 64 = 32 heads");
        ModelConfig local = ReferenceConfig.fromJson(minimal.replace("{\"_name_\": \"rat\", \"d_head\": 128, \"chunk_size\": 16}",
                "{\"_name_\": \"local_attention\", \"num_head\": 16}").replace("interrope", "rope"));
        assertEquals(LayerSpec.localAttention(16, 1024), local.seqCell());
        assertEquals(PositionEncoding.ROPE, local.pe());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ReferenceConfig.fromJson(rnn.replace(", \"seq_len\": 4096", "")));
        assertEquals("missing key model.backbone.seq_cell.seq_len (or data.seq_len)", e.getMessage());
    }

    private static String refused(String caseName, String path, Object value) {
        ObjectNode root = ReferenceConfig.normalise(Goldens.json(caseName).get("official_hydra_equivalent"), "");
        String[] parts = path.split("\\.");
        ObjectNode at = root;
        for (int i = 0; i < parts.length - 1; i++) at = (ObjectNode) at.get(parts[i]);
        if (value == null) at.remove(parts[parts.length - 1]);
        else at.set(parts[parts.length - 1], JSON.valueToTree(value));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ReferenceConfig.fromTree(root), path + " = " + value);
        return e.getMessage();
    }

    @Test void refusesWhatRat4jDoesNotComputeNamingTheKey() {
        assertEquals("model.backbone.hidden_cell.act_fn is 'silu'; rat4j implements only 'gelu'",
                refused("rat_c4_L2_T32", "model.backbone.hidden_cell.act_fn", "silu"));
        assertEquals("model.backbone.hidden_cell.ln is 'layernorm'; rat4j implements only 'rmsnorm'",
                refused("rat_c4_L2_T32", "model.backbone.hidden_cell.ln", "layernorm"));
        assertEquals("model.backbone.ln is 'layernorm'; rat4j implements only 'rmsnorm'", refused("rat_c4_L2_T32", "model.backbone.ln", "layernorm"));
        assertEquals("model.backbone.seq_cell.ln is 'layernorm'; rat4j implements only 'rmsnorm'",
                refused("attention_L2_T32", "model.backbone.seq_cell.ln", "layernorm"));
        assertTrue(refused("rat_c4_L2_T32", "model.backbone.hidden_cell.bias", true).startsWith("model.backbone.hidden_cell.bias is true"));
        assertTrue(refused("rat_c4_L2_T32", "model.backbone.bias", true).startsWith("model.backbone.bias is true"));
        assertTrue(refused("local_w8_L2_T32", "model.backbone.seq_cell.bias", true).startsWith("model.backbone.seq_cell.bias is true"));
        assertTrue(refused("rat_c4_L2_T32", "model.backbone.hidden_cell.dropout", 0.1).startsWith("model.backbone.hidden_cell.dropout is 0.1"));
        assertEquals("unknown key 'model.backbone.seq_cell.use_fast_path' for a rat cell",
                refused("rat_c4_L2_T32", "model.backbone.seq_cell.use_fast_path", true));
        assertEquals("unknown key 'model.backbone.seq_cell.window_size' for a rat cell",
                refused("rat_c4_L2_T32", "model.backbone.seq_cell.window_size", 8));
        assertEquals("unknown key 'model.backbone.hidden_cell.gate'", refused("rat_c4_L2_T32", "model.backbone.hidden_cell.gate", 1));
        assertEquals("unknown key 'model.embedding.pe.scale'", refused("rat_c4_L2_T32", "model.embedding.pe.scale", 2));
        assertEquals("model.backbone.seq_cell.d_head 32 * num_head 4 is not d_model 64", refused("rat_c4_L2_T32", "model.backbone.seq_cell.d_head", 32));
        assertEquals("model.backbone.seq_cell.num_head 3 does not divide d_model 64", refused("rat_c4_L2_T32", "model.backbone.seq_cell.num_head", 3));
        assertEquals("model.backbone.seq_cell.d_model 32 differs from model.backbone.d_model 64", refused("rat_c4_L2_T32", "model.backbone.seq_cell.d_model", 32));
        assertEquals("model.embedding.pe.dim 8 differs from the rat cell's head dim 16", refused("rat_c4_L2_T32", "model.embedding.pe.dim", 8));
        assertEquals("model.embedding.pe.chunk_size 8 differs from the rat cell's chunk_size 4", refused("rat_c4_L2_T32", "model.embedding.pe.chunk_size", 8));
        assertEquals("model.embedding.pe.dim 8 differs from the local_attention cell's head dim 16",
                refused("interleave_rat4_local8_L4_T32", "model.embedding.pe.dim", 8));
        assertEquals("missing key data.vocab_size", refused("rat_c4_L2_T32", "data.vocab_size", null));
        assertEquals("missing key model.backbone.num_layers", refused("rat_c4_L2_T32", "model.backbone.num_layers", null));
        assertEquals("missing key model.backbone.seq_cell1", refused("interleave_rat4_local8_L4_T32", "model.backbone.seq_cell1", null));
        assertEquals("model.backbone._name_ 'mamba' is not sequence or sequence_interleave", refused("rat_c4_L2_T32", "model.backbone._name_", "mamba"));
        assertTrue(refused("rat_c4_L2_T32", "model.backbone.seq_cell._name_", "mamba").startsWith("model.backbone.seq_cell._name_: unknown sequence layer 'mamba'"));
        assertTrue(refused("rat_c4_L2_T32", "model.embedding.pe._name_", "alibi").startsWith("model.embedding.pe._name_: unknown positional encoding 'alibi'"));
        assertEquals("model.backbone.num_layers must be an integer, got 2.5", refused("rat_c4_L2_T32", "model.backbone.num_layers", 2.5));
        assertEquals("task.tie_embedding must be true or false, got \"yes\"", refused("rat_c4_L2_T32", "task.tie_embedding", "yes"));
        assertEquals("unknown key 'model.backbone.norm_first'", refused("rat_c4_L2_T32", "model.backbone.norm_first", true));
        // ModelConfig's own checks come through too.
        assertTrue(refused("rat_c4_L2_T32", "model.embedding.pe._name_", "rope").contains("no inter-chunk RoPE"));
    }

    @Test void ignoresUnrelatedKeysAndReadsFiles(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        ObjectNode root = (ObjectNode) Goldens.json("rnn_L2_T32").get("official_hydra_equivalent").deepCopy();
        root.put("optim.optimizer.lr", 1e-3).put("trainer.max_epoch", 1).put("wandb.mode", "offline");
        root.putObject("hydra").put("run", "x");
        assertEquals(Goldens.oracleConfig("rnn_L2_T32"), ReferenceConfig.fromTree(root));
        Path f = dir.resolve("c.json");
        Files.writeString(f, root.toString());
        assertEquals(Goldens.oracleConfig("rnn_L2_T32"), ReferenceConfig.read(f));
        Files.writeString(f, "{\"model\": ");
        FormatException e = assertThrows(FormatException.class, () -> ReferenceConfig.read(f));
        assertTrue(e.getMessage().startsWith(f + ": not valid JSON"), e.getMessage());
        Files.writeString(f, "{\"model\": {\"backbone\": 3}}");
        e = assertThrows(FormatException.class, () -> ReferenceConfig.read(f));
        assertEquals(f + ": model.backbone must be an object, got 3", e.getMessage());
    }
}

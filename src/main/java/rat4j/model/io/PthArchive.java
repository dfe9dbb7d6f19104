package rat4j.model.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import rat4j.model.io.Safetensors.DType;
import rat4j.model.io.pickle.Global;
import rat4j.model.io.pickle.PickleDict;
import rat4j.model.io.pickle.PickleException;
import rat4j.model.io.pickle.PickleTuple;
import rat4j.model.io.pickle.Unpickler;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;

/**
 * A PyTorch checkpoint written by torch.save (the zip format of PyTorch >= 1.6), read without Python and without
 * running anything from it: one top-level folder holding {@code data.pkl} (a pickle) and {@code data/<key>} (the raw
 * little-endian bytes of each storage), plus {@code version} and, in newer files, {@code byteorder}.
 *
 * <p>{@code data.pkl} goes through the strict {@link Unpickler}, which resolves only these globals: the dict types
 * collections.OrderedDict and easydict.EasyDict, torch._utils._rebuild_tensor_v2 and _rebuild_parameter (which here
 * build a {@link Tensor} description, nothing more) and the storage types torch.{Float,BFloat16,Half,Double,Long,Int}Storage
 * (dtype markers inside the persistent id {@code ('storage', type, key, location, numel)}). Any other global, such as
 * the posix.system of a malicious file, is refused when the pickle names it.
 *
 * <p>The reference (CLAIRE-Labo/RAT, src/trainer/trainer.py save_checkpoint) saves a dict: {@code task} (the
 * state_dict), {@code config} (an EasyDict of its resolved Hydra config), {@code step}, {@code optimizer},
 * {@code lr_scheduler}, {@code resume_kwargs}. {@link #stateDict()} and {@link #config()} read the first two.
 * Tensor data is read only when asked for, streamed from the archive.
 */
public final class PthArchive implements AutoCloseable {
    /** The pickle of a checkpoint describes tensors, it does not hold them: even a 1.3B model's is well under 1 MB. */
    static final long MAX_PICKLE_BYTES = 256L << 20;
    private static final int CHUNK_BYTES = 1 << 20;
    private static final int MAX_CONFIG_DEPTH = 64;
    private static final Pattern STORAGE_KEY = Pattern.compile("[A-Za-z0-9_]+");

    private static final Map<String, DType> STORAGE_TYPES = Map.of(
            "torch.FloatStorage", DType.F32, "torch.BFloat16Storage", DType.BF16, "torch.HalfStorage", DType.F16,
            "torch.DoubleStorage", DType.F64, "torch.LongStorage", DType.I64, "torch.IntStorage", DType.I32);

    /** The globals a checkpoint may name: data constructors and dtype markers, nothing that runs code. */
    private static final List<Global> GLOBALS = globals();

    /** One storage: {@code numel} elements of {@code dtype} in the archive entry {@code data/<key>}. */
    public record Storage(String key, DType dtype, String location, long numel) {}

    /**
     * A tensor as torch rebuilds it: a view into a storage, {@code storageOffset}, {@code shape} and {@code stride}
     * counted in elements. Several tensors may share a storage (the reference's tied LM head shares the embedding's).
     */
    public record Tensor(Storage storage, long storageOffset, int[] shape, long[] stride) {
        public Tensor {
            shape = shape.clone();
            stride = stride.clone();
        }

        @Override public int[] shape() { return shape.clone(); }

        @Override public long[] stride() { return stride.clone(); }

        public DType dtype() { return storage.dtype(); }

        /** Number of elements (1 for a scalar). */
        public long numel() {
            long n = 1;
            for (int d : shape) n = Math.multiplyExact(n, (long) d);
            return n;
        }

        /** Row-major without gaps (torch's is_contiguous: strides of size-1 dimensions do not matter). */
        public boolean isContiguous() {
            long expected = 1;
            for (int i = shape.length - 1; i >= 0; i--) {
                if (shape[i] == 0) return true;
                if (shape[i] != 1 && stride[i] != expected) return false;
                expected *= shape[i];
            }
            return true;
        }

        public String shapeString() { return Arrays.toString(shape); }

        @Override public String toString() {
            return "Tensor(" + storage.dtype() + " " + shapeString() + ", storage " + storage.key() + ")";
        }
    }

    private final Path path;
    private final ZipFile zip;
    private final String prefix;   // "NAME/", the archive's top-level folder
    private final Map<String, Storage> storages = new HashMap<>();
    private final Object root;

    private PthArchive(Path path, ZipFile zip) throws IOException {
        this.path = path;
        this.zip = zip;
        this.prefix = findPrefix();
        ZipEntry byteorder = zip.getEntry(prefix + "byteorder");
        if (byteorder != null) {
            String order = new String(readEntry(byteorder, 16), StandardCharsets.US_ASCII).strip();
            if (!order.equals("little")) throw new FormatException(path + ": byteorder is '" + order + "'; only little-endian checkpoints are read");
        }
        ZipEntry pkl = zip.getEntry(prefix + "data.pkl");
        if (pkl.getSize() > MAX_PICKLE_BYTES) throw new FormatException(path + ": " + pkl.getName() + " of " + pkl.getSize() + " bytes exceeds " + MAX_PICKLE_BYTES);
        byte[] pickle = readEntry(pkl, MAX_PICKLE_BYTES);
        try {
            this.root = Unpickler.load(pickle, GLOBALS, this::storage);
        } catch (PickleException e) {
            throw new FormatException(path + ": " + e.getMessage());
        }
    }

    /** Opens a checkpoint and unpickles its data.pkl; tensor data stays in the file until read. */
    public static PthArchive open(Path path) throws IOException {
        if (Files.isDirectory(path)) throw new FormatException(path + ": is a directory, not a torch.save checkpoint");
        if (!Files.exists(path)) throw new NoSuchFileException(path.toString());
        ZipFile zip;
        try {
            zip = new ZipFile(path.toFile());
        } catch (ZipException e) {
            throw new FormatException(path + ": not a zip archive (truncated, or not written by torch.save of PyTorch >= 1.6): " + e.getMessage());
        }
        try {
            return new PthArchive(path, zip);
        } catch (IOException | RuntimeException e) {
            zip.close();
            throw e;
        }
    }

    private String findPrefix() throws FormatException {
        List<String> found = new ArrayList<>();
        Enumeration<? extends ZipEntry> entries = zip.entries();
        while (entries.hasMoreElements()) {
            String n = entries.nextElement().getName();
            int slash = n.indexOf('/');
            if (slash > 0 && n.indexOf('/', slash + 1) < 0 && n.substring(slash + 1).equals("data.pkl")) found.add(n.substring(0, slash + 1));
        }
        if (found.isEmpty()) throw new FormatException(path + ": no FOLDER/data.pkl in the archive (not a torch.save checkpoint)");
        if (found.size() > 1) throw new FormatException(path + ": several data.pkl records (" + String.join(", ", found) + "); a torch.save archive has one");
        return found.getFirst();
    }

    public Path path() { return path; }

    /** The unpickled data.pkl: PickleDict, PickleTuple, List, String, Long, ..., {@link Tensor}. */
    public Object root() { return root; }

    /**
     * The state_dict: the {@code task} entry of the reference's checkpoints, or the whole pickle when that is a dict of
     * tensors (torch.save(model.state_dict())). Names are as in the file (possibly prefixed {@code _orig_mod.}); every
     * tensor is checked to lie inside its storage.
     */
    public Map<String, Tensor> stateDict() throws FormatException {
        if (!(root instanceof PickleDict top)) throw new FormatException(path + ": holds a " + Unpickler.typeName(root) + ", not a dict with a state_dict");
        PickleDict sd;
        String where;
        if (top.get("task") instanceof PickleDict task) {
            sd = task;
            where = "task";
        } else if (top.size() > 0 && top.items().values().stream().allMatch(v -> v instanceof Tensor)) {
            sd = top;
            where = "the state_dict";
        } else {
            throw new FormatException(path + ": no state_dict: neither a 'task' dict (the reference's checkpoints) nor a dict of tensors; keys "
                    + Unpickler.repr(new ArrayList<>(top.items().keySet())));
        }
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (Map.Entry<Object, Object> e : sd.items().entrySet()) {
            if (!(e.getKey() instanceof String name)) throw new FormatException(path + ": " + where + " has a key of type " + Unpickler.typeName(e.getKey()));
            if (!(e.getValue() instanceof Tensor t)) {
                throw new FormatException(path + ": " + where + " entry " + name + " is a " + Unpickler.typeName(e.getValue()) + ", not a tensor");
            }
            checkBounds(name, t);
            out.put(name, t);
        }
        return Collections.unmodifiableMap(out);
    }

    /** The {@code config} entry as a JSON tree (dicts to objects, tuples and lists to arrays), or null when absent. */
    public JsonNode config() throws FormatException {
        if (!(root instanceof PickleDict top) || !top.containsKey("config")) return null;
        return toJson(top.get("config"), "config", 0);
    }

    private JsonNode toJson(Object v, String where, int depth) throws FormatException {
        if (depth > MAX_CONFIG_DEPTH) throw new FormatException(path + ": " + where + " nests deeper than " + MAX_CONFIG_DEPTH + " levels (or contains itself)");
        JsonNodeFactory f = JsonNodeFactory.instance;
        switch (v) {
            case null -> { return f.nullNode(); }
            case Boolean b -> { return f.booleanNode(b); }
            case Long l -> { return f.numberNode(l); }
            case BigInteger b -> { return f.numberNode(b); }
            case Double d -> { return f.numberNode(d); }
            case String s -> { return f.textNode(s); }
            case PickleDict d -> {
                ObjectNode o = f.objectNode();
                for (Map.Entry<Object, Object> e : d.items().entrySet()) {
                    if (!(e.getKey() instanceof String k)) throw new FormatException(path + ": " + where + " has a key of type " + Unpickler.typeName(e.getKey()));
                    o.set(k, toJson(e.getValue(), where + "." + k, depth + 1));
                }
                return o;
            }
            case PickleTuple t -> { return array(t.items(), where, depth); }
            case List<?> l -> { return array(l, where, depth); }
            default -> throw new FormatException(path + ": " + where + " is a " + Unpickler.typeName(v) + "; a config holds plain data only");
        }
    }

    private ArrayNode array(List<?> items, String where, int depth) throws FormatException {
        ArrayNode a = JsonNodeFactory.instance.arrayNode();
        for (int i = 0; i < items.size(); i++) a.add(toJson(items.get(i), where + "[" + i + "]", depth + 1));
        return a;
    }

    /** A new array with the values of {@code t} (F32, BF16 or F16), converted to float; {@code name} names it in messages. */
    public float[] readFloats(String name, Tensor t) throws IOException {
        long n = t.numel();
        if (n > Integer.MAX_VALUE - 8) throw new FormatException(path + ": tensor " + name + " of " + n + " elements does not fit one Java array");
        float[] dst = new float[(int) n];
        readFloats(name, t, dst, 0);
        return dst;
    }

    /**
     * Copies the values of {@code t} (F32, BF16 or F16) in row-major order into {@code dst[offset ..]}. Contiguous
     * tensors are streamed from the archive in chunks; strided ones are gathered from the span of storage they cover.
     */
    public void readFloats(String name, Tensor t, float[] dst, int offset) throws IOException {
        DType dt = t.dtype();
        if (dt != DType.F32 && dt != DType.BF16 && dt != DType.F16) {
            throw new FormatException(path + ": tensor " + name + " has dtype " + dt + "; reading it as float needs F32, BF16 or F16");
        }
        checkBounds(name, t);
        long n = t.numel();
        if (offset < 0 || offset + n > dst.length) throw new IllegalArgumentException("tensor " + name + " of " + n + " values does not fit at " + offset + " in " + dst.length);
        if (n == 0) return;
        ZipEntry e = zip.getEntry(prefix + "data/" + t.storage().key());
        int es = dt.bytes;
        try (InputStream in = zip.getInputStream(e)) {
            in.skipNBytes(t.storageOffset() * es);
            if (t.isContiguous()) {
                byte[] buf = new byte[CHUNK_BYTES];
                ByteBuffer bb = ByteBuffer.wrap(buf).order(ByteOrder.LITTLE_ENDIAN);
                for (long done = 0; done < n; ) {
                    int k = (int) Math.min(n - done, CHUNK_BYTES / es);
                    if (in.readNBytes(buf, 0, k * es) != k * es) throw new EOFException();
                    convert(dt, bb, 0, k, dst, offset + (int) done);
                    done += k;
                }
            } else {
                long span = (lastIndex(t) - t.storageOffset() + 1) * es;
                if (span > Integer.MAX_VALUE - 8) throw new FormatException(path + ": strided tensor " + name + " spans " + span + " bytes of storage, more than one Java array");
                byte[] buf = in.readNBytes((int) span);
                if (buf.length != span) throw new EOFException();
                gather(t, ByteBuffer.wrap(buf).order(ByteOrder.LITTLE_ENDIAN), dst, offset);
            }
        } catch (EOFException ex) {
            throw new FormatException(path + ": entry " + e.getName() + " ends before the data of tensor " + name + " (truncated archive?)");
        } catch (ZipException ex) {
            throw new FormatException(path + ": entry " + e.getName() + " of tensor " + name + " is corrupt: " + ex.getMessage());
        }
    }

    private static void convert(DType dt, ByteBuffer bb, int byteAt, int k, float[] dst, int off) {
        switch (dt) {
            case F32 -> bb.slice(byteAt, 4 * k).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(dst, off, k);
            case BF16 -> { for (int i = 0; i < k; i++) dst[off + i] = Safetensors.bf16ToFloat(bb.getShort(byteAt + 2 * i)); }
            case F16 -> { for (int i = 0; i < k; i++) dst[off + i] = Float.float16ToFloat(bb.getShort(byteAt + 2 * i)); }
            default -> throw new IllegalStateException("no float conversion for " + dt);
        }
    }

    /** Row-major walk over the shape; {@code span} holds storage elements from the tensor's offset on. */
    private static void gather(Tensor t, ByteBuffer span, float[] dst, int off) {
        int[] shape = t.shape;
        long[] stride = t.stride;
        int rank = shape.length;
        int[] idx = new int[rank];
        long src = 0;   // element index into span
        int es = t.dtype().bytes;
        long n = t.numel();
        for (long i = 0; i < n; i++) {
            convert(t.dtype(), span, (int) (src * es), 1, dst, off + (int) i);
            for (int d = rank - 1; d >= 0; d--) {
                if (++idx[d] < shape[d]) {
                    src += stride[d];
                    break;
                }
                src -= (long) (shape[d] - 1) * stride[d];
                idx[d] = 0;
            }
        }
    }

    /** The storage element of the tensor's last value; the tensor must not be empty. */
    private static long lastIndex(Tensor t) {
        long last = t.storageOffset();
        for (int i = 0; i < t.shape.length; i++) last = Math.addExact(last, Math.multiplyExact((long) t.shape[i] - 1, t.stride[i]));
        return last;
    }

    private void checkBounds(String name, Tensor t) throws FormatException {
        try {
            if (t.numel() == 0) return;
            long last = lastIndex(t);
            if (last >= t.storage().numel()) {
                throw new FormatException(path + ": tensor " + name + " of shape " + t.shapeString() + " (storage offset " + t.storageOffset() + ", stride "
                        + Arrays.toString(t.stride) + ") reaches element " + last + " of storage " + t.storage().key() + ", which holds " + t.storage().numel());
            }
        } catch (ArithmeticException e) {
            throw new FormatException(path + ": tensor " + name + " of shape " + t.shapeString() + " overflows its index arithmetic");
        }
    }

    /** The persistent id of a storage: ('storage', torch.FloatStorage, key, location, numel). */
    private Storage storage(Object pid) throws PickleException {
        if (!(pid instanceof PickleTuple t) || t.size() != 5 || !"storage".equals(t.get(0))) {
            throw new PickleException("persistent id " + Unpickler.repr(pid) + " is not ('storage', type, key, location, numel)");
        }
        if (!(t.get(1) instanceof Global g) || !STORAGE_TYPES.containsKey(g.name())) {
            throw new PickleException("persistent id " + Unpickler.repr(pid) + ": " + Unpickler.typeName(t.get(1)) + " is not a known torch storage type");
        }
        if (!(t.get(2) instanceof String key) || !STORAGE_KEY.matcher(key).matches()) throw new PickleException("persistent id " + Unpickler.repr(pid) + ": bad storage key");
        if (!(t.get(3) instanceof String location)) throw new PickleException("persistent id " + Unpickler.repr(pid) + ": location is not a string");
        if (!(t.get(4) instanceof Long numel) || numel < 0) throw new PickleException("persistent id " + Unpickler.repr(pid) + ": numel is not a non-negative int");
        Storage s = new Storage(key, STORAGE_TYPES.get(g.name()), location, numel);
        Storage before = storages.putIfAbsent(key, s);
        if (before != null) {
            if (before.dtype() != s.dtype() || before.numel() != s.numel()) {
                throw new PickleException("storage " + key + " is described twice: " + before.numel() + " " + before.dtype() + " and " + s.numel() + " " + s.dtype());
            }
            return before;
        }
        String entryName = prefix + "data/" + key;
        ZipEntry e = zip.getEntry(entryName);
        if (e == null) throw new PickleException("storage " + key + " is missing (no entry " + entryName + ")");
        long bytes;
        try {
            bytes = Math.multiplyExact(numel, (long) s.dtype().bytes);
        } catch (ArithmeticException ex) {
            throw new PickleException("storage " + key + " of " + numel + " elements overflows");
        }
        if (e.getSize() != bytes) {
            throw new PickleException("storage " + key + ": entry " + entryName + " holds " + e.getSize() + " bytes, its id says " + numel + " " + s.dtype()
                    + " elements (" + bytes + " bytes)");
        }
        return s;
    }

    private byte[] readEntry(ZipEntry e, long limit) throws FormatException {
        try (InputStream in = zip.getInputStream(e)) {
            byte[] b = in.readNBytes((int) Math.min(limit, Integer.MAX_VALUE - 8));
            if (in.read() >= 0) throw new FormatException(path + ": entry " + e.getName() + " exceeds " + limit + " bytes");
            if (e.getSize() >= 0 && b.length != e.getSize()) throw new FormatException(path + ": entry " + e.getName() + " holds " + b.length + " bytes, its header says " + e.getSize());
            return b;
        } catch (FormatException ex) {
            throw ex;
        } catch (IOException ex) {
            throw new FormatException(path + ": entry " + e.getName() + " is unreadable: " + ex.getMessage());
        }
    }

    private static List<Global> globals() {
        List<Global> g = new ArrayList<>();
        g.add(Global.dictClass("collections.OrderedDict"));
        g.add(Global.dictClass("easydict.EasyDict"));
        g.add(Global.function("torch._utils._rebuild_tensor_v2", PthArchive::rebuildTensor));
        g.add(Global.function("torch._utils._rebuild_parameter", PthArchive::rebuildParameter));
        for (String s : STORAGE_TYPES.keySet()) g.add(Global.marker(s));
        return List.copyOf(g);
    }

    /** torch._utils._rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata]). */
    private static Tensor rebuildTensor(PickleTuple a) throws PickleException {
        String f = "torch._utils._rebuild_tensor_v2";
        if (a.size() != 6 && a.size() != 7) throw new PickleException(f + " takes 6 or 7 arguments, got " + a.size());
        if (!(a.get(0) instanceof Storage storage)) throw new PickleException(f + ": storage is a " + Unpickler.typeName(a.get(0)) + ", not a persistent storage id");
        if (!(a.get(1) instanceof Long offset) || offset < 0) throw new PickleException(f + ": storage_offset " + Unpickler.repr(a.get(1)) + " is not a non-negative int");
        long[] size = longs(a.get(2), f + ": size");
        long[] stride = longs(a.get(3), f + ": stride");
        if (size.length != stride.length) throw new PickleException(f + ": size " + Unpickler.repr(a.get(2)) + " and stride " + Unpickler.repr(a.get(3)) + " differ in length");
        if (!(a.get(4) instanceof Boolean)) throw new PickleException(f + ": requires_grad is a " + Unpickler.typeName(a.get(4)) + ", not a bool");
        if (!(a.get(5) instanceof PickleDict hooks) || hooks.size() != 0) throw new PickleException(f + ": backward_hooks must be an empty dict, got " + Unpickler.repr(a.get(5)));
        if (a.size() == 7 && a.get(6) != null && !(a.get(6) instanceof PickleDict m && m.size() == 0)) {
            throw new PickleException(f + ": tensor metadata " + Unpickler.repr(a.get(6)) + " is not supported");
        }
        int[] shape = new int[size.length];
        for (int i = 0; i < size.length; i++) {
            if (size[i] > Integer.MAX_VALUE) throw new PickleException(f + ": dimension " + size[i] + " of size " + Unpickler.repr(a.get(2)) + " is too large");
            shape[i] = (int) size[i];
        }
        return new Tensor(storage, offset, shape, stride);
    }

    /** torch._utils._rebuild_parameter(data, requires_grad, backward_hooks): the parameter's data tensor. */
    private static Tensor rebuildParameter(PickleTuple a) throws PickleException {
        String f = "torch._utils._rebuild_parameter";
        if (a.size() != 3) throw new PickleException(f + " takes 3 arguments, got " + a.size());
        if (!(a.get(0) instanceof Tensor t)) throw new PickleException(f + ": data is a " + Unpickler.typeName(a.get(0)) + ", not a tensor");
        if (!(a.get(1) instanceof Boolean)) throw new PickleException(f + ": requires_grad is a " + Unpickler.typeName(a.get(1)) + ", not a bool");
        if (!(a.get(2) instanceof PickleDict hooks) || hooks.size() != 0) throw new PickleException(f + ": backward_hooks must be an empty dict, got " + Unpickler.repr(a.get(2)));
        return t;
    }

    private static long[] longs(Object o, String what) throws PickleException {
        if (!(o instanceof PickleTuple t)) throw new PickleException(what + " is a " + Unpickler.typeName(o) + ", not a tuple of ints");
        long[] v = new long[t.size()];
        for (int i = 0; i < v.length; i++) {
            if (!(t.get(i) instanceof Long l) || l < 0) throw new PickleException(what + " " + Unpickler.repr(t) + " holds " + Unpickler.repr(t.get(i)) + ", not a non-negative int");
            v[i] = l;
        }
        return v;
    }

    @Override public void close() throws IOException {
        zip.close();
    }
}

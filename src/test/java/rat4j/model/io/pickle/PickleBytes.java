package rat4j.model.io.pickle;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;

/** Writes small pickles opcode by opcode (protocol 2, as torch.save), for tests of readers that must refuse or accept them. */
public final class PickleBytes {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    public static PickleBytes proto2() {
        PickleBytes p = new PickleBytes();
        return p.op(0x80).op(2);
    }

    public static byte[] hex(String hex) {
        return HexFormat.of().parseHex(hex);
    }

    public PickleBytes op(int... bytes) {
        for (int b : bytes) out.write(b);
        return this;
    }

    public PickleBytes mark() { return op('('); }

    public PickleBytes emptyDict() { return op('}'); }

    public PickleBytes emptyTuple() { return op(')'); }

    public PickleBytes emptyList() { return op(']'); }

    public PickleBytes tuple() { return op('t'); }

    public PickleBytes setItem() { return op('s'); }

    public PickleBytes setItems() { return op('u'); }

    public PickleBytes reduce() { return op('R'); }

    public PickleBytes binPersId() { return op('Q'); }

    public PickleBytes none() { return op('N'); }

    public PickleBytes bool(boolean b) { return op(b ? 0x88 : 0x89); }

    public PickleBytes stop() { return op('.'); }

    /** BININT (4 bytes, signed). */
    public PickleBytes integer(int v) {
        op('J');
        byte[] b = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array();
        out.writeBytes(b);
        return this;
    }

    /** BINUNICODE. */
    public PickleBytes str(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        op('X');
        out.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(b.length).array());
        out.writeBytes(b);
        return this;
    }

    /** GLOBAL 'module name'. */
    public PickleBytes global(String module, String name) {
        op('c');
        out.writeBytes((module + "\n" + name + "\n").getBytes(StandardCharsets.UTF_8));
        return this;
    }

    /** A tuple of ints (MARK ... TUPLE). */
    public PickleBytes ints(long... v) {
        mark();
        for (long x : v) integer(Math.toIntExact(x));
        return tuple();
    }

    /**
     * torch._utils._rebuild_tensor_v2(('storage', torch.TYPE, key, 'cpu', numel), offset, size, stride, False,
     * OrderedDict()), as torch.save writes a tensor.
     */
    public PickleBytes tensor(String storageType, String key, long numel, long offset, long[] size, long[] stride) {
        global("torch._utils", "_rebuild_tensor_v2").mark();
        mark().str("storage").global("torch", storageType).str(key).str("cpu").integer(Math.toIntExact(numel)).tuple().binPersId();
        integer(Math.toIntExact(offset)).ints(size).ints(stride).bool(false);
        global("collections", "OrderedDict").emptyTuple().reduce();
        return tuple().reduce();
    }

    public byte[] bytes() {
        return out.toByteArray();
    }
}

package rat4j.model.io.pickle;

import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A strict pickle reader (the format of Python's pickle module, protocols 2 to 5): a stack machine that interprets only
 * the opcodes that build plain data (None, bools, ints, floats, str, bytes, tuples, lists, dicts, the memo), plus
 * REDUCE / NEWOBJ / BUILD / BINPERSID on the globals and persistent ids its caller allows. A global that is not on the
 * caller's list is refused when the pickle names it, before anything could use it; nothing is ever executed.
 *
 * <p>Values: None is null, bool Boolean, int Long (BigInteger beyond 64 bits), float Double, str String, bytes byte[],
 * tuple {@link PickleTuple}, list ArrayList, dict {@link PickleDict}, a global {@link Global}; what the caller's
 * constructors and persistent loader return stands for itself.
 *
 * <p>Opcodes outside that set (the text-mode opcodes of protocols 0 and 1, INST/OBJ, the extension registry, sets,
 * out-of-band buffers) are refused naming the opcode and its byte offset. So are an underflowing stack, a missing memo
 * entry, a truncated pickle, and anything after STOP.
 */
public final class Unpickler {
    public static final int HIGHEST_PROTOCOL = 5;
    private static final int MAX_KEY_DEPTH = 32;

    /** Resolves a persistent id (BINPERSID), e.g. torch's ('storage', type, key, location, numel). */
    @FunctionalInterface
    public interface PersistentLoader {
        Object load(Object pid) throws PickleException;
    }

    private final byte[] in;
    private final Map<String, Global> globals;
    private final PersistentLoader persistent;
    private final ArrayList<Object> stack = new ArrayList<>();
    private final ArrayList<Integer> marks = new ArrayList<>();   // stack sizes at each open MARK
    private final HashMap<Long, Object> memo = new HashMap<>();
    private int pos;
    private int opAt;   // offset of the opcode being run, for messages

    private Unpickler(byte[] in, Map<String, Global> globals, PersistentLoader persistent) {
        this.in = in;
        this.globals = globals;
        this.persistent = persistent;
    }

    /**
     * Unpickles {@code pickle}, which must be exactly one pickle (nothing after STOP).
     *
     * @param globals    the only globals the pickle may name
     * @param persistent resolves BINPERSID; null refuses persistent ids
     */
    public static Object load(byte[] pickle, Collection<Global> globals, PersistentLoader persistent) throws PickleException {
        Map<String, Global> byName = new HashMap<>();
        for (Global g : globals) {
            if (byName.put(g.name(), g) != null) throw new IllegalArgumentException("global " + g.name() + " listed twice");
        }
        return new Unpickler(pickle, byName, persistent).run();
    }

    // Opcodes (Python's Lib/pickle.py names).
    private static final int MARK = '(', STOP = '.', POP = '0', POP_MARK = '1', DUP = '2', BININT = 'J', BININT1 = 'K',
            BININT2 = 'M', NONE = 'N', BINPERSID = 'Q', REDUCE = 'R', BINUNICODE = 'X', BINBYTES = 'B', SHORT_BINBYTES = 'C',
            EMPTY_LIST = ']', APPEND = 'a', BUILD = 'b', GLOBAL = 'c', DICT = 'd', EMPTY_DICT = '}', APPENDS = 'e',
            BINGET = 'h', LONG_BINGET = 'j', LIST = 'l', BINPUT = 'q', LONG_BINPUT = 'r', SETITEM = 's', TUPLE = 't',
            EMPTY_TUPLE = ')', SETITEMS = 'u', BINFLOAT = 'G', PROTO = 0x80, NEWOBJ = 0x81, TUPLE1 = 0x85, TUPLE2 = 0x86,
            TUPLE3 = 0x87, NEWTRUE = 0x88, NEWFALSE = 0x89, LONG1 = 0x8a, LONG4 = 0x8b, SHORT_BINUNICODE = 0x8c,
            BINUNICODE8 = 0x8d, BINBYTES8 = 0x8e, NEWOBJ_EX = 0x92, STACK_GLOBAL = 0x93, MEMOIZE = 0x94, FRAME = 0x95;

    /** Pickle opcodes this reader knows and refuses, so the message can name them. */
    private static final Map<Integer, String> REFUSED = Map.ofEntries(
            Map.entry((int) 'F', "FLOAT"), Map.entry((int) 'I', "INT"), Map.entry((int) 'L', "LONG"), Map.entry((int) 'P', "PERSID"),
            Map.entry((int) 'S', "STRING"), Map.entry((int) 'T', "BINSTRING"), Map.entry((int) 'U', "SHORT_BINSTRING"),
            Map.entry((int) 'V', "UNICODE"), Map.entry((int) 'g', "GET"), Map.entry((int) 'i', "INST"), Map.entry((int) 'o', "OBJ"),
            Map.entry((int) 'p', "PUT"), Map.entry(0x82, "EXT1"), Map.entry(0x83, "EXT2"), Map.entry(0x84, "EXT4"),
            Map.entry(0x8f, "EMPTY_SET"), Map.entry(0x90, "ADDITEMS"), Map.entry(0x91, "FROZENSET"), Map.entry(0x96, "BYTEARRAY8"),
            Map.entry(0x97, "NEXT_BUFFER"), Map.entry(0x98, "READONLY_BUFFER"));

    private Object run() throws PickleException {
        while (true) {
            opAt = pos;
            if (pos >= in.length) throw new PickleException("pickle truncated: ends at byte " + pos + " before STOP");
            int op = in[pos++] & 0xff;
            switch (op) {
                case PROTO -> {
                    int p = u8();
                    if (p > HIGHEST_PROTOCOL) throw error("pickle protocol " + p + " is newer than " + HIGHEST_PROTOCOL);
                }
                case FRAME -> {
                    long n = i64();
                    if (n < 0 || n > in.length - pos) throw error("frame of " + n + " bytes goes beyond the pickle's " + in.length + " (truncated?)");
                }
                case STOP -> {
                    Object result = pop();
                    if (!marks.isEmpty() || !stack.isEmpty()) throw error("STOP with " + (stack.size() + marks.size()) + " items and marks left on the stack");
                    if (pos != in.length) throw error((in.length - pos) + " bytes after STOP");
                    return result;
                }
                case MARK -> marks.add(stack.size());
                case POP -> {
                    if (stack.size() > base()) {
                        stack.removeLast();
                    } else {
                        popMark();
                    }
                }
                case POP_MARK -> popMark();
                case DUP -> push(top());
                case NONE -> push(null);
                case NEWTRUE -> push(Boolean.TRUE);
                case NEWFALSE -> push(Boolean.FALSE);
                case BININT -> push((long) i32());
                case BININT1 -> push((long) u8());
                case BININT2 -> push((long) (u8() | u8() << 8));
                case LONG1 -> push(longOf(bytes(u8())));
                case LONG4 -> push(longOf(bytes(length(i32()))));
                case BINFLOAT -> push(ByteBuffer.wrap(bytes(8)).order(ByteOrder.BIG_ENDIAN).getDouble());
                case SHORT_BINUNICODE -> push(utf8(bytes(u8())));
                case BINUNICODE -> push(utf8(bytes(length(u32()))));
                case BINUNICODE8 -> push(utf8(bytes(length(i64()))));
                case SHORT_BINBYTES -> push(bytes(u8()));
                case BINBYTES -> push(bytes(length(u32())));
                case BINBYTES8 -> push(bytes(length(i64())));
                case EMPTY_TUPLE -> push(new PickleTuple(List.of()));
                case TUPLE1 -> push(popTuple(1));
                case TUPLE2 -> push(popTuple(2));
                case TUPLE3 -> push(popTuple(3));
                case TUPLE -> push(new PickleTuple(popMark()));
                case EMPTY_LIST -> push(new ArrayList<>());
                case LIST -> push(new ArrayList<>(popMark()));
                case EMPTY_DICT -> push(new PickleDict(PickleDict.PLAIN));
                case DICT -> {
                    List<Object> kv = popMark();
                    PickleDict d = new PickleDict(PickleDict.PLAIN);
                    setItems(d, kv);
                    push(d);
                }
                case APPEND -> {
                    Object v = pop();
                    list(top()).add(v);
                }
                case APPENDS -> {
                    List<Object> items = popMark();
                    list(top()).addAll(items);
                }
                case SETITEM -> {
                    Object v = pop(), k = pop();
                    setItems(dict(top()), pair(k, v));
                }
                case SETITEMS -> {
                    List<Object> kv = popMark();
                    setItems(dict(top()), kv);
                }
                case BINPUT -> memo.put((long) u8(), top());
                case LONG_BINPUT -> memo.put(u32(), top());
                case MEMOIZE -> memo.put((long) memo.size(), top());
                case BINGET -> push(memoGet(u8()));
                case LONG_BINGET -> push(memoGet(u32()));
                case GLOBAL -> push(global(line(), line()));
                case STACK_GLOBAL -> {
                    Object name = pop(), module = pop();
                    if (!(module instanceof String m) || !(name instanceof String n)) {
                        throw error("STACK_GLOBAL needs two strings, got " + typeName(module) + " and " + typeName(name));
                    }
                    push(global(m, n));
                }
                case REDUCE -> {
                    PickleTuple args = tuple(pop(), "arguments");
                    Global g = callee(pop());
                    if (g.reduce() == null) throw error("pickle calls " + g.name() + ", which it may only name");
                    push(g.reduce().apply(args));
                }
                case NEWOBJ -> {
                    PickleTuple args = tuple(pop(), "arguments");
                    Global g = callee(pop());
                    push(newObject(g, args));
                }
                case NEWOBJ_EX -> {
                    Object kwargs = pop();
                    PickleTuple args = tuple(pop(), "arguments");
                    Global g = callee(pop());
                    if (!(kwargs instanceof PickleDict kw) || kw.size() != 0) throw error(g.name() + " built with keyword arguments " + repr(kwargs));
                    push(newObject(g, args));
                }
                case BUILD -> {
                    Object state = pop();
                    build(top(), state);
                }
                case BINPERSID -> {
                    Object pid = pop();
                    if (persistent == null) throw error("pickle refers to persistent id " + repr(pid) + " but none are expected");
                    push(persistent.load(pid));
                }
                default -> {
                    String known = REFUSED.get(op);
                    if (known != null) throw error("pickle opcode " + known + " is not supported (only plain data is loaded)");
                    throw error("unknown pickle opcode 0x" + String.format("%02x", op));
                }
            }
        }
    }

    private PickleException error(String message) {
        return new PickleException(message + " (at byte " + opAt + ")");
    }

    // ---- stack ----

    private int base() {
        return marks.isEmpty() ? 0 : marks.getLast();
    }

    private void push(Object o) {
        stack.add(o);
    }

    private Object pop() throws PickleException {
        if (stack.size() <= base()) throw error("pickle stack underflow");
        return stack.removeLast();
    }

    private Object top() throws PickleException {
        if (stack.size() <= base()) throw error("pickle stack underflow");
        return stack.getLast();
    }

    /** The items pushed since the last MARK, which is closed. */
    private List<Object> popMark() throws PickleException {
        if (marks.isEmpty()) throw error("no MARK to pop to");
        int b = marks.removeLast();
        List<Object> items = new ArrayList<>(stack.subList(b, stack.size()));
        stack.subList(b, stack.size()).clear();
        return items;
    }

    private PickleTuple popTuple(int n) throws PickleException {
        Object[] items = new Object[n];
        for (int i = n - 1; i >= 0; i--) items[i] = pop();
        return new PickleTuple(Arrays.asList(items));
    }

    private Object memoGet(long key) throws PickleException {
        if (!memo.containsKey(key)) throw error("memo has no entry " + key);
        return memo.get(key);
    }

    // ---- objects ----

    private Global global(String module, String name) throws PickleException {
        String qualified = module + "." + name;
        Global g = globals.get(qualified);
        if (g == null) throw new PickleException("refusing pickle global " + qualified + " (only plain data is loaded)");
        return g;
    }

    private Global callee(Object o) throws PickleException {
        if (o instanceof Global g) return g;
        throw error("pickle calls a " + typeName(o) + ", not an allowed global");
    }

    private Object newObject(Global g, PickleTuple args) throws PickleException {
        if (g.newObject() == null) throw error("pickle creates a " + g.name() + " object, which it may only name");
        return g.newObject().apply(args);
    }

    private PickleTuple tuple(Object o, String role) throws PickleException {
        if (o instanceof PickleTuple t) return t;
        throw error(role + " must be a tuple, got " + typeName(o));
    }

    @SuppressWarnings("unchecked")
    private List<Object> list(Object o) throws PickleException {
        if (o instanceof ArrayList<?> l) return (List<Object>) l;
        throw error("appending to a " + typeName(o) + ", not a list");
    }

    private PickleDict dict(Object o) throws PickleException {
        if (o instanceof PickleDict d) return d;
        throw error("setting items of a " + typeName(o) + ", not a dict");
    }

    private static List<Object> pair(Object k, Object v) {
        List<Object> kv = new ArrayList<>(2);
        kv.add(k);
        kv.add(v);
        return kv;
    }

    private void setItems(PickleDict d, List<Object> kv) throws PickleException {
        if (kv.size() % 2 != 0) throw error("odd number of items (" + kv.size() + ") for key/value pairs");
        for (int i = 0; i < kv.size(); i += 2) {
            Object k = kv.get(i);
            checkHashable(k, 0);
            d.put(k, kv.get(i + 1));
        }
    }

    /** Keys Python could hash and Java compares the same way: str, int, float, bool, None and tuples of those. */
    private void checkHashable(Object k, int depth) throws PickleException {
        if (k == null || k instanceof String || k instanceof Long || k instanceof BigInteger || k instanceof Double || k instanceof Boolean) return;
        if (k instanceof PickleTuple t) {
            // Hashing recurses through nested tuples; a key nested this deep is no state_dict's.
            if (depth >= MAX_KEY_DEPTH) throw error("dict key nests tuples deeper than " + MAX_KEY_DEPTH);
            for (Object o : t.items()) checkHashable(o, depth + 1);
            return;
        }
        throw error("dict key of type " + typeName(k) + " is not supported");
    }

    /**
     * BUILD without __setstate__, as Python does it: a dict state (or a (dict, slots) pair) becomes the instance's
     * attributes. Only dict-like instances take state; a tensor or a list never does in plain data.
     */
    private void build(Object target, Object state) throws PickleException {
        if (!(target instanceof PickleDict d) || d.type().equals(PickleDict.PLAIN)) {
            throw error("BUILD sets the state of a " + typeName(target) + ", which plain data never needs");
        }
        if (state instanceof PickleTuple t && t.size() == 2) {
            setAttributes(d, t.get(0));
            setAttributes(d, t.get(1));
        } else {
            setAttributes(d, state);
        }
    }

    private void setAttributes(PickleDict d, Object state) throws PickleException {
        if (state == null) return;
        if (!(state instanceof PickleDict s) || !s.type().equals(PickleDict.PLAIN)) {
            throw error("BUILD state of a " + d.type() + " must be a dict, got " + typeName(state));
        }
        for (Map.Entry<Object, Object> e : s.items().entrySet()) {
            if (!(e.getKey() instanceof String name)) throw error("BUILD attribute name of type " + typeName(e.getKey()));
            d.setAttribute(name, e.getValue());
        }
    }

    // ---- reading the bytes ----

    private void need(long n) throws PickleException {
        if (n > in.length - pos) {
            throw error("pickle truncated: needs " + n + " more bytes, " + (in.length - pos) + " left");
        }
    }

    private int u8() throws PickleException {
        need(1);
        return in[pos++] & 0xff;
    }

    private int i32() throws PickleException {
        need(4);
        int v = ByteBuffer.wrap(in, pos, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
        pos += 4;
        return v;
    }

    private long u32() throws PickleException {
        return i32() & 0xffffffffL;
    }

    private long i64() throws PickleException {
        need(8);
        long v = ByteBuffer.wrap(in, pos, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        pos += 8;
        return v;
    }

    private int length(long n) throws PickleException {
        if (n < 0) throw error("negative length " + n);
        need(n);
        return (int) n;
    }

    private byte[] bytes(int n) throws PickleException {
        need(n);
        byte[] b = Arrays.copyOfRange(in, pos, pos + n);
        pos += n;
        return b;
    }

    /** A text line of GLOBAL, without its newline. */
    private String line() throws PickleException {
        int start = pos;
        while (pos < in.length && in[pos] != '\n') pos++;
        if (pos >= in.length) throw error("pickle truncated inside a GLOBAL name");
        byte[] b = Arrays.copyOfRange(in, start, pos++);
        return utf8(b);
    }

    private String utf8(byte[] b) throws PickleException {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(b)).toString();
        } catch (CharacterCodingException e) {
            throw error("string is not valid UTF-8");
        }
    }

    /** Python's decode_long: little-endian two's complement, empty meaning 0. */
    private static Object longOf(byte[] le) {
        if (le.length == 0) return 0L;
        byte[] be = new byte[le.length];
        for (int i = 0; i < le.length; i++) be[i] = le[le.length - 1 - i];
        BigInteger v = new BigInteger(be);
        return v.bitLength() < 64 ? (Object) v.longValue() : v;
    }

    private static final int REPR_CHARS = 200, REPR_DEPTH = 4;

    /**
     * A short Python-style rendering of an unpickled value for messages. Length and nesting are capped: a pickle can
     * build huge or self-containing values.
     */
    public static String repr(Object o) {
        StringBuilder sb = new StringBuilder();
        repr(o, sb, 0);
        return sb.length() > REPR_CHARS ? sb.substring(0, REPR_CHARS - 3) + "..." : sb.toString();
    }

    private static void repr(Object o, StringBuilder sb, int depth) {
        if (depth > REPR_DEPTH) {
            sb.append("...");
            return;
        }
        switch (o) {
            case null -> sb.append("None");
            case Boolean b -> sb.append(b ? "True" : "False");
            case String s -> sb.append('\'').append(s).append('\'');
            case byte[] b -> sb.append("<").append(b.length).append(" bytes>");
            case PickleTuple t -> {
                sb.append('(');
                reprItems(t.items(), sb, depth);
                sb.append(t.size() == 1 ? ",)" : ")");
            }
            case List<?> l -> {
                sb.append('[');
                reprItems(l, sb, depth);
                sb.append(']');
            }
            case PickleDict d -> {
                if (!d.type().equals(PickleDict.PLAIN)) sb.append(d.type());
                sb.append('{');
                String sep = "";
                for (Map.Entry<Object, Object> e : d.items().entrySet()) {
                    if (sb.length() > REPR_CHARS) break;
                    sb.append(sep);
                    repr(e.getKey(), sb, depth + 1);
                    sb.append(": ");
                    repr(e.getValue(), sb, depth + 1);
                    sep = ", ";
                }
                sb.append('}');
            }
            case Global g -> sb.append(g.name());
            default -> sb.append(o);
        }
    }

    private static void reprItems(List<?> items, StringBuilder sb, int depth) {
        for (int i = 0; i < items.size() && sb.length() <= REPR_CHARS; i++) {
            if (i > 0) sb.append(", ");
            repr(items.get(i), sb, depth + 1);
        }
    }

    /** Python's name for the type of an unpickled value, for messages. */
    public static String typeName(Object o) {
        return switch (o) {
            case null -> "None";
            case Boolean b -> "bool";
            case Long l -> "int";
            case BigInteger b -> "int";
            case Double d -> "float";
            case String s -> "str";
            case byte[] b -> "bytes";
            case PickleTuple t -> "tuple";
            case ArrayList<?> l -> "list";
            case PickleDict d -> d.type();
            case Global g -> "global " + g.name();
            default -> o.getClass().getSimpleName();
        };
    }
}

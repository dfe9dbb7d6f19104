package rat4j.model.io.pickle;

import org.junit.jupiter.api.Test;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static rat4j.model.io.pickle.PickleBytes.hex;

/**
 * The strict unpickler on pickles written by CPython 3's pickle module (hex fixtures; the Python that wrote each is
 * quoted above it) and on hand-built malformed ones.
 */
class UnpicklerTest {
    private static final List<Global> DICTS = List.of(Global.dictClass("collections.OrderedDict"), Global.dictClass("easydict.EasyDict"));

    private static Object load(byte[] pickle) throws PickleException {
        return Unpickler.load(pickle, DICTS, null);
    }

    private static String refusal(byte[] pickle) {
        return assertThrows(PickleException.class, () -> load(pickle)).getMessage();
    }

    /** The values of the plain-data fixtures, as the unpickler must give them. */
    private static List<Object> expectedList() {
        return new ArrayList<>(Arrays.asList(1L, -2L, 255L, 256L, 65535L, 65536L, (long) Integer.MIN_VALUE, 1L << 31, 1L << 40,
                BigInteger.TWO.pow(70), BigInteger.TWO.pow(70).negate(), 1.5, -0.0, null, true, false, "é✓",
                PickleTuple.of(1L), PickleTuple.of(1L, 2L), PickleTuple.of(1L, 2L, 3L), PickleTuple.of(1L, 2L, 3L, 4L), PickleTuple.of()));
    }

    private static void checkPlain(Object o, List<Object> expected) {
        PickleDict d = assertInstanceOf(PickleDict.class, o);
        assertEquals(PickleDict.PLAIN, d.type());
        assertEquals(List.of("a", PickleTuple.of(1L, "k"), 7L), new ArrayList<>(d.items().keySet()), "keys in insertion order");
        List<?> a = assertInstanceOf(ArrayList.class, d.get("a"));
        assertEquals(expected.size(), a.size());
        for (int i = 0; i < a.size(); i++) {
            if (expected.get(i) instanceof byte[] b) {
                assertArrayEquals(b, (byte[]) a.get(i));
            } else {
                assertEquals(expected.get(i), a.get(i), "item " + i);
            }
        }
        assertEquals(Double.doubleToRawLongBits(-0.0), Double.doubleToRawLongBits((Double) a.get(12)), "the sign of -0.0");
        assertEquals(0, assertInstanceOf(PickleDict.class, d.get(PickleTuple.of(1L, "k"))).size());
        assertEquals("x", d.get(7L));
    }

    @Test void readsPlainDataOfProtocolTwo() throws PickleException {
        // pickle.dumps({'a': [1, -2, 255, 256, 65535, 65536, -2**31, 2**31, 2**40, 2**70, -2**70, 1.5, -0.0, None, True, False,
        //     'é✓', (1,), (1, 2), (1, 2, 3), (1, 2, 3, 4), ()], (1, 'k'): {}, 7: 'x'}, protocol=2)
        byte[] p2 = hex("80027d71002858010000006171015d7102284b014afeffffff4bff4d00014dffff4a000001004a000000808a0500000080008a0600000000"
                + "00018a090000000000000000408a090000000000000000c0473ff80000000000004780000000000000004e88895805000000c3a9e29c9371034b"
                + "018571044b014b028671054b014b024b03877106284b014b024b034b0474710729654b0158010000006b71088671097d710a4b075801000000"
                + "78710b752e");
        checkPlain(load(p2), expectedList());
    }

    @Test void readsPlainDataOfProtocolFiveWithFramesAndBytes() throws PickleException {
        // The same with b'\x00\xff' appended to the list, protocol=5: FRAME, MEMOIZE, SHORT_BINUNICODE, SHORT_BINBYTES.
        byte[] p5 = hex("8005959b000000000000007d94288c0161945d94284b014afeffffff4bff4d00014dffff4a000001004a000000808a0500000080008a"
                + "060000000000018a090000000000000000408a090000000000000000c0473ff80000000000004780000000000000004e88898c05c3a9e29c"
                + "93944b0185944b014b0286944b014b024b038794284b014b024b034b04749429430200ff94654b018c016b9486947d944b078c017894752e");
        List<Object> expected = expectedList();
        expected.add(new byte[] {0, (byte) 0xff});
        checkPlain(load(p5), expected);
    }

    @Test void theMemoSharesObjects() throws PickleException {
        // l = [1]; pickle.dumps([l, l, (l,)], protocol=2)
        List<?> outer = assertInstanceOf(ArrayList.class, load(hex("80025d7100285d71014b016168016801857102652e")));
        assertEquals(3, outer.size());
        assertSame(outer.get(0), outer.get(1));
        assertSame(outer.get(0), ((PickleTuple) outer.get(2)).get(0));
        assertEquals(List.of(1L), outer.get(0));
    }

    @Test void orderedDictAttributesFromBuildStayApartFromItems() throws PickleException {
        // o = OrderedDict(a=1, b=[2]); o._metadata = {'x': 2}; pickle.dumps(o, protocol=2) and protocol=4 (STACK_GLOBAL)
        byte[] p2 = hex("800263636f6c6c656374696f6e730a4f726465726564446963740a7100295271012858010000006171024b015801000000627103"
                + "5d71044b0261757d710558090000005f6d6574616461746171067d710758010000007871084b027373622e");
        byte[] p4 = hex("8004954c000000000000008c0b636f6c6c656374696f6e73948c0b4f72646572656444696374949394295294288c0161944b018c01"
                + "62945d944b0261757d948c095f6d65746164617461947d948c0178944b027373622e");
        for (byte[] p : List.of(p2, p4)) {
            PickleDict d = assertInstanceOf(PickleDict.class, load(p));
            assertEquals("collections.OrderedDict", d.type());
            assertEquals(Map.of("a", 1L, "b", List.of(2L)), d.items());
            assertEquals(List.of("_metadata"), List.copyOf(d.attributes().keySet()));
            assertEquals(Map.of("x", 2L), ((PickleDict) d.attributes().get("_metadata")).items());
        }
    }

    @Test void easyDictIsBuiltByNewobjAndFilledBySetitems() throws PickleException {
        // With a class easydict.EasyDict(dict) whose __setattr__ also sets the item (as the real one):
        // pickle.dumps(EasyDict({'model': {'d_model': 64, 'seq_cell': {'_name_': 'rat'}}, 'lr': 0.5}), protocol=2)
        byte[] p = hex("80026365617379646963740a45617379446963740a7100298171012858050000006d6f64656c710268002981710328580700000064"
                + "5f6d6f64656c71044b4058080000007365715f63656c6c710568002981710658060000005f6e616d655f71075803000000726174710873"
                + "7d7109680768087362757d710a2868044b4068056806756258020000006c72710b473fe0000000000000757d710c2868026803680b473f"
                + "e000000000000075622e");
        PickleDict e = assertInstanceOf(PickleDict.class, load(p));
        assertEquals("easydict.EasyDict", e.type());
        assertEquals(List.of("model", "lr"), List.copyOf(e.items().keySet()));
        assertEquals(0.5, e.get("lr"));
        PickleDict model = (PickleDict) e.get("model");
        assertEquals("easydict.EasyDict", model.type());
        assertEquals(64L, model.get("d_model"));
        assertEquals("rat", ((PickleDict) model.get("seq_cell")).get("_name_"));
        assertSame(model, e.attributes().get("model"), "BUILD's state repeats the items as attributes");
    }

    @Test void refusesGlobalsNotOnTheList() {
        // pickle.dumps({'c': Evil()}, protocol=2) with Evil.__reduce__ = lambda self: (os.system, ('touch /tmp/x',))
        byte[] system = hex("80027d7100580100000063710163706f7369780a73797374656d0a7102580c000000746f756368202f746d702f787103857104527105732e");
        assertEquals("refusing pickle global posix.system (only plain data is loaded)", refusal(system));
        // pickle.dumps(Evil2(), protocol=4) with __reduce__ = (eval, ('1+1',)): STACK_GLOBAL
        byte[] eval = hex("8004951f000000000000008c086275696c74696e73948c046576616c9493948c03312b3194859452942e");
        assertEquals("refusing pickle global builtins.eval (only plain data is loaded)", refusal(eval));
        // Python 3 pickles bytes at protocol 2 as _codecs.encode(str, 'latin1'): a call, so refused too.
        assertEquals("refusing pickle global _codecs.encode (only plain data is loaded)",
                refusal(hex("8002635f636f646563730a656e636f64650a7100580300000000c3bf710158060000006c6174696e3171028671035271042e")));
        // The allow-list matches whole names: neither a prefix nor another member of the module passes.
        assertEquals("refusing pickle global collections.OrderedDictX (only plain data is loaded)",
                refusal(PickleBytes.proto2().global("collections", "OrderedDictX").stop().bytes()));
        assertEquals("refusing pickle global collections.namedtuple (only plain data is loaded)",
                refusal(PickleBytes.proto2().global("collections", "namedtuple").stop().bytes()));
    }

    @Test void markersMayBeNamedButNotCalled() throws PickleException {
        List<Global> globals = List.of(Global.marker("torch.FloatStorage"), Global.dictClass("collections.OrderedDict"));
        byte[] named = PickleBytes.proto2().global("torch", "FloatStorage").stop().bytes();
        assertEquals("torch.FloatStorage", ((Global) Unpickler.load(named, globals, null)).name());
        byte[] called = PickleBytes.proto2().global("torch", "FloatStorage").mark().integer(3).tuple().reduce().stop().bytes();
        assertEquals("pickle calls torch.FloatStorage, which it may only name (at byte 29)",
                assertThrows(PickleException.class, () -> Unpickler.load(called, globals, null)).getMessage());
        byte[] withArgs = PickleBytes.proto2().global("collections", "OrderedDict").mark().integer(3).tuple().reduce().stop().bytes();
        assertEquals("collections.OrderedDict built with arguments (3,); only an empty one filled by SETITEMS is accepted",
                assertThrows(PickleException.class, () -> Unpickler.load(withArgs, globals, null)).getMessage());
    }

    @Test void persistentIdsGoToTheLoader() throws PickleException {
        byte[] p = PickleBytes.proto2().mark().str("storage").integer(5).tuple().binPersId().stop().bytes();
        Object[] seen = new Object[1];
        Object r = Unpickler.load(p, List.of(), pid -> {
            seen[0] = pid;
            return "loaded";
        });
        assertEquals("loaded", r);
        assertEquals(PickleTuple.of("storage", 5L), seen[0]);
        assertEquals("pickle refers to persistent id ('storage', 5) but none are expected (at byte 21)",
                refusal(p));
    }

    @Test void malformedPicklesGiveOneLineErrors() {
        assertEquals("unknown pickle opcode 0xff (at byte 2)", refusal(PickleBytes.proto2().op(0xff).bytes()));
        // pickle.dumps(1, protocol=0): text-mode INT
        assertEquals("pickle opcode INT is not supported (only plain data is loaded) (at byte 0)", refusal(hex("49310a2e")));
        assertEquals("pickle protocol 6 is newer than 5 (at byte 0)", refusal(new byte[] {(byte) 0x80, 6, 'N', '.'}));
        assertEquals("pickle truncated: ends at byte 3 before STOP", refusal(PickleBytes.proto2().none().bytes()));
        assertEquals("pickle truncated: needs 4 more bytes, 2 left (at byte 2)", refusal(PickleBytes.proto2().op('J', 1, 2).bytes()));
        assertEquals("pickle truncated: needs 9 more bytes, 1 left (at byte 2)", refusal(PickleBytes.proto2().op('X', 9, 0, 0, 0, 'a').bytes()));
        assertEquals("pickle stack underflow (at byte 2)", refusal(PickleBytes.proto2().stop().bytes()));
        assertEquals("pickle stack underflow (at byte 4)", refusal(PickleBytes.proto2().emptyList().mark().op('a').stop().bytes()));
        assertEquals("no MARK to pop to (at byte 3)", refusal(PickleBytes.proto2().none().tuple().stop().bytes()));
        assertEquals("memo has no entry 5 (at byte 2)", refusal(PickleBytes.proto2().op('h', 5).stop().bytes()));
        assertEquals("1 bytes after STOP (at byte 3)", refusal(PickleBytes.proto2().none().stop().none().bytes()));
        assertEquals("STOP with 1 items and marks left on the stack (at byte 4)", refusal(PickleBytes.proto2().none().none().stop().bytes()));
        assertEquals("appending to a tuple, not a list (at byte 4)", refusal(PickleBytes.proto2().emptyTuple().none().op('a').stop().bytes()));
        assertEquals("setting items of a list, not a dict (at byte 5)", refusal(PickleBytes.proto2().emptyList().none().none().setItem().stop().bytes()));
        assertEquals("dict key of type list is not supported (at byte 5)",
                refusal(PickleBytes.proto2().emptyDict().emptyList().none().setItem().stop().bytes()));
        assertEquals("odd number of items (1) for key/value pairs (at byte 5)", refusal(PickleBytes.proto2().emptyDict().mark().none().setItems().stop().bytes()));
        assertEquals("BUILD sets the state of a dict, which plain data never needs (at byte 4)",
                refusal(PickleBytes.proto2().emptyDict().emptyDict().op('b').stop().bytes()));
        assertEquals("string is not valid UTF-8 (at byte 2)", refusal(PickleBytes.proto2().op(0x8c, 1, 0xff).stop().bytes()));
        assertEquals("pickle calls a None, not an allowed global (at byte 4)",
                refusal(PickleBytes.proto2().none().emptyTuple().reduce().stop().bytes()));
        assertEquals("frame of 100 bytes goes beyond the pickle's 11 (truncated?) (at byte 2)",
                refusal(PickleBytes.proto2().op(0x95, 100, 0, 0, 0, 0, 0, 0, 0).bytes()));
    }

    @Test void selfContainingAndDeepValuesGiveErrorsNotStackOverflows() {
        // l = []; l.append(l); OrderedDict(l): the message renders the list with its nesting capped.
        byte[] selfList = PickleBytes.proto2().global("collections", "OrderedDict").emptyList().op('q', 0).op('h', 0).op('a')
                .op(0x85).reduce().stop().bytes();
        assertEquals("collections.OrderedDict built with arguments ([[[[...]]]],); only an empty one filled by SETITEMS is accepted", refusal(selfList));
        // A key of 100,000 nested 1-tuples: refused before anything hashes it.
        PickleBytes deep = PickleBytes.proto2().emptyDict().none();
        for (int i = 0; i < 100_000; i++) deep.op(0x85);
        assertEquals("dict key nests tuples deeper than 32 (at byte 100005)", refusal(deep.none().setItem().stop().bytes()));
        // A long value is cut in messages.
        PickleBytes wide = PickleBytes.proto2().global("collections", "OrderedDict").mark();
        for (int i = 0; i < 1000; i++) wide.integer(i);
        String m = refusal(wide.tuple().reduce().stop().bytes());
        assertTrue(m.startsWith("collections.OrderedDict built with arguments (0, 1, 2, ") && m.contains("..."), m);
        assertTrue(m.length() < 300, m);
    }

    @Test void emptyAndNestedContainers() throws PickleException {
        // MARK ... DICT and MARK ... LIST (protocol 1 forms), POP, POP_MARK and DUP.
        byte[] p = PickleBytes.proto2().mark().str("k").none().op('d').mark().integer(1).integer(2).op('l').op(0x86)
                .none().op('0').mark().none().op('1').op('2').op(0x86).stop().bytes();
        PickleTuple t = assertInstanceOf(PickleTuple.class, load(p));
        PickleTuple inner = (PickleTuple) t.get(0);
        assertTrue(((PickleDict) inner.get(0)).containsKey("k"));
        assertNull(((PickleDict) inner.get(0)).get("k"));
        assertEquals(List.of(1L, 2L), inner.get(1));
        assertSame(inner, t.get(1), "DUP pushes the same object");
    }
}

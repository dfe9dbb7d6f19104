package rat4j.kernel.nativelib;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.util.HashMap;
import java.util.Map;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import rat4j.kernel.Bf16;
import rat4j.kernel.Gemm;
import rat4j.kernel.GemmArgs;
import rat4j.kernel.GemmProvider.Availability;
import rat4j.kernel.Parallel;

/**
 * The bf16 autocast product through oneDNN's matmul primitive (Debian's libdnnl2, the oneDNN 2.x C API) with the
 * Foreign Function and Memory API: C = alpha * bf16(op(A)) * bf16(op(B)) + beta * C, operands rounded to bf16 (nearest,
 * ties to even, as torch autocast's casts), products summed in fp32, C fp32. On CPUs with avx512_bf16 oneDNN runs
 * vdpbf16ps (two bf16 products per fp32 lane per instruction); with AMX, its tile kernels.
 *
 * <p>oneDNN keeps pointers to its operands in memory objects that outlive a single downcall, so heap arrays cannot go to
 * it as they do to OpenBLAS: each call converts the stored windows of A and B into native bf16 scratch (the rounding
 * has to happen somewhere anyway), lets oneDNN write op(A) op(B) into native fp32 scratch, and finishes
 * C = alpha * product + beta * C in Java, so one primitive per (transposes, m, n, k) serves every alpha and beta.
 * Transposes are strides of the memory descriptors, no copies. Primitive creation (JIT code generation) costs
 * milliseconds, so primitives are cached per shape for the life of the process; a model uses a handful of shapes.
 *
 * <p>Calls are serialised (one scratch, one stream; oneDNN's OpenMP threads already use every core). Results are
 * deterministic for a fixed thread count, but oneDNN may split the k reduction across threads, so unlike the Java
 * kernels they can change in the last bits with OMP_NUM_THREADS.
 */
@SuppressWarnings("restricted") // calling native code is this class's job; run with --enable-native-access
public final class OneDnn implements Gemm {
    public static final String LIBRARY = "libdnnl.so.2";
    static final String INSTALL_HINT = "apt-get install libdnnl2";

    // From oneDNN 2.6's dnnl_types.h (checked with sizeof/offsetof against its headers): the descriptors are structs the
    // caller allocates. dnnl_memory_desc_t is 696 bytes, dnnl_matmul_desc_t 2800; both 8-byte aligned.
    private static final long MEMORY_DESC_BYTES = 696, MATMUL_DESC_BYTES = 2800;
    private static final int SUCCESS = 0, ENGINE_CPU = 1, STREAM_DEFAULT = 1, DT_BF16 = 2, DT_F32 = 3;
    private static final int ARG_SRC = 1, ARG_DST = 17, ARG_WEIGHTS = 33, QUERY_IMPL_INFO_STR = 8;
    /** dnnl_exec_arg_t: {int arg; dnnl_memory_t memory;}, 16 bytes. */
    private static final MemoryLayout EXEC_ARG = MemoryLayout.structLayout(JAVA_INT.withName("arg"),
            MemoryLayout.paddingLayout(4), ADDRESS.withName("memory"));

    /** The library's entry points, the CPU engine and one stream, loaded once per process. */
    private record Library(Handles h, MemorySegment engine, MemorySegment stream, String version, String isa) {}

    private record Handles(MethodHandle memoryDescInitByStrides, MethodHandle matmulDescInit, MethodHandle primitiveDescCreate,
                           MethodHandle primitiveDescQuery, MethodHandle primitiveDescDestroy, MethodHandle primitiveCreate,
                           MethodHandle primitiveExecute, MethodHandle memoryCreate, MethodHandle memoryDestroy,
                           MethodHandle streamWait) {}

    /** A primitive for one shape and the descriptors its memory objects are made from (kept in the global arena). */
    private record Primitive(MemorySegment primitive, MemorySegment aDesc, MemorySegment bDesc, MemorySegment cDesc, String impl) {}

    private record Shape(boolean transA, boolean transB, int m, int n, int k) {}

    private static final class Holder {
        static final Object LOADED = load(LIBRARY);
    }

    private final Library lib;
    private final Map<Shape, Primitive> primitives = new HashMap<>(); // guarded by this
    private MemorySegment aBf16 = MemorySegment.NULL, bBf16 = MemorySegment.NULL, cF32 = MemorySegment.NULL; // guarded by this
    private Arena scratchArena; // owns the three scratch buffers; guarded by this
    private String lastImpl = "?"; // oneDNN's implementation name of the latest new primitive, e.g. "brg:avx512_core_bf16"

    private OneDnn(Library lib) {
        this.lib = lib;
    }

    /** Loads the library if that was not done yet and says whether it works here (never throws). */
    public static Availability probe() {
        return Holder.LOADED instanceof Library l
                ? Availability.yes("oneDNN " + l.version() + ", " + l.isa() + " kernels")
                : Availability.no((String) Holder.LOADED);
    }

    private static OneDnn shared; // guarded by OneDnn.class

    /**
     * The backend, one per process so that its primitives (and scratch) are made once; throws IllegalStateException
     * with the reason when the library is unavailable.
     */
    public static synchronized OneDnn create() {
        if (!(Holder.LOADED instanceof Library l)) throw new IllegalStateException("onednn unavailable: " + Holder.LOADED);
        if (shared == null) shared = new OneDnn(l);
        return shared;
    }

    /** e.g. "2.6.3". */
    public String version() { return lib.version(); }

    /** The instruction set oneDNN dispatches to here (dnnl_get_effective_cpu_isa), e.g. "avx512_core_bf16". */
    public String isa() { return lib.isa(); }

    /** Whether the CPU has bf16 dot-product instructions (avx512_bf16 or AMX), i.e. whether bf16 can beat fp32 here. */
    public boolean hasBf16Instructions() {
        return lib.isa().startsWith("avx512_core_bf16") || lib.isa().contains("amx");
    }

    @Override public String name() {
        return "onednn-bf16 " + lib.version() + " (" + lib.isa() + ", bf16 operands, fp32 sums)";
    }

    /** oneDNN's name for the implementation of the most recently created primitive, e.g. "brg:avx512_core_bf16". */
    public synchronized String lastImplementation() { return lastImpl; }

    @Override
    public synchronized void sgemm(boolean transA, boolean transB, int m, int n, int k,
                                   float alpha, float[] a, int aOff, int lda,
                                   float[] b, int bOff, int ldb,
                                   float beta, float[] c, int cOff, int ldc) {
        if (GemmArgs.checkAndFinishTrivial(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc)) return;
        Primitive p = primitives.computeIfAbsent(new Shape(transA, transB, m, n, k), this::createPrimitive);
        long aCount = (long) m * k, bCount = (long) k * n, cCount = (long) m * n;
        ensureScratch(aCount, bCount, cCount);
        // As stored: A is (m, k), or (k, m) when transposed; B is (k, n), or (n, k). Packed without the ld padding.
        toBf16(a, aOff, lda, transA ? k : m, transA ? m : k, aBf16);
        toBf16(b, bOff, ldb, transB ? n : k, transB ? k : n, bBf16);
        execute(p);
        finish(alpha, beta, c, cOff, ldc, m, n);
    }

    private void ensureScratch(long aCount, long bCount, long cCount) {
        if (aBf16.byteSize() >= aCount * 2 && bBf16.byteSize() >= bCount * 2 && cF32.byteSize() >= cCount * 4) return;
        if (scratchArena != null) scratchArena.close();
        scratchArena = Arena.ofShared();
        // Grow only, and to the largest of each seen so far, so the layer's few shapes settle after one step.
        aBf16 = scratchArena.allocate(Math.max(aCount * 2, aBf16.byteSize()), 64);
        bBf16 = scratchArena.allocate(Math.max(bCount * 2, bBf16.byteSize()), 64);
        cF32 = scratchArena.allocate(Math.max(cCount * 4, cF32.byteSize()), 64);
    }

    /** dst (rows, cols) packed bf16 = the (rows, cols) window of x at off with row stride ld, rounded; parallel over rows. */
    private static void toBf16(float[] x, int off, int ld, int rows, int cols, MemorySegment dst) {
        Parallel.forRange(rows, Math.max(1, (1 << 16) / cols), (from, to) -> {
            short[] row = new short[cols];
            for (int i = from; i < to; i++) {
                int base = off + i * ld;
                for (int j = 0; j < cols; j++) row[j] = Bf16.fromFloat(x[base + j]);
                MemorySegment.copy(row, 0, dst, JAVA_SHORT, (long) i * cols * 2, cols);
            }
        });
    }

    /** C window = alpha * product + beta * C (beta == 0 ignores C, even NaN), product (m, n) packed in cF32. */
    private void finish(float alpha, float beta, float[] c, int cOff, int ldc, int m, int n) {
        MemorySegment product = cF32;
        Parallel.forRange(m, Math.max(1, (1 << 15) / n), (from, to) -> {
            float[] row = new float[n];
            for (int i = from; i < to; i++) {
                int base = cOff + i * ldc;
                if (alpha == 1f && beta == 0f) {
                    MemorySegment.copy(product, JAVA_FLOAT, (long) i * n * 4, c, base, n);
                    continue;
                }
                MemorySegment.copy(product, JAVA_FLOAT, (long) i * n * 4, row, 0, n);
                if (beta == 0f) {
                    for (int j = 0; j < n; j++) c[base + j] = alpha * row[j];
                } else if (alpha == 1f && beta == 1f) {
                    for (int j = 0; j < n; j++) c[base + j] += row[j];
                } else {
                    for (int j = 0; j < n; j++) c[base + j] = alpha * row[j] + beta * c[base + j];
                }
            }
        });
    }

    private Primitive createPrimitive(Shape s) {
        Handles h = lib.h();
        Arena global = Arena.global();
        try (Arena call = Arena.ofConfined()) {
            // Logical shapes: src op(A) (m, k), weights op(B) (k, n), dst (m, n); strides say how each is stored.
            MemorySegment aDesc = memoryDesc(global, call, s.m(), s.k(), DT_BF16, s.transA() ? 1 : s.k(), s.transA() ? s.m() : 1);
            MemorySegment bDesc = memoryDesc(global, call, s.k(), s.n(), DT_BF16, s.transB() ? 1 : s.n(), s.transB() ? s.k() : 1);
            MemorySegment cDesc = memoryDesc(global, call, s.m(), s.n(), DT_F32, s.n(), 1);
            MemorySegment op = call.allocate(MATMUL_DESC_BYTES, 8);
            check((int) h.matmulDescInit().invokeExact(op, aDesc, bDesc, MemorySegment.NULL, cDesc), "dnnl_matmul_desc_init", s);
            MemorySegment pdOut = call.allocate(ADDRESS);
            check((int) h.primitiveDescCreate().invokeExact(pdOut, op, MemorySegment.NULL, lib.engine(), MemorySegment.NULL),
                    "dnnl_primitive_desc_create", s);
            MemorySegment pd = pdOut.get(ADDRESS, 0);
            try {
                MemorySegment implOut = call.allocate(ADDRESS);
                String impl = (int) h.primitiveDescQuery().invokeExact(pd, QUERY_IMPL_INFO_STR, 0, implOut) == SUCCESS
                        ? cString(implOut.get(ADDRESS, 0)) : "?";
                MemorySegment primOut = call.allocate(ADDRESS);
                check((int) h.primitiveCreate().invokeExact(primOut, pd), "dnnl_primitive_create", s);
                lastImpl = impl;
                return new Primitive(primOut.get(ADDRESS, 0), aDesc, bDesc, cDesc, impl);
            } finally {
                int ignored = (int) h.primitiveDescDestroy().invokeExact(pd);
            }
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("onednn: creating the matmul for " + s + " failed: " + t, t);
        }
    }

    /** A 2-d memory descriptor (rows, cols) with the given element strides, allocated in into. */
    private MemorySegment memoryDesc(Arena into, Arena call, int rows, int cols, int dataType, long rowStride, long colStride)
            throws Throwable {
        MemorySegment desc = into.allocate(MEMORY_DESC_BYTES, 8);
        MemorySegment dims = call.allocateFrom(JAVA_LONG, rows, cols);
        MemorySegment strides = call.allocateFrom(JAVA_LONG, rowStride, colStride);
        int rc = (int) lib.h().memoryDescInitByStrides().invokeExact(desc, 2, dims, dataType, strides);
        if (rc != SUCCESS) throw new IllegalStateException("onednn: dnnl_memory_desc_init_by_strides(" + rows + ", " + cols + ") failed, status " + rc);
        return desc;
    }

    /** Runs p on the current scratch buffers and waits for it. */
    private void execute(Primitive p) {
        Handles h = lib.h();
        try (Arena call = Arena.ofConfined()) {
            MemorySegment src = memory(call, p.aDesc(), aBf16), wei = memory(call, p.bDesc(), bBf16), dst = memory(call, p.cDesc(), cF32);
            try {
                MemorySegment args = call.allocate(EXEC_ARG, 3);
                long step = EXEC_ARG.byteSize();
                int[] kinds = {ARG_SRC, ARG_WEIGHTS, ARG_DST};
                MemorySegment[] mems = {src, wei, dst};
                for (int i = 0; i < 3; i++) {
                    args.set(JAVA_INT, i * step, kinds[i]);
                    args.set(ADDRESS, i * step + 8, mems[i]);
                }
                int rc = (int) h.primitiveExecute().invokeExact(p.primitive(), lib.stream(), 3, args);
                if (rc != SUCCESS) throw new IllegalStateException("onednn: dnnl_primitive_execute failed, status " + rc);
                rc = (int) h.streamWait().invokeExact(lib.stream());
                if (rc != SUCCESS) throw new IllegalStateException("onednn: dnnl_stream_wait failed, status " + rc);
            } finally {
                for (MemorySegment mem : new MemorySegment[] {src, wei, dst}) {
                    int ignored = (int) h.memoryDestroy().invokeExact(mem);
                }
            }
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("onednn: matmul failed: " + t, t);
        }
    }

    private MemorySegment memory(Arena call, MemorySegment desc, MemorySegment data) throws Throwable {
        MemorySegment out = call.allocate(ADDRESS);
        int rc = (int) lib.h().memoryCreate().invokeExact(out, desc, lib.engine(), data);
        if (rc != SUCCESS) throw new IllegalStateException("onednn: dnnl_memory_create failed, status " + rc);
        return out.get(ADDRESS, 0);
    }

    private static void check(int status, String what, Shape s) {
        if (status != SUCCESS) throw new IllegalStateException("onednn: " + what + " failed for " + s + ", status " + status);
    }

    /** Loads library (a name for dlopen): a Library, or the reason it cannot be used as a String. */
    static Object load(String library) {
        try {
            Linker linker = Linker.nativeLinker();
            SymbolLookup so;
            try {
                so = SymbolLookup.libraryLookup(library, Arena.global());
            } catch (IllegalArgumentException e) {
                return library + " not found (" + INSTALL_HINT + ")";
            }
            FunctionDescriptor intOf2 = FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS);
            Handles h = new Handles(
                    linker.downcallHandle(find(so, "dnnl_memory_desc_init_by_strides"),
                            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT, ADDRESS)),
                    linker.downcallHandle(find(so, "dnnl_matmul_desc_init"),
                            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS)),
                    linker.downcallHandle(find(so, "dnnl_primitive_desc_create"),
                            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS)),
                    linker.downcallHandle(find(so, "dnnl_primitive_desc_query"),
                            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS)),
                    linker.downcallHandle(find(so, "dnnl_primitive_desc_destroy"), FunctionDescriptor.of(JAVA_INT, ADDRESS)),
                    linker.downcallHandle(find(so, "dnnl_primitive_create"), intOf2),
                    linker.downcallHandle(find(so, "dnnl_primitive_execute"),
                            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, ADDRESS)),
                    linker.downcallHandle(find(so, "dnnl_memory_create"),
                            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS)),
                    linker.downcallHandle(find(so, "dnnl_memory_destroy"), FunctionDescriptor.of(JAVA_INT, ADDRESS)),
                    linker.downcallHandle(find(so, "dnnl_stream_wait"), FunctionDescriptor.of(JAVA_INT, ADDRESS)));
            MethodHandle versionFn = linker.downcallHandle(find(so, "dnnl_version"), FunctionDescriptor.of(ADDRESS));
            MethodHandle isaFn = linker.downcallHandle(find(so, "dnnl_get_effective_cpu_isa"), FunctionDescriptor.of(JAVA_INT));
            MethodHandle engineCreate = linker.downcallHandle(find(so, "dnnl_engine_create"),
                    FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG));
            MethodHandle streamCreate = linker.downcallHandle(find(so, "dnnl_stream_create"),
                    FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));

            // dnnl_version_t: {int major, minor, patch; const char *hash; ...}
            MemorySegment v = ((MemorySegment) versionFn.invokeExact()).reinterpret(24);
            String version = v.get(JAVA_INT, 0) + "." + v.get(JAVA_INT, 4) + "." + v.get(JAVA_INT, 8);
            if (v.get(JAVA_INT, 0) != 2) {
                return library + " is oneDNN " + version + "; rat4j binds the 2.x C API (Debian bookworm's libdnnl2)";
            }
            String isa = isaName((int) isaFn.invokeExact());
            MemorySegment out = Arena.global().allocate(ADDRESS);
            int rc = (int) engineCreate.invokeExact(out, ENGINE_CPU, 0L);
            if (rc != SUCCESS) return library + ": dnnl_engine_create failed, status " + rc;
            MemorySegment engine = out.get(ADDRESS, 0);
            rc = (int) streamCreate.invokeExact(out, engine, STREAM_DEFAULT);
            if (rc != SUCCESS) return library + ": dnnl_stream_create failed, status " + rc;
            return new Library(h, engine, out.get(ADDRESS, 0), version, isa);
        } catch (Throwable t) {
            return library + " could not be used: " + (t.getMessage() != null ? t.getMessage() : t.toString());
        }
    }

    /** dnnl_cpu_isa_t values of oneDNN 2.6 (bit sets: each includes the ones before it). */
    static String isaName(int isa) {
        return switch (isa) {
            case 0x0 -> "all";
            case 0x1 -> "sse41";
            case 0x3 -> "avx";
            case 0x7 -> "avx2";
            case 0x407 -> "avx2_vnni";
            case 0xf -> "avx512_mic";
            case 0x1f -> "avx512_mic_4ops";
            case 0x27 -> "avx512_core";
            case 0x67 -> "avx512_core_vnni";
            case 0xe7 -> "avx512_core_bf16";
            case 0x3e7 -> "avx512_core_amx";
            default -> "isa 0x" + Integer.toHexString(isa);
        };
    }

    private static MemorySegment find(SymbolLookup so, String symbol) {
        return so.find(symbol).orElseThrow(() -> new IllegalStateException("no symbol " + symbol));
    }

    private static String cString(MemorySegment p) {
        return p.equals(MemorySegment.NULL) ? "?" : p.reinterpret(Long.MAX_VALUE).getString(0);
    }
}

package rat4j.kernel.nativelib;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ForkJoinTask;
import java.util.stream.Collectors;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import rat4j.kernel.Gemm;
import rat4j.kernel.GemmArgs;
import rat4j.kernel.GemmProvider.Availability;

/**
 * OpenBLAS's cblas_sgemm through the Foreign Function and Memory API. Heap arrays go to the library as they are
 * (critical downcall with heap access: no copy, no pinning API; the GC waits for the call to return).
 *
 * <p>OpenBLAS built with DYNAMIC_ARCH (Debian's 0.3.21) picks its kernels when it is loaded, from cpuid; on a CPU it
 * does not recognise it can silently fall back to its SSE3 "Prescott" kernels at a fraction of the speed. Unless the
 * user set OPENBLAS_CORETYPE, we set it from /proc/cpuinfo before loading the library: SkylakeX with avx512f, Haswell
 * with avx2 and fma. A user's setting wins, but probe() says when it leaves AVX-512 unused.
 */
@SuppressWarnings("restricted") // calling native code is this class's job; run with --enable-native-access
public final class OpenBlas implements Gemm {
    public static final String LIBRARY = "libopenblas.so.0";
    static final String INSTALL_HINT = "apt-get install libopenblas0-pthread";
    private static final int ROW_MAJOR = 101, NO_TRANS = 111, TRANS = 112;

    /**
     * Products under this many flops (2mnk) run on one OpenBLAS thread. Measured on the 2-core EPYC (SkylakeX kernels):
     * 96^3 takes 13 us on one thread and 23 us on two; from 160^3 two threads win. OpenBLAS's own cut-off is 64^3.
     */
    public static final long SINGLE_THREAD_FLOPS = 4L << 20;

    /** The library as loaded once per process. coreTypeNote says where OPENBLAS_CORETYPE came from. */
    private record Library(MethodHandle sgemm, MethodHandle setThreads, String version, String coreName, int threads,
                           String coreTypeNote) {}

    /** Loads on first use: either a Library or the reason it is unavailable. */
    private static final class Holder {
        static final Object LOADED = load(LIBRARY);
    }

    private final Library lib;

    /**
     * openblas_set_num_threads sets one process-wide count, so calls run in two modes (one thread, all threads) and a
     * call wanting the other mode waits until the calls in flight end; new calls queue behind a waiting one.
     */
    private static final Object MODE_LOCK = new Object();
    private static int modeThreads; // the count last set; guarded by MODE_LOCK
    private static int inFlight; // calls running under modeThreads
    private static int waiting; // calls waiting for a switch or for the waiters ahead of them

    private OpenBlas(Library lib) {
        this.lib = lib;
    }

    /** Loads the library if that was not done yet and says whether it works here (never throws). */
    public static Availability probe() {
        return Holder.LOADED instanceof Library l
                ? Availability.yes(l.coreTypeNote())
                : Availability.no((String) Holder.LOADED);
    }

    /** The backend; throws IllegalStateException with the reason when the library is unavailable. */
    public static OpenBlas create() {
        if (Holder.LOADED instanceof Library l) return new OpenBlas(l);
        throw new IllegalStateException("openblas unavailable: " + Holder.LOADED);
    }

    /** The kernel family OpenBLAS chose at load time (openblas_get_corename), e.g. "SkylakeX" or "Prescott". */
    public String coreName() { return lib.coreName(); }

    /** The thread count OpenBLAS reported after we set it (openblas_get_num_threads). */
    public int threads() { return lib.threads(); }

    /** The library version from openblas_get_config, e.g. "0.3.21". */
    public String version() { return lib.version(); }

    @Override public String name() {
        return "openblas " + lib.version() + " (" + lib.coreName() + " kernels, " + lib.threads() + " threads)";
    }

    @Override
    public void sgemm(boolean transA, boolean transB, int m, int n, int k,
                      float alpha, float[] a, int aOff, int lda,
                      float[] b, int bOff, int ldb,
                      float beta, float[] c, int cOff, int ldc) {
        if (GemmArgs.checkAndFinishTrivial(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc)) return;
        // One thread for small products, and inside a pool worker, whose caller already splits the work over cores.
        int want = lib.threads() == 1 || 2L * m * n * k < SINGLE_THREAD_FLOPS || ForkJoinTask.inForkJoinPool()
                ? 1 : lib.threads();
        enter(want);
        try {
            lib.sgemm().invokeExact(ROW_MAJOR, transA ? TRANS : NO_TRANS, transB ? TRANS : NO_TRANS, m, n, k,
                    alpha, slice(a, aOff), lda, slice(b, bOff), ldb, beta, slice(c, cOff), ldc);
        } catch (Throwable t) {
            throw new IllegalStateException("cblas_sgemm failed: " + t, t);
        } finally {
            exit();
        }
    }

    private void enter(int threads) {
        boolean interrupted = false;
        synchronized (MODE_LOCK) {
            while (inFlight > 0 && (modeThreads != threads || waiting > 0)) {
                waiting++;
                try {
                    MODE_LOCK.wait();
                } catch (InterruptedException e) {
                    interrupted = true;
                } finally {
                    waiting--;
                }
            }
            if (modeThreads != threads) {
                try {
                    lib.setThreads().invokeExact(threads);
                } catch (Throwable t) {
                    throw new IllegalStateException("openblas_set_num_threads failed: " + t, t);
                }
                modeThreads = threads;
            }
            inFlight++;
        }
        if (interrupted) Thread.currentThread().interrupt();
    }

    private static void exit() {
        synchronized (MODE_LOCK) {
            if (--inFlight == 0) MODE_LOCK.notifyAll();
        }
    }

    private static MemorySegment slice(float[] x, int off) {
        return MemorySegment.ofArray(x).asSlice(off * (long) Float.BYTES);
    }

    /** Loads library (a name for dlopen): a Library, or the reason as a String. */
    static Object load(String library) {
        try {
            Linker linker = Linker.nativeLinker();
            String note = chooseCoreType(linker);
            SymbolLookup so;
            try {
                so = SymbolLookup.libraryLookup(library, Arena.global());
            } catch (IllegalArgumentException e) {
                return library + " not found (" + INSTALL_HINT + ")";
            }
            MethodHandle sgemm = linker.downcallHandle(find(so, "cblas_sgemm"),
                    FunctionDescriptor.ofVoid(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT,
                            JAVA_FLOAT, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT, JAVA_FLOAT, ADDRESS, JAVA_INT),
                    Linker.Option.critical(true));
            MethodHandle coreName = linker.downcallHandle(find(so, "openblas_get_corename"), FunctionDescriptor.of(ADDRESS));
            MethodHandle config = linker.downcallHandle(find(so, "openblas_get_config"), FunctionDescriptor.of(ADDRESS));
            MethodHandle getThreads = linker.downcallHandle(find(so, "openblas_get_num_threads"), FunctionDescriptor.of(JAVA_INT));
            MethodHandle setThreads = linker.downcallHandle(find(so, "openblas_set_num_threads"), FunctionDescriptor.ofVoid(JAVA_INT));

            setThreads.invokeExact(Runtime.getRuntime().availableProcessors());
            int threads = (int) getThreads.invokeExact();
            synchronized (MODE_LOCK) {
                modeThreads = threads;
            }
            String core = cString((MemorySegment) coreName.invokeExact());
            // "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY SkylakeX MAX_THREADS=64"
            String[] words = cString((MemorySegment) config.invokeExact()).split("\\s+");
            String version = words.length > 1 ? words[1] : "?";
            return new Library(sgemm, setThreads, version, core, threads, note);
        } catch (Throwable t) {
            return library + " could not be used: " + (t.getMessage() != null ? t.getMessage() : t.toString());
        }
    }

    private static MemorySegment find(SymbolLookup so, String symbol) {
        return so.find(symbol).orElseThrow(() -> new IllegalStateException("no symbol " + symbol));
    }

    private static String cString(MemorySegment p) {
        return p.equals(MemorySegment.NULL) ? "?" : p.reinterpret(Long.MAX_VALUE).getString(0);
    }

    /**
     * Sets OPENBLAS_CORETYPE in the C environment (which the library reads when it is loaded; System.getenv is a copy
     * taken at JVM start) unless the user set it. Returns a note on where the core type came from.
     */
    private static String chooseCoreType(Linker linker) throws Throwable {
        SymbolLookup libc = linker.defaultLookup();
        MethodHandle getenv = linker.downcallHandle(libc.find("getenv").orElseThrow(), FunctionDescriptor.of(ADDRESS, ADDRESS));
        MethodHandle setenv = linker.downcallHandle(libc.find("setenv").orElseThrow(),
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment key = arena.allocateFrom("OPENBLAS_CORETYPE");
            MemorySegment set = (MemorySegment) getenv.invokeExact(key);
            Set<String> flags = cpuFlags();
            if (!set.equals(MemorySegment.NULL)) {
                String given = cString(set);
                // On the 2-core EPYC, SkylakeX kernels run sgemm about twice as fast as Haswell ones.
                return "OPENBLAS_CORETYPE=" + given + " from the environment"
                        + (weaker(given, flags) ? " (this CPU has avx512f: unset it for SkylakeX kernels)" : "");
            }
            String type = flags.contains("avx512f") ? "SkylakeX"
                    : flags.contains("avx2") && flags.contains("fma") ? "Haswell" : null;
            if (type == null) return "OPENBLAS_CORETYPE unset, no avx2/avx512f in /proc/cpuinfo";
            // overwrite = 0: a value set meanwhile by someone else wins.
            int rc = (int) setenv.invokeExact(key, arena.allocateFrom(type), 0);
            if (rc != 0) return "OPENBLAS_CORETYPE unset (setenv failed)";
            return "OPENBLAS_CORETYPE=" + type + " set from cpu flag " + (type.equals("SkylakeX") ? "avx512f" : "avx2");
        }
    }

    /** Whether the user's OPENBLAS_CORETYPE leaves AVX-512 unused on a CPU that has it. */
    static boolean presetCoreTypeIsWeaker() {
        String given = System.getenv("OPENBLAS_CORETYPE");
        return given != null && !given.isBlank() && weaker(given, cpuFlags());
    }

    private static boolean weaker(String coreType, Set<String> flags) {
        return flags.contains("avx512f") && !AVX512_CORES.contains(coreType.toLowerCase(Locale.ROOT));
    }

    private static final Set<String> AVX512_CORES = Set.of("skylakex", "cooperlake", "sapphirerapids");

    /** The flags of the first CPU in /proc/cpuinfo; empty where there is no such file. */
    static Set<String> cpuFlags() {
        try {
            List<String> lines = Files.readAllLines(Path.of("/proc/cpuinfo"));
            return lines.stream().filter(l -> l.startsWith("flags")).findFirst()
                    .map(l -> Arrays.stream(l.substring(l.indexOf(':') + 1).trim().split("\\s+")).collect(Collectors.toSet()))
                    .orElse(Set.of());
        } catch (IOException e) {
            return Set.of();
        }
    }
}

package rat4j.kernel.nativelib;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Loading failures become a reason, never an exception; runs whether or not OpenBLAS is installed. */
class OpenBlasLoadTest {
    @Test
    void aMissingLibraryIsReportedNotThrown() {
        assertEquals("libopenblas-absent.so.0 not found (apt-get install libopenblas0-pthread)",
                OpenBlas.load("libopenblas-absent.so.0"));
        // A library without the OpenBLAS symbols (libm is always there) is unavailable too, with the reason.
        assertEquals("libm.so.6 could not be used: no symbol cblas_sgemm",
                OpenBlas.load("libm.so.6"));
    }
}

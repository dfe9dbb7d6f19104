package rat4j.bench;

import java.util.Arrays;

/**
 * The repetitions of one measurement, in milliseconds, with robust summaries: the median (what tables report) and
 * the median absolute deviation (the spread; one slow repetition from a noisy neighbour moves neither).
 */
public record Timing(double[] samplesMs) {
    public Timing {
        if (samplesMs.length == 0) throw new IllegalArgumentException("a timing needs at least one sample");
        samplesMs = samplesMs.clone();
        for (double s : samplesMs) {
            if (!(s >= 0) || Double.isInfinite(s)) throw new IllegalArgumentException("sample " + s + " ms is not a finite duration");
        }
    }

    @Override public double[] samplesMs() { return samplesMs.clone(); }

    public int reps() { return samplesMs.length; }

    public double median() { return median(samplesMs); }

    public double min() { return Arrays.stream(samplesMs).min().orElseThrow(); }

    public double max() { return Arrays.stream(samplesMs).max().orElseThrow(); }

    public double mean() { return Arrays.stream(samplesMs).average().orElseThrow(); }

    /** Median absolute deviation from the median, in ms. */
    public double mad() {
        double m = median();
        double[] dev = new double[samplesMs.length];
        for (int i = 0; i < dev.length; i++) dev[i] = Math.abs(samplesMs[i] - m);
        return median(dev);
    }

    /** mad / median: the relative spread (0 for one sample). */
    public double spread() {
        double m = median();
        return m > 0 ? mad() / m : 0;
    }

    static double median(double[] values) {
        double[] s = values.clone();
        Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }

    @Override public boolean equals(Object o) { return o instanceof Timing t && Arrays.equals(t.samplesMs, samplesMs); }

    @Override public int hashCode() { return Arrays.hashCode(samplesMs); }

    @Override public String toString() { return "Timing" + Arrays.toString(samplesMs); }
}

package rat4j.train;

import rat4j.tokenizer.ByteTokenizer;
import rat4j.model.LayerSpec;
import rat4j.model.ModelConfig;
import rat4j.model.PositionEncoding;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;

/** Small models and corpora for the training tests. */
final class Fixtures {
    private Fixtures() {}

    /** A one-block RAT model over the byte vocabulary: d_model 16, 2 heads, chunks of 4. */
    static ModelConfig tinyModel() {
        return new ModelConfig(258, 16, 1, 32, LayerSpec.rat(2, 4, 1), null, 2, PositionEncoding.INTERROPE, 10000, true);
    }

    /**
     * {@code docs} short documents of patterned English (so a tiny model can learn something in a few dozen steps)
     * written as files under {@code dir}, some in a subfolder.
     */
    static Path corpus(Path dir, int docs, long seed) throws IOException {
        List<String> subjects = List.of("the cat", "a dog", "the bird", "my friend", "the teacher");
        List<String> verbs = List.of("sat on", "looked at", "ran to", "jumped over", "walked past");
        List<String> objects = List.of("the mat.", "a tree.", "the house.", "the river.", "a car.");
        SplittableRandom r = new SplittableRandom(seed);
        Files.createDirectories(dir.resolve("more"));
        for (int d = 0; d < docs; d++) {
            StringBuilder b = new StringBuilder();
            int sentences = 3 + r.nextInt(4);
            for (int s = 0; s < sentences; s++) {
                b.append(subjects.get(r.nextInt(subjects.size()))).append(' ').append(verbs.get(r.nextInt(verbs.size()))).append(' ')
                        .append(objects.get(r.nextInt(objects.size()))).append(' ');
            }
            Files.writeString(dir.resolve(d % 3 == 0 ? "more" : ".").resolve(String.format("doc%03d.txt", d)).normalize(), b.toString().strip());
        }
        return dir;
    }

    /** Prepared byte-level data from {@link #corpus}. */
    static Path preparedData(Path tmp, int docs, double valFraction) throws IOException {
        Path text = corpus(tmp.resolve("text"), docs, 7);
        Path out = tmp.resolve("data");
        DataPreparation.prepare(new DataPreparation.Options(List.of(text), out, valFraction, 1005, new ByteTokenizer()), Progress.silent());
        return out;
    }
}

package rat4j.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import rat4j.tokenizer.Tokenizer;
import rat4j.tokenizer.Tokenizers;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;

@Command(name = "tokenize", mixinStandardHelpOptions = true,
        description = "Encode text to token ids (printed on one line, space-separated), or with --decode ids to text (printed as it is, without"
                + " a newline added). The input is TEXT, or standard input when TEXT is absent.")
final class TokenizeCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--tokenizer", required = true, paramLabel = "FILE",
            description = "a SentencePiece tokenizer.model (bin/fetch-tokenizer fetches Llama 2's), or \"byte\" for UTF-8 bytes as ids")
    String tokenizer;

    @Option(names = "--decode", description = "read token ids (separated by spaces, commas or newlines) and print their text")
    boolean decode;

    @Parameters(arity = "0..1", paramLabel = "TEXT", description = "the text (or ids with --decode); standard input when absent")
    String text;

    @Override public Integer call() throws IOException {
        Tokenizer tok = Tokenizers.open(tokenizer);
        String input = text != null ? text : readUtf8(System.in);
        PrintWriter out = spec.commandLine().getOut();
        if (decode) {
            out.print(tok.decode(parseIds(input)));
        } else {
            int[] ids = tok.encode(input);
            StringBuilder line = new StringBuilder(ids.length * 6);
            for (int i = 0; i < ids.length; i++) line.append(i == 0 ? "" : " ").append(ids[i]);
            out.println(line);
        }
        out.flush();
        return 0;
    }

    static String readUtf8(InputStream in) throws IOException {
        byte[] bytes = in.readAllBytes();
        try {
            return StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException("standard input is not valid UTF-8");
        }
    }

    static int[] parseIds(String s) {
        String trimmed = s.strip();
        if (trimmed.isEmpty()) return new int[0];
        String[] parts = trimmed.split("[\\s,]+");
        int[] ids = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                ids[i] = Integer.parseInt(parts[i]);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("token " + (i + 1) + " is not an integer id: '" + parts[i] + "'");
            }
        }
        return ids;
    }
}

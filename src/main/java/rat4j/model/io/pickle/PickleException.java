package rat4j.model.io.pickle;

import java.io.IOException;

/** A pickle that is malformed or asks for more than plain data. One line, naming the problem (the caller adds the file). */
public final class PickleException extends IOException {
    public PickleException(String message) {
        super(message);
    }
}

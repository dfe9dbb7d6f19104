package rat4j.model.io;

import java.io.IOException;

/** A file whose content is malformed or does not fit what it must hold. The message is one line naming the file. */
public final class FormatException extends IOException {
    public FormatException(String message) {
        super(message);
    }
}

package rat4j.model.io.pickle;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/** A Python tuple: an immutable list whose items may be null (None). */
public record PickleTuple(List<Object> items) {
    public PickleTuple {
        items = Collections.unmodifiableList(new ArrayList<>(items));
    }

    public static PickleTuple of(Object... items) {
        return new PickleTuple(Arrays.asList(items));
    }

    public int size() { return items.size(); }

    public Object get(int i) { return items.get(i); }

    @Override public String toString() {
        return Unpickler.repr(this);
    }
}

package rat4j.model.io.pickle;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A Python dict, or an instance of a dict subclass the caller allowed (collections.OrderedDict, easydict.EasyDict).
 * Items come from SETITEM(S), in insertion order. Attributes are the instance __dict__ a BUILD sets: Python's unpickler
 * stores them beside the items, not into them (for an EasyDict they repeat the items; for a state_dict they hold
 * {@code _metadata}).
 */
public final class PickleDict {
    /** {@link #type()} of a plain dict. */
    public static final String PLAIN = "dict";

    private final String type;
    private final LinkedHashMap<Object, Object> items = new LinkedHashMap<>();
    private final LinkedHashMap<String, Object> attributes = new LinkedHashMap<>();

    PickleDict(String type) {
        this.type = type;
    }

    /** "dict", or the qualified name of the subclass ("collections.OrderedDict"). */
    public String type() { return type; }

    /** The items in insertion order; keys are String, Long, BigInteger, Double, Boolean, null or PickleTuples of those. */
    public Map<Object, Object> items() { return Collections.unmodifiableMap(items); }

    public Object get(Object key) { return items.get(key); }

    public boolean containsKey(Object key) { return items.containsKey(key); }

    public int size() { return items.size(); }

    public Map<String, Object> attributes() { return Collections.unmodifiableMap(attributes); }

    void put(Object key, Object value) { items.put(key, value); }

    void setAttribute(String name, Object value) { attributes.put(name, value); }

    @Override public String toString() {
        return Unpickler.repr(this);
    }
}

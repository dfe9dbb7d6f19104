package rat4j.model.io.pickle;

/**
 * A global a pickle may name (GLOBAL, STACK_GLOBAL) and what it may do with it: REDUCE calls {@code reduce} with the
 * argument tuple, NEWOBJ calls {@code newObject} (Python's {@code cls.__new__(cls, *args)}). Either may be null: a
 * global with neither is a marker that can only be passed around (torch.FloatStorage names a dtype). The unpickler
 * resolves only the globals its caller lists, by exact name; nothing is looked up by reflection or executed.
 *
 * @param name the qualified name as written in the pickle, "module.name"
 */
public record Global(String name, Call reduce, Call newObject) {
    /** A data constructor: builds a value from a tuple of already unpickled values. */
    @FunctionalInterface
    public interface Call {
        Object apply(PickleTuple args) throws PickleException;
    }

    public static Global marker(String name) {
        return new Global(name, null, null);
    }

    public static Global function(String name, Call reduce) {
        return new Global(name, reduce, null);
    }

    /**
     * A dict subclass: REDUCE and NEWOBJ with no arguments give an empty {@link PickleDict} of that type, which
     * SETITEMS then fills (how collections.OrderedDict and easydict.EasyDict pickle themselves).
     */
    public static Global dictClass(String name) {
        Call empty = args -> {
            if (args.size() != 0) throw new PickleException(name + " built with arguments " + Unpickler.repr(args) + "; only an empty one filled by SETITEMS is accepted");
            return new PickleDict(name);
        };
        return new Global(name, empty, empty);
    }

    @Override public String toString() {
        return name;
    }
}

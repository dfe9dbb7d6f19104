package rat4j.tokenizer;

import java.nio.charset.StandardCharsets;

/**
 * Reads the protobuf wire format (https://protobuf.dev/programming-guides/encoding/): a sequence of
 * (field number, wire type) tags, each followed by a varint, a fixed 32/64-bit value or a length-delimited payload.
 * Enough of it for SentencePiece's ModelProto; every malformed input fails with a message naming the offset.
 */
final class ProtoReader {
    static final int VARINT = 0, I64 = 1, LEN = 2, I32 = 5;

    private final byte[] buf;
    private final String what;
    private int pos;
    private final int end;
    private int tag;

    ProtoReader(byte[] buf, int from, int to, String what) {
        this.buf = buf;
        this.pos = from;
        this.end = to;
        this.what = what;
    }

    /** Advances to the next field; false at the end of the message. */
    boolean next() {
        if (pos >= end) return false;
        long t = varint();
        if (t >>> 32 != 0 || (t >>> 3) == 0) throw error("invalid field tag " + t);
        tag = (int) t;
        return true;
    }

    int field() { return tag >>> 3; }

    int wireType() { return tag & 7; }

    long readVarint() {
        expect(VARINT);
        return varint();
    }

    boolean readBool() { return readVarint() != 0; }

    /** An int32 field: negative values are sign-extended to 10 bytes on the wire, so keep the low 32 bits. */
    int readInt32() { return (int) readVarint(); }

    float readFloat() {
        expect(I32);
        need(4);
        int bits = (buf[pos] & 0xFF) | (buf[pos + 1] & 0xFF) << 8 | (buf[pos + 2] & 0xFF) << 16 | (buf[pos + 3] & 0xFF) << 24;
        pos += 4;
        return Float.intBitsToFloat(bits);
    }

    String readString() {
        int from = lengthDelimited();
        return new String(buf, from, pos - from, StandardCharsets.UTF_8);
    }

    /** A string that must be valid UTF-8: SentencePiece matches pieces byte for byte, so a lossy decode would change them. */
    String readUtf8() {
        int from = lengthDelimited();
        try {
            return StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(buf, from, pos - from)).toString();
        } catch (java.nio.charset.CharacterCodingException e) {
            throw error("field " + field() + " is not valid UTF-8");
        }
    }

    byte[] readBytes() {
        int from = lengthDelimited();
        return java.util.Arrays.copyOfRange(buf, from, pos);
    }

    /** A reader over an embedded message. */
    ProtoReader readMessage(String name) {
        int from = lengthDelimited();
        return new ProtoReader(buf, from, pos, what + " " + name);
    }

    /** Skips a field this reader does not use. */
    void skip() {
        switch (wireType()) {
            case VARINT -> varint();
            case I64 -> { need(8); pos += 8; }
            case LEN -> lengthDelimited();
            case I32 -> { need(4); pos += 4; }
            default -> throw error("unsupported wire type " + wireType() + " of field " + field());
        }
    }

    private int lengthDelimited() {
        expect(LEN);
        long n = varint();
        if (n > end - pos) throw error("field " + field() + " claims " + n + " bytes, only " + (end - pos) + " left");
        int from = pos;
        pos += (int) n;
        return from;
    }

    private long varint() {
        long v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (pos >= end) throw error("truncated varint");
            byte b = buf[pos++];
            v |= (long) (b & 0x7F) << shift;
            if (b >= 0) return v;
        }
        throw error("varint longer than 10 bytes");
    }

    private void expect(int wire) {
        if (wireType() != wire) throw error("field " + field() + " has wire type " + wireType() + ", expected " + wire);
    }

    private void need(int n) {
        if (end - pos < n) throw error("truncated field " + field());
    }

    private IllegalArgumentException error(String m) {
        return new IllegalArgumentException(what + ": " + m + " at byte " + pos);
    }
}

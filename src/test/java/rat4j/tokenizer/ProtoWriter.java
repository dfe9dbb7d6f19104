package rat4j.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/** Writes protobuf wire format, to make small SentencePiece models by hand in tests. */
final class ProtoWriter {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    ProtoWriter varint(int field, long v) {
        tag(field, ProtoReader.VARINT);
        raw(v);
        return this;
    }

    ProtoWriter f32(int field, float v) {
        tag(field, ProtoReader.I32);
        int b = Float.floatToIntBits(v);
        for (int i = 0; i < 4; i++) out.write(b >>> 8 * i);
        return this;
    }

    ProtoWriter bytes(int field, byte[] b) {
        tag(field, ProtoReader.LEN);
        raw(b.length);
        out.writeBytes(b);
        return this;
    }

    ProtoWriter string(int field, String s) { return bytes(field, s.getBytes(StandardCharsets.UTF_8)); }

    ProtoWriter message(int field, ProtoWriter m) { return bytes(field, m.toBytes()); }

    /** A ModelProto.SentencePiece. */
    static ProtoWriter piece(String piece, float score, SentencePieceModel.Type type) {
        return new ProtoWriter().string(1, piece).f32(2, score).varint(3, type.number);
    }

    byte[] toBytes() { return out.toByteArray(); }

    private void tag(int field, int wire) { raw((long) field << 3 | wire); }

    private void raw(long v) {
        while ((v & ~0x7FL) != 0) {
            out.write((int) (v & 0x7F) | 0x80);
            v >>>= 7;
        }
        out.write((int) v);
    }
}

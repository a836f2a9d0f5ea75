package dev.gvshim.linux;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Native memory without VarHandles. {@code MemorySegment.get/set(ValueLayout...)} goes
 * through a VarHandle whose first use per layout spins LambdaForm classes (about a
 * millisecond each at start-up, measured); the few structs gvshim passes to the kernel are
 * built in a heap {@link ByteBuffer} and copied with {@link MemorySegment#copy}, which is a
 * plain memory copy. Little-endian, as on x86_64 and aarch64.
 */
final class Bytes {
    private Bytes() {
    }

    static ByteBuffer buffer(int size) {
        return ByteBuffer.allocate(size).order(ByteOrder.nativeOrder());
    }

    /** Copies a buffer's contents (position 0 to its capacity) into new native memory. */
    static MemorySegment toNative(Arena arena, ByteBuffer b) {
        MemorySegment seg = arena.allocate(b.capacity(), 8);
        MemorySegment.copy(MemorySegment.ofArray(b.array()), 0, seg, 0, b.capacity());
        return seg;
    }

    /** Reads {@code size} bytes of native memory into a buffer positioned at 0. */
    static ByteBuffer fromNative(MemorySegment seg, long offset, int size) {
        ByteBuffer b = buffer(size);
        MemorySegment.copy(seg, offset, MemorySegment.ofArray(b.array()), 0, size);
        return b;
    }

    static int readInt(MemorySegment seg, long offset) {
        return fromNative(seg, offset, 4).getInt(0);
    }

    /** A NUL-terminated C string. */
    static MemorySegment cString(Arena arena, String s) {
        byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
        MemorySegment seg = arena.allocate(utf8.length + 1L);
        MemorySegment.copy(MemorySegment.ofArray(utf8), 0, seg, 0, utf8.length);
        MemorySegment.copy(MemorySegment.ofArray(new byte[1]), 0, seg, utf8.length, 1);
        return seg;
    }

    /** A NULL-terminated {@code char *[]}. */
    static MemorySegment stringArray(Arena arena, List<String> values) {
        ByteBuffer ptrs = buffer(8 * (values.size() + 1));
        for (String v : values) {
            ptrs.putLong(cString(arena, v).address());
        }
        return toNative(arena, ptrs);
    }
}

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;

/**
 * The floor under `gvshim run` in bench/run.sh: a JVM that starts, links the two downcall
 * handles gvshim's design needs (libc's variadic syscall and clone, with errno capture, as
 * dev.gvshim.linux.Native declares them), makes one call and halts. Run with the same runtime,
 * flags and kind of AOT cache as gvshim. With "jvm" as argument it halts at once (JVM start only).
 */
public final class Floor {
    public static void main(String[] args) throws Throwable {
        if (args.length > 0 && args[0].equals("jvm")) {
            Runtime.getRuntime().halt(0);
        }
        Linker linker = Linker.nativeLinker();
        SymbolLookup libc = linker.defaultLookup();
        Linker.Option errno = Linker.Option.captureCallState("errno");
        MethodHandle syscall = linker.downcallHandle(libc.find("syscall").orElseThrow(),
                FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG),
                Linker.Option.firstVariadicArg(1), errno);
        MethodHandle clone = linker.downcallHandle(libc.find("clone").orElseThrow(),
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, ADDRESS), Linker.Option.firstVariadicArg(4), errno);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(Linker.Option.captureStateLayout());
            long getpid = 39; // x86_64; the value does not matter, the call does
            long pid = (long) syscall.invokeExact(state, getpid, 0L, 0L, 0L, 0L, 0L, 0L);
            if (pid <= 0 || clone.type().parameterCount() != 5) {
                Runtime.getRuntime().halt(1);
            }
        }
        Runtime.getRuntime().halt(0);
    }
}

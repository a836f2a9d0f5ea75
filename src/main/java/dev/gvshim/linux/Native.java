package dev.gvshim.linux;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The only class that links native functions; {@link FfmSyscalls} and {@link FfmClone} make
 * the calls, and the rest of the project reaches them through {@link Syscalls}.
 *
 * <p>Start-up cost drives the shape of this class. Linking the first downcall handle costs
 * ~15 ms and every further distinct {@link FunctionDescriptor} ~5 ms, because the JDK spins
 * a specialised class per shape at run time, which the AOT cache cannot hold. So all system
 * calls go through one variadic {@code long syscall(long number, ...)} handle (one shape),
 * and the only other hot-path handle is glibc's {@code clone}, whose child must start in C.
 * {@link #warmUp()} links both on a background thread while the CLI is being parsed.
 *
 * <p>errno is captured per call ({@code Linker.Option.captureCallState("errno")}) into a
 * segment owned by that call, never read afterwards from a shared buffer.
 */
@SuppressWarnings("restricted") // the one place that creates downcall handles
final class Native {
    private static final Linker LINKER = linker();
    private static final SymbolLookup LIBC = LINKER.defaultLookup();
    static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
    static final long ERRNO_OFFSET = CAPTURE.byteOffset(MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker.Option ERRNO = Linker.Option.captureCallState("errno");

    private static Linker linker() {
        Trace.mark("FFM: linking");
        Linker l = Linker.nativeLinker();
        Trace.mark("FFM: nativeLinker()");
        return l;
    }

    /**
     * {@code long syscall(long number, ...)}: six variadic longs, as the kernel ABI takes.
     * Each handle sits in its own holder class, so that the two can be linked on two threads
     * at once (class initialisation is the unit of laziness and of locking).
     */
    private static final class Sys {
        static final MethodHandle SYSCALL = LINKER.downcallHandle(symbol(LIBC, "syscall"),
                FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG),
                Linker.Option.firstVariadicArg(1), ERRNO);
        private static final boolean T = trace("FFM: syscall linked");
    }

    /** {@code int clone(int (*fn)(void *), void *stack, int flags, void *arg, ...)}; we pass no variadic part. */
    private static final class Clone {
        static final MethodHandle CLONE = LINKER.downcallHandle(symbol(LIBC, "clone"),
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, ADDRESS),
                Linker.Option.firstVariadicArg(4), ERRNO);
        private static final boolean T = trace("FFM: clone linked");
    }

    private Native() {
    }

    private static boolean trace(String what) {
        Trace.mark(what);
        return true;
    }

    /**
     * Run on a background thread from {@code main}: links both handles, makes a first call
     * through syscall (its invocation path is spun lazily too) and loads libgvshim, while the
     * main thread parses the command line, plans the run and builds the spec. Linking spins
     * classes for ~25 ms, which the AOT cache cannot hold; the two linkings contend on JDK
     * locks, so one thread does both and the main thread does everything that needs no FFM.
     */
    static void warmUp() {
        Clone.CLONE.type();
        try {
            syscall("getpid", "", SyscallNumbers.GETPID, 0, 0, 0, 0, 0, 0);
            Gvshim.CHILD.address();
        } catch (SyscallException | UnsatisfiedLinkError | ExceptionInInitializerError e) {
            // reported where it matters: the first real call
        }
        Trace.mark("FFM linked");
    }

    static MemorySegment symbol(SymbolLookup lookup, String name) {
        return lookup.find(name).orElseThrow(() -> new UnsatisfiedLinkError("symbol not found: " + name));
    }

    /** One system call; -1 becomes a SyscallException with the errno captured for this call. */
    static long syscall(String call, String detail, int nr, long a, long b, long c, long d, long e, long f)
            throws SyscallException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            long rc = (long) Sys.SYSCALL.invokeExact(state, (long) nr, a, b, c, d, e, f);
            if (rc == -1) {
                throw new SyscallException(call, Bytes.readInt(state, ERRNO_OFFSET), detail);
            }
            return rc;
        } catch (SyscallException | RuntimeException | Error x) {
            throw x;
        } catch (Throwable t) {
            throw new AssertionError("downcall " + call + " failed: " + t, t);
        }
    }

    static int clone(MemorySegment fn, MemorySegment stackTop, int flags, MemorySegment arg, String detail)
            throws SyscallException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            int rc = (int) Clone.CLONE.invokeExact(state, fn, stackTop, flags, arg);
            if (rc == -1) {
                throw new SyscallException("clone", Bytes.readInt(state, ERRNO_OFFSET), detail);
            }
            return rc;
        } catch (SyscallException | RuntimeException | Error x) {
            throw x;
        } catch (Throwable t) {
            throw new AssertionError("downcall clone failed: " + t, t);
        }
    }

    static String strerrorname(int errno) {
        return Names.call(Names.STRERRORNAME_NP, errno);
    }

    static String strerror(int errno) {
        return Names.call(Names.STRERROR, errno);
    }

    /** Linked on first use: only failure paths name errnos. */
    private static final class Names {
        static final MethodHandle STRERRORNAME_NP = optional("strerrorname_np");
        static final MethodHandle STRERROR = optional("strerror");

        private static MethodHandle optional(String name) {
            return LIBC.find(name)
                    .map(s -> LINKER.downcallHandle(s, FunctionDescriptor.of(ADDRESS, JAVA_INT)))
                    .orElse(null);
        }

        static String call(MethodHandle h, int errno) {
            if (h == null) {
                return null;
            }
            try {
                MemorySegment p = (MemorySegment) h.invokeExact(errno);
                return p.equals(MemorySegment.NULL) ? null : p.reinterpret(256).getString(0);
            } catch (Throwable t) {
                throw new AssertionError("strerror: " + t, t);
            }
        }
    }

    /** libgvshim.so, the C child entry of clone(2). Linked on first spawn. */
    static final class Gvshim {
        static final Path LIBRARY = locate();
        private static final SymbolLookup LOOKUP = SymbolLookup.libraryLookup(LIBRARY, Arena.global());
        static final MemorySegment CHILD = symbol(LOOKUP, "gvshim_child");
        private static final boolean T3 = trace("FFM: libgvshim loaded");

        private Gvshim() {
        }

        private static Path locate() {
            String dir = System.getProperty("gvshim.native.dir");
            if (dir == null) {
                String home = System.getProperty("gvshim.home");
                dir = home == null ? besideTheJar() : home + "/lib";
            }
            if (dir == null || !Files.isRegularFile(Path.of(dir, "libgvshim.so"))) {
                throw new UnsatisfiedLinkError("libgvshim.so not found (looked in " + dir
                        + "); start gvshim through its launcher, bin/gvshim");
            }
            return Path.of(dir, "libgvshim.so");
        }

        /**
         * The directory of the jar this class came from: an installation's lib/, for the Java API
         * in an application that sets no gvshim.home (its jar on the class path). Null otherwise.
         */
        private static String besideTheJar() {
            try {
                var src = Native.class.getProtectionDomain().getCodeSource();
                Path jar = src == null ? null : Path.of(src.getLocation().toURI());
                return jar == null || jar.getParent() == null || !Files.isRegularFile(jar) ? null : jar.getParent().toString();
            } catch (java.net.URISyntaxException | RuntimeException e) {
                return null;
            }
        }

        /**
         * {@code int gvshim_forward_signals(int pid)} (native/gvshim_signals.c), linked on first use:
         * only a one-shot JVM's foreground runtime run or exec needs it.
         */
        private static final class Forward {
            static final MethodHandle FORWARD = LINKER.downcallHandle(symbol(LOOKUP, "gvshim_forward_signals"),
                    FunctionDescriptor.of(JAVA_INT, JAVA_INT));
        }

        /** The signals this JVM receives go to {@code pid} from now on (0: dropped; -1: held until a pid is given); 0 or an errno. */
        static int forwardSignals(int pid) {
            try {
                return (int) Forward.FORWARD.invokeExact(pid);
            } catch (RuntimeException | Error e) {
                throw e;
            } catch (Throwable t) {
                throw new AssertionError("downcall gvshim_forward_signals failed: " + t, t);
            }
        }

        /** ABI checks for tests: the struct Java lays out must be the one C reads. */
        static int abiVersion() throws Throwable {
            return (int) LINKER.downcallHandle(symbol(LOOKUP, "gvshim_abi_version"), FunctionDescriptor.of(JAVA_INT))
                    .invokeExact();
        }

        static long spawnSize() throws Throwable {
            return (long) LINKER.downcallHandle(symbol(LOOKUP, "gvshim_spawn_size"), FunctionDescriptor.of(JAVA_LONG))
                    .invokeExact();
        }
    }
}

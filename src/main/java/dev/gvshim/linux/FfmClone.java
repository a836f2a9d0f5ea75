package dev.gvshim.linux;

import static dev.gvshim.linux.SyscallNumbers.RT_SIGPROCMASK;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;

/**
 * clone(2) over FFM: lays out {@code struct gvshim_spawn} (native/gvshim.h) in native memory and
 * calls glibc's {@code clone()} with {@code gvshim_child} from libgvshim.so as the child's
 * function. Asynchronous signals are blocked around the call, so that no JVM signal handler can
 * run in the child before it has reset them.
 */
final class FfmClone {
    private static final long STACK_SIZE = 64 * 1024;
    /** sizeof(struct gvshim_spawn), checked against the C side by SpawnerTest. */
    static final long SPAWN_SIZE = 64;

    private FfmClone() {
    }

    static Spawner.Child clone(Syscalls sys, Spawner.Request r, int cloneFlags, Step step) throws SyscallException {
        int[] status;
        try {
            status = sys.pipe2(Linux.O_CLOEXEC);
        } catch (SyscallException e) {
            throw e.in(step);
        }
        Arena arena = Arena.ofShared();
        try {
            ByteBuffer b = Bytes.buffer((int) SPAWN_SIZE); // struct gvshim_spawn
            b.putLong(Bytes.cString(arena, r.path()).address())
                    .putLong(Bytes.stringArray(arena, r.argv()).address())
                    .putLong(Bytes.stringArray(arena, r.env()).address())
                    .putInt(r.stdin()).putInt(r.stdout()).putInt(r.stderr())
                    .putInt(r.syncFd()).putInt(status[1]).putInt(r.flags())
                    .putInt((int) ProcessHandle.current().pid()).putInt(r.syncPeer()).putInt(r.uid()).putInt(r.gid());
            MemorySegment s = Bytes.toNative(arena, b);
            MemorySegment stack = arena.allocate(STACK_SIZE, 16);
            MemorySegment top = MemorySegment.ofAddress((stack.address() + STACK_SIZE) & ~15L);
            Trace.mark("clone: struct laid out");
            long mask = blockAsyncSignals();
            int pid;
            try {
                pid = Native.clone(Native.Gvshim.CHILD, top, cloneFlags | Linux.SIGCHLD, s, Spawner.describe(cloneFlags));
            } finally {
                restoreSignals(mask);
            }
            Trace.mark("clone: returned");
            sys.closeQuietly(status[1]);
            return new Spawner.Child(sys, pid, status[0], r.path(), arena);
        } catch (SyscallException e) {
            sys.closeQuietly(status);
            arena.close();
            throw e.in(step);
        } catch (RuntimeException e) {
            sys.closeQuietly(status);
            arena.close();
            throw e;
        }
    }

    /**
     * Blocks every asynchronous signal in the calling thread and returns the previous mask
     * (rt_sigprocmask(2)). Synchronous signals the JVM relies on (SEGV for implicit null
     * checks and safepoint polls, BUS, ILL, FPE, TRAP, SYS) stay unblocked: blocking them is
     * fatal when they fire.
     */
    static long blockAsyncSignals() throws SyscallException {
        long sync = bit(4) | bit(5) | bit(7) | bit(8) | bit(11) | bit(31);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment set = Bytes.toNative(arena, Bytes.buffer(8).putLong(0, ~sync));
            MemorySegment old = arena.allocate(8, 8);
            FfmSyscalls.sys("rt_sigprocmask", "SIG_BLOCK", RT_SIGPROCMASK, 0 /* SIG_BLOCK */, set.address(), old.address(), 8);
            return Bytes.fromNative(old, 0, 8).getLong(0);
        }
    }

    /** Restores a mask returned by {@link #blockAsyncSignals()}. */
    static void restoreSignals(long mask) throws SyscallException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment set = Bytes.toNative(arena, Bytes.buffer(8).putLong(0, mask));
            FfmSyscalls.sys("rt_sigprocmask", "SIG_SETMASK", RT_SIGPROCMASK, 2 /* SIG_SETMASK */, set.address(), 0, 8);
        }
    }

    private static long bit(int sig) {
        return 1L << (sig - 1);
    }
}

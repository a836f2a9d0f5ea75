package dev.gvshim.container;

import dev.gvshim.linux.Errno;
import dev.gvshim.linux.Linux;
import dev.gvshim.linux.SyscallException;
import dev.gvshim.linux.Syscalls;
import java.nio.file.Path;

/**
 * flock(2) on a directory (LOCK_EX), released by closing the descriptor: orders the first calls
 * that create a random state directory in /tmp ({@link StateDir}).
 */
final class TmpLock implements AutoCloseable {
    private static final int LOCK_EX = 2;
    private static final int LOCK_NB = 4;
    private final Syscalls sys;
    private int fd;

    private TmpLock(Syscalls sys, int fd) {
        this.sys = sys;
        this.fd = fd;
    }

    /** {@link #take(Syscalls, Path, long)} with this process's system calls. */
    static TmpLock take(Path dir, long waitMillis) {
        return take(Syscalls.system(), dir, waitMillis);
    }

    /**
     * Takes the lock within {@code waitMillis}, polling (LOCK_NB) so that a holder that never lets
     * go costs only the wait; without it, a lock that holds nothing (the call goes on unlocked).
     */
    static TmpLock take(Syscalls sys, Path dir, long waitMillis) {
        int fd = -1;
        try {
            fd = sys.open(dir.toString(), Linux.O_RDONLY | Linux.O_CLOEXEC, 0);
            long deadline = System.nanoTime() + waitMillis * 1_000_000;
            while (true) {
                try {
                    sys.flock(fd, LOCK_EX | LOCK_NB);
                    return new TmpLock(sys, fd);
                } catch (SyscallException e) {
                    if (e.errno() != Errno.EAGAIN || System.nanoTime() > deadline) {
                        break;
                    }
                }
                Thread.sleep(5);
            }
        } catch (SyscallException e) {
            // no lock: go on without it
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        sys.closeQuietly(fd);
        return new TmpLock(sys, -1);
    }

    @Override
    public void close() {
        if (fd >= 0) {
            sys.closeQuietly(fd);
            fd = -1;
        }
    }
}

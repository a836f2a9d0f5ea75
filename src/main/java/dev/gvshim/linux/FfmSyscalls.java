package dev.gvshim.linux;

import static dev.gvshim.linux.SyscallNumbers.*;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;

/**
 * {@link Syscalls} over FFM: every call goes through {@link Native}'s one variadic
 * {@code syscall(2)} handle (see there why one), and clone through {@link FfmClone}. Stateless:
 * the handles are linked once per process, in {@link Native}'s holder classes.
 */
final class FfmSyscalls implements Syscalls {
    static final FfmSyscalls INSTANCE = new FfmSyscalls();

    private static final int AT_FDCWD = -100;
    private static final int F_GETFD = 1;
    private static final int F_SETFD = 2;
    private static final int FD_CLOEXEC = 1;
    private static final int S_IFIFO = 0x1000;
    private static final int AT_REMOVEDIR = 0x200; // fcntl.h
    private static final int TCGETS = 0x5401;
    private static final int AF_UNIX = 1;
    private static final int SOCK_STREAM = 1;

    private FfmSyscalls() {
    }

    static long sys(String call, String detail, int nr, long a, long b, long c, long d) throws SyscallException {
        return Native.syscall(call, detail, nr, a, b, c, d, 0, 0);
    }

    @Override
    public int[] pipe2(int flags) throws SyscallException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment fds = arena.allocate(8, 4);
            sys("pipe2", "", PIPE2, fds.address(), flags, 0, 0);
            ByteBuffer b = Bytes.fromNative(fds, 0, 8);
            return new int[] {b.getInt(0), b.getInt(4)};
        }
    }

    @Override
    public void close(int fd) throws SyscallException {
        sys("close", "fd " + fd, CLOSE, fd, 0, 0, 0);
    }

    @Override
    public int read(int fd, byte[] buf, int off, int len) throws SyscallException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate(len);
            for (;;) {
                try {
                    int n = (int) sys("read", "fd " + fd, READ, fd, seg.address(), len, 0);
                    MemorySegment.copy(seg, JAVA_BYTE, 0, buf, off, n);
                    return n;
                } catch (SyscallException e) {
                    if (e.errno() != Errno.EINTR) {
                        throw e;
                    }
                }
            }
        }
    }

    @Override
    public void write(int fd, byte[] data, String what) throws SyscallException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate(Math.max(1, data.length));
            MemorySegment.copy(MemorySegment.ofArray(data), 0, seg, 0, data.length);
            long done = 0;
            while (done < data.length) {
                try {
                    done += sys("write", what, WRITE, fd, seg.address() + done, data.length - done, 0);
                } catch (SyscallException e) {
                    if (e.errno() != Errno.EINTR) {
                        throw e;
                    }
                }
            }
        }
    }

    @Override
    public int open(String path, int flags, int mode) throws SyscallException {
        try (Arena arena = Arena.ofConfined()) {
            return (int) sys("open", path, OPENAT, AT_FDCWD, Bytes.cString(arena, path).address(), flags, mode);
        }
    }

    @Override
    public void flock(int fd, int operation) throws SyscallException {
        sys("flock", "fd " + fd, FLOCK, fd, operation, 0, 0);
    }

    @Override
    public void inheritable(int fd) throws SyscallException {
        long flags = sys("fcntl", "F_GETFD fd " + fd, FCNTL, fd, F_GETFD, 0, 0);
        sys("fcntl", "F_SETFD fd " + fd, FCNTL, fd, F_SETFD, flags & ~FD_CLOEXEC, 0);
    }

    @Override
    public void mkfifo(String path, int mode) throws SyscallException {
        try (Arena arena = Arena.ofConfined()) {
            sys("mkfifo", path, MKNODAT, AT_FDCWD, Bytes.cString(arena, path).address(), S_IFIFO | mode, 0);
        }
    }

    @Override
    public void rmdir(String path) throws SyscallException {
        try (Arena arena = Arena.ofConfined()) {
            long name = Bytes.cString(arena, path).address();
            while (true) {
                try {
                    sys("rmdir", path, UNLINKAT, AT_FDCWD, name, AT_REMOVEDIR, 0);
                    return;
                } catch (SyscallException e) {
                    if (e.errno() != Errno.EINTR) {
                        throw e;
                    }
                }
            }
        }
    }

    @Override
    public int listenUnix(String path) throws SyscallException {
        byte[] name = path.getBytes(StandardCharsets.UTF_8);
        if (name.length >= 108) { // sizeof(sun_path), unix(7)
            throw new SyscallException("bind", Errno.ENAMETOOLONG, path);
        }
        int fd = (int) sys("socket", "AF_UNIX", SOCKET, AF_UNIX, SOCK_STREAM | Linux.O_CLOEXEC, 0, 0);
        try (Arena arena = Arena.ofConfined()) {
            ByteBuffer sun = Bytes.buffer(110); // struct sockaddr_un
            sun.putShort((short) AF_UNIX).put(name);
            MemorySegment addr = Bytes.toNative(arena, sun);
            sys("bind", path, BIND, fd, addr.address(), 110, 0);
            sys("listen", path, LISTEN, fd, 1, 0, 0);
            return fd;
        } catch (SyscallException e) {
            closeQuietly(fd);
            throw e;
        }
    }

    @Override
    public boolean isatty(int fd) {
        try (Arena arena = Arena.ofConfined()) {
            sys("ioctl", "TCGETS", IOCTL, fd, TCGETS, arena.allocate(64).address(), 0);
            return true;
        } catch (SyscallException e) {
            return false;
        }
    }

    @Override
    public Linux.WaitStatus waitpid(int pid, int options) throws SyscallException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment status = arena.allocate(4, 4);
            for (;;) {
                try {
                    int got = (int) sys("waitpid", "pid " + pid, WAIT4, pid, status.address(), options, 0);
                    return new Linux.WaitStatus(got, Bytes.readInt(status, 0));
                } catch (SyscallException e) {
                    if (e.errno() != Errno.EINTR) {
                        throw e;
                    }
                }
            }
        }
    }

    @Override
    public void chdir(String path) throws SyscallException {
        try (Arena arena = Arena.ofConfined()) {
            sys("chdir", path, CHDIR, Bytes.cString(arena, path).address(), 0, 0, 0);
        }
    }

    @Override
    public void kill(int pid, int sig) throws SyscallException {
        sys("kill", "pid " + pid + " signal " + sig, KILL, pid, sig, 0, 0);
    }

    @Override
    public long prctl(int op, long arg2, long arg3, long arg4, long arg5) throws SyscallException {
        return Native.syscall("prctl", "op " + op, PRCTL, op, arg2, arg3, arg4, arg5, 0);
    }

    @Override
    public int getuid() throws SyscallException {
        return (int) sys("getuid", "", GETUID, 0, 0, 0, 0);
    }

    @Override
    public int geteuid() throws SyscallException {
        return (int) sys("geteuid", "", GETEUID, 0, 0, 0, 0);
    }

    @Override
    public int getgid() throws SyscallException {
        return (int) sys("getgid", "", GETGID, 0, 0, 0, 0);
    }

    @Override
    public int getegid() throws SyscallException {
        return (int) sys("getegid", "", GETEGID, 0, 0, 0, 0);
    }

    @Override
    public int getpid() throws SyscallException {
        return (int) sys("getpid", "", GETPID, 0, 0, 0, 0);
    }

    @Override
    public Optional<byte[]> getxattr(String path, String name) throws SyscallException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(4096);
            long n = sys("getxattr", path + " " + name, GETXATTR, Bytes.cString(arena, path).address(),
                    Bytes.cString(arena, name).address(), buf.address(), buf.byteSize());
            return Optional.of(buf.asSlice(0, n).toArray(JAVA_BYTE));
        } catch (SyscallException e) {
            if (e.errno() == Errno.ENODATA || e.errno() == Errno.EOPNOTSUPP) {
                return Optional.empty();
            }
            throw e;
        }
    }

    @Override
    public void unshare(int flags) throws SyscallException {
        sys("unshare", "0x" + Integer.toHexString(flags), UNSHARE, flags, 0, 0, 0);
    }

    @Override
    public void setns(int fd, int nstype) throws SyscallException {
        sys("setns", "fd " + fd, SETNS, fd, nstype, 0, 0);
    }

    @Override
    public void execve(String path, List<String> argv, List<String> envp) throws SyscallException {
        Arena arena = Arena.ofConfined(); // on success the process image is gone; on failure, freed below
        try {
            MemorySegment p = Bytes.cString(arena, path);
            sys("execve", path, EXECVE, p.address(), Bytes.stringArray(arena, argv).address(),
                    Bytes.stringArray(arena, envp).address(), 0);
            throw new AssertionError("execve returned");
        } finally {
            arena.close();
        }
    }

    @Override
    public Spawner.Child clone(Spawner.Request r, int cloneFlags, Step step) throws SyscallException {
        return FfmClone.clone(this, r, cloneFlags, step);
    }
}

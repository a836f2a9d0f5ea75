package dev.gvshim.linux;

import static dev.gvshim.linux.SyscallNumbers.*;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * AF_UNIX stream sockets with descriptor passing, and the per-thread file-system context, for
 * the gvshim server (issue 17): socket, bind, listen, accept4, connect, socketpair,
 * sendmsg/recvmsg with SCM_RIGHTS, SO_PEERCRED, ppoll, umask, fchdir, setsid. All through the
 * one {@code syscall} downcall of {@link Native} (no new FunctionDescriptor: no extra linking at
 * start-up). The structs (sockaddr_un, msghdr, iovec, cmsghdr, ucred, pollfd, timespec) are laid
 * out in heap buffers as {@link Bytes} does; LP64 (x86_64 and aarch64) has one layout for them.
 */
public final class UnixSockets {
    private static final int AF_UNIX = 1;
    private static final int SOCK_STREAM = 1;
    private static final int SOCK_CLOEXEC = 0x80000;
    private static final int SOL_SOCKET = 1;
    private static final int SO_PEERCRED = 17;
    private static final int SCM_RIGHTS = 1;
    private static final int MSG_NOSIGNAL = 0x4000;
    private static final int MSG_CTRUNC = 0x8;
    private static final int MSG_CMSG_CLOEXEC = 0x40000000;
    /** sizeof(sun_path), unix(7). */
    private static final int SUN_PATH = 108;
    /** The most descriptors one frame carries (a hand-over of `gvshim run` sends six). */
    public static final int MAX_FDS = 16;

    public static final short POLLIN = 0x1;
    public static final short POLLERR = 0x8;
    public static final short POLLHUP = 0x10;

    private UnixSockets() {
    }

    /** What SO_PEERCRED says about the process at the other end (socket(7), unix(7)). */
    public record Cred(int pid, int uid, int gid) {
    }

    /** The bytes one {@link #recv} read and the descriptors that came with them (close-on-exec). */
    public record Received(int length, int[] fds) {
    }

    private static long sys(String call, String detail, int nr, long a, long b, long c, long d, long e)
            throws SyscallException {
        return Native.syscall(call, detail, nr, a, b, c, d, e, 0);
    }

    private static MemorySegment sockaddr(Arena arena, String call, String path) throws SyscallException {
        byte[] name = path.getBytes(StandardCharsets.UTF_8);
        if (name.length >= SUN_PATH) {
            // callers name long directories as /proc/self/fd/N/NAME (see ServerDir)
            throw new SyscallException(call, Errno.ENAMETOOLONG, path);
        }
        ByteBuffer sun = Bytes.buffer(2 + SUN_PATH);
        sun.putShort((short) AF_UNIX).put(name);
        return Bytes.toNative(arena, sun);
    }

    /** socket(2) + bind(2) + listen(2), close-on-exec. The socket file gets the mode the umask leaves. */
    public static int listen(String path, int backlog) throws SyscallException {
        int fd = (int) sys("socket", "AF_UNIX", SOCKET, AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, 0, 0);
        try (Arena arena = Arena.ofConfined()) {
            sys("bind", path, BIND, fd, sockaddr(arena, "bind", path).address(), 2 + SUN_PATH, 0, 0);
            sys("listen", path, LISTEN, fd, backlog, 0, 0, 0);
            return fd;
        } catch (SyscallException e) {
            Linux.closeQuietly(fd);
            throw e;
        }
    }

    /** socket(2) + connect(2), close-on-exec. ENOENT: no socket; ECONNREFUSED: nobody listens on it. */
    public static int connect(String path) throws SyscallException {
        int fd = (int) sys("socket", "AF_UNIX", SOCKET, AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, 0, 0);
        try (Arena arena = Arena.ofConfined()) {
            while (true) {
                try {
                    sys("connect", path, CONNECT, fd, sockaddr(arena, "connect", path).address(), 2 + SUN_PATH, 0, 0);
                    return fd;
                } catch (SyscallException e) {
                    if (e.errno() != Errno.EINTR) {
                        throw e;
                    }
                }
            }
        } catch (SyscallException e) {
            Linux.closeQuietly(fd);
            throw e;
        }
    }

    /** socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC): two connected ends. */
    public static int[] pair() throws SyscallException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment fds = arena.allocate(8, 4);
            sys("socketpair", "AF_UNIX", SOCKETPAIR, AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds.address(), 0);
            ByteBuffer b = Bytes.fromNative(fds, 0, 8);
            return new int[] {b.getInt(0), b.getInt(4)};
        }
    }

    /** accept4(2) with SOCK_CLOEXEC, retried on EINTR and ECONNABORTED (the peer left first). */
    public static int accept(int listener) throws SyscallException {
        while (true) {
            try {
                return (int) sys("accept4", "fd " + listener, ACCEPT4, listener, 0, 0, SOCK_CLOEXEC, 0);
            } catch (SyscallException e) {
                if (e.errno() != Errno.EINTR && e.errno() != Errno.ECONNABORTED) {
                    throw e;
                }
            }
        }
    }

    /**
     * getsockopt(SO_PEERCRED): the peer's credentials when it called connect(2) (socketpair(2): at
     * creation). The pid is 0 when the peer is in a pid namespace this process cannot see.
     */
    public static Cred peerCred(int fd) throws SyscallException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment cred = arena.allocate(12, 4);
            MemorySegment len = Bytes.toNative(arena, Bytes.buffer(4).putInt(0, 12));
            sys("getsockopt", "SO_PEERCRED", GETSOCKOPT, fd, SOL_SOCKET, SO_PEERCRED, cred.address(), len.address());
            ByteBuffer b = Bytes.fromNative(cred, 0, 12);
            return new Cred(b.getInt(0), b.getInt(4), b.getInt(8));
        }
    }

    /**
     * sendmsg(2) of all of {@code data}, with {@code fds} as SCM_RIGHTS on the first byte (unix(7):
     * the receiver gets them with the recvmsg that reads that byte). MSG_NOSIGNAL: a peer that went
     * away is EPIPE, never SIGPIPE. The descriptors stay this process's to close.
     */
    public static void send(int fd, byte[] data, int[] fds) throws SyscallException {
        if (fds.length > MAX_FDS) {
            throw new SyscallException("sendmsg", Errno.E2BIG, fds.length + " descriptors");
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(Math.max(1, data.length));
            MemorySegment.copy(MemorySegment.ofArray(data), 0, buf, 0, data.length);
            int off = 0;
            boolean fdsSent = fds.length == 0;
            while (off < data.length) {
                MemorySegment control = MemorySegment.NULL;
                int controlLen = 0;
                if (!fdsSent) {
                    controlLen = cmsgSpace(fds.length);
                    ByteBuffer c = Bytes.buffer(controlLen);
                    c.putLong(16L + 4L * fds.length).putInt(SOL_SOCKET).putInt(SCM_RIGHTS);
                    for (int f : fds) {
                        c.putInt(f);
                    }
                    control = Bytes.toNative(arena, c);
                }
                MemorySegment msg = msghdr(arena, buf.address() + off, data.length - off, control, controlLen);
                try {
                    off += (int) sys("sendmsg", "fd " + fd, SENDMSG, fd, msg.address(), MSG_NOSIGNAL, 0, 0);
                    fdsSent = true;
                } catch (SyscallException e) {
                    if (e.errno() != Errno.EINTR) {
                        throw e;
                    }
                }
            }
        }
    }

    /**
     * recvmsg(2) of at most {@code len} bytes into {@code buf} at {@code off}, collecting SCM_RIGHTS
     * descriptors (MSG_CMSG_CLOEXEC), retried on EINTR. Length 0: the peer closed. Descriptors cut
     * off (MSG_CTRUNC) are a protocol error: those that did arrive are closed, EPROTO is thrown.
     */
    public static Received recv(int fd, byte[] buf, int off, int len) throws SyscallException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment data = arena.allocate(Math.max(1, len));
            int controlLen = cmsgSpace(MAX_FDS);
            MemorySegment control = arena.allocate(controlLen, 8);
            MemorySegment msg = msghdr(arena, data.address(), len, control, controlLen);
            long n;
            while (true) {
                try {
                    n = sys("recvmsg", "fd " + fd, RECVMSG, fd, msg.address(), MSG_CMSG_CLOEXEC, 0, 0);
                    break;
                } catch (SyscallException e) {
                    if (e.errno() != Errno.EINTR) {
                        throw e;
                    }
                }
            }
            MemorySegment.copy(data, JAVA_BYTE, 0, buf, off, (int) n);
            ByteBuffer h = Bytes.fromNative(msg, 0, 56);
            long gotControl = h.getLong(40);
            int flags = h.getInt(48);
            int[] fds = new int[0];
            if (gotControl >= 16) {
                ByteBuffer c = Bytes.fromNative(control, 0, (int) Math.min(gotControl, controlLen));
                long cmsgLen = c.getLong(0);
                if (c.getInt(8) == SOL_SOCKET && c.getInt(12) == SCM_RIGHTS) {
                    int count = (int) ((Math.min(cmsgLen, gotControl) - 16) / 4);
                    fds = new int[count];
                    for (int i = 0; i < count; i++) {
                        fds[i] = c.getInt(16 + 4 * i);
                    }
                }
            }
            if ((flags & MSG_CTRUNC) != 0) {
                Linux.closeQuietly(fds);
                throw new SyscallException("recvmsg", Errno.EPROTO, "descriptors truncated");
            }
            return new Received((int) n, fds);
        }
    }

    /** struct msghdr (56 bytes on LP64) with one iovec and no address (a connected socket). */
    private static MemorySegment msghdr(Arena arena, long base, long len, MemorySegment control, int controlLen) {
        MemorySegment iov = Bytes.toNative(arena, Bytes.buffer(16).putLong(0, base).putLong(8, len));
        ByteBuffer m = Bytes.buffer(56);
        m.putLong(0, 0).putInt(8, 0).putLong(16, iov.address()).putLong(24, 1)
                .putLong(32, control.address()).putLong(40, controlLen).putInt(48, 0);
        return Bytes.toNative(arena, m);
    }

    /** CMSG_SPACE(4 * n): a 16-byte header and the data rounded up to 8 bytes. */
    private static int cmsgSpace(int n) {
        return 16 + ((4 * n + 7) & ~7);
    }

    /**
     * ppoll(2) of {@code fds} for {@code events}; each descriptor's revents. A negative timeout
     * waits forever; EINTR returns "nothing happened" (all zero).
     */
    public static short[] poll(int[] fds, short events, long timeoutMillis) throws SyscallException {
        short[] each = new short[fds.length];
        java.util.Arrays.fill(each, events);
        return poll(fds, each, timeoutMillis);
    }

    /** {@link #poll(int[], short, long)} with the events of each descriptor (0: only POLLHUP and POLLERR, always reported). */
    public static short[] poll(int[] fds, short[] events, long timeoutMillis) throws SyscallException {
        try (Arena arena = Arena.ofConfined()) {
            ByteBuffer p = Bytes.buffer(8 * fds.length);
            for (int i = 0; i < fds.length; i++) {
                p.putInt(8 * i, fds[i]).putShort(8 * i + 4, events[i]).putShort(8 * i + 6, (short) 0);
            }
            MemorySegment pfds = Bytes.toNative(arena, p);
            MemorySegment ts = MemorySegment.NULL;
            if (timeoutMillis >= 0) {
                ts = Bytes.toNative(arena, Bytes.buffer(16).putLong(0, timeoutMillis / 1000)
                        .putLong(8, (timeoutMillis % 1000) * 1_000_000));
            }
            short[] rev = new short[fds.length];
            try {
                sys("ppoll", "", PPOLL, pfds.address(), fds.length, ts.address(), 0, 8);
            } catch (SyscallException e) {
                if (e.errno() == Errno.EINTR) {
                    return rev;
                }
                throw e;
            }
            ByteBuffer out = Bytes.fromNative(pfds, 0, 8 * fds.length);
            for (int i = 0; i < fds.length; i++) {
                rev[i] = out.getShort(8 * i + 6);
            }
            return rev;
        }
    }

    /**
     * umask(2): sets the mask, returns the previous one. Per fs_struct, so per thread once the
     * thread did unshare(CLONE_FS) (unshare(2)).
     */
    public static int umask(int mask) throws SyscallException {
        return (int) sys("umask", "", UMASK, mask, 0, 0, 0, 0);
    }

    /** fchdir(2): the working directory of this thread's fs_struct (see {@link #umask}). */
    public static void fchdir(int fd) throws SyscallException {
        sys("fchdir", "fd " + fd, FCHDIR, fd, 0, 0, 0, 0);
    }

    /** setsid(2): a new session and process group, no controlling terminal (fails in a group leader). */
    public static void setsid() throws SyscallException {
        sys("setsid", "", SETSID, 0, 0, 0, 0, 0);
    }
}

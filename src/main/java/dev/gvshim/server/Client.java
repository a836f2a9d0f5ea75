package dev.gvshim.server;

import dev.gvshim.linux.Errno;
import dev.gvshim.linux.Linux;
import dev.gvshim.linux.SyscallException;
import dev.gvshim.linux.UnixSockets;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A Java client of the protocol, for `gvshim server status|stop|start` in a one-shot JVM (the
 * native client serves them itself when a server runs; this is the path with GVSHIM_SERVER=off
 * or without the native client) and for the tests. It sends this process's own descriptors
 * 0-2 and working directory, and knows only the server's own verbs: A, Q and C.
 */
public final class Client {
    /** {@link #call}'s answer when no server listens at the socket (none, or a dead one's). */
    public static final int NOT_RUNNING = -1;
    /** {@link #call}'s answer when the server said COLD. */
    public static final int COLD = -2;

    private Client() {
    }

    /** Whether a server listens at {@code where}'s socket (it sees a connection that sends nothing, and drops it). */
    public static boolean running(ServerDir where) {
        int dirfd = -1;
        try {
            dirfd = Linux.open(where.dir().toString(), 0x200000 | 0x10000 | Linux.O_CLOEXEC, 0);
            Linux.closeQuietly(UnixSockets.connect("/proc/self/fd/" + dirfd + "/" + where.socket().getFileName()));
            return true;
        } catch (SyscallException e) {
            return false;
        } finally {
            Linux.closeQuietly(dirfd);
        }
    }

    /**
     * Sends {@code argv} to the server of {@code where} and returns its exit status, or
     * {@link #NOT_RUNNING}, or {@link #COLD}. The socket is reached through
     * /proc/self/fd/DIRFD/NAME (no 108-byte limit).
     */
    public static int call(ServerDir where, String buildId, String home, String cwd, List<String> argv, Map<String, String> env)
            throws IOException {
        return call(where, buildId, home, cwd, argv, env, new int[] {0, 1, 2});
    }

    /** {@link #call(ServerDir, String, String, String, List, Map)} with {@code stdio} as the call's stdin, stdout, stderr. */
    public static int call(ServerDir where, String buildId, String home, String cwd, List<String> argv, Map<String, String> env,
            int[] stdio) throws IOException {
        int dirfd;
        try {
            dirfd = Linux.open(where.dir().toString(), 0x200000 | 0x10000 | Linux.O_CLOEXEC, 0); // O_PATH|O_DIRECTORY
        } catch (SyscallException e) {
            if (e.errno() == Errno.ENOENT) {
                return NOT_RUNNING;
            }
            throw new IOException("cannot open " + where.dir() + ": " + e.callAndErrno(), e);
        }
        int sock = -1;
        int cwdFd = -1;
        try {
            try {
                sock = UnixSockets.connect("/proc/self/fd/" + dirfd + "/" + where.socket().getFileName());
            } catch (SyscallException e) {
                if (e.errno() == Errno.ENOENT || e.errno() == Errno.ECONNREFUSED) {
                    return NOT_RUNNING;
                }
                throw new IOException("cannot connect to " + where.socket() + ": " + e.callAndErrno(), e);
            }
            cwdFd = Linux.open(cwd, 0x200000 | 0x10000 | Linux.O_CLOEXEC, 0);
            int umask = UnixSockets.umask(077);
            UnixSockets.umask(umask);
            List<String> envList = new ArrayList<>();
            env.forEach((k, v) -> envList.add(k + "=" + v));
            new Wire.Out().i32(Wire.PROTOCOL).str(buildId).str(home).i32(umask).str(cwd).strs(argv).strs(envList)
                    .frame(Wire.REQUEST, stdio[0], stdio[1], stdio[2], cwdFd).write(sock);
            while (true) {
                Wire.Frame f = Wire.read(sock);
                if (f == null) {
                    throw new IOException("the server closed the connection during the call");
                }
                f.closeFds();
                switch (f.type()) {
                    case Wire.ACCEPTED -> {
                        // the server acts
                    }
                    case Wire.EXIT -> {
                        return f.in().i32();
                    }
                    case Wire.COLD -> {
                        return COLD;
                    }
                    default -> throw Wire.protocol("a '" + (char) f.type() + "' frame for a client that starts nothing");
                }
            }
        } catch (SyscallException e) {
            throw new IOException("talking to the server: " + e.callAndErrno(), e);
        } finally {
            Linux.closeQuietly(sock, cwdFd, dirfd);
        }
    }
}

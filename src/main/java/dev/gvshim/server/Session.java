package dev.gvshim.server;

import dev.gvshim.linux.Errno;
import dev.gvshim.linux.Linux;
import dev.gvshim.linux.SyscallException;
import dev.gvshim.linux.UnixSockets;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Arrays;
import java.util.List;

/**
 * One connection, as the server sees it: the client's request and what the server tells the
 * client to do (ACCEPTED, SPAWN and wait for its EXITED, EXEC, EXIT, COLD). Owns the socket and
 * the request's descriptors: {@link #close} closes them all, on every path. Failures to talk to
 * the client are IOExceptions (a SyscallException of the socket is wrapped: the client is gone).
 */
final class Session implements AutoCloseable {
    private final int sock;
    private final int peerPid;
    private Request request;
    private int spawns;
    private boolean accepted;
    private boolean finished;

    Session(int sock, int peerPid) {
        this.sock = sock;
        this.peerPid = peerPid;
    }

    int peerPid() {
        return peerPid;
    }

    /** Reads the request; null when the client closed without sending one. */
    Request read() throws IOException {
        Wire.Frame f = frame();
        if (f == null) {
            return null;
        }
        request = Request.decode(f);
        return request;
    }

    private Wire.Frame frame() throws IOException {
        try {
            return Wire.read(sock);
        } catch (SyscallException e) {
            throw gone(e);
        }
    }

    private void send(Wire.Frame f) throws IOException {
        try {
            f.write(sock);
        } catch (SyscallException e) {
            throw gone(e);
        }
    }

    private static IOException gone(SyscallException e) {
        return new IOException("the client is gone: " + e.callAndErrno(), e);
    }

    boolean accepted() {
        return accepted;
    }

    /** From here on the server acts for the call: a client that loses the server now reports it ([SERVER_DIED]). */
    void accept() throws IOException {
        accepted = true;
        send(new Wire.Out().frame(Wire.ACCEPTED));
    }

    /** The client runs the call itself in a one-shot JVM. Only before {@link #accept}: nothing was done. */
    void cold(String why) throws IOException {
        if (accepted) {
            throw new IllegalStateException("COLD after ACCEPTED");
        }
        finished = true;
        send(new Wire.Out().str(why).frame(Wire.COLD));
    }

    /** The client exits with {@code status} (once; later calls do nothing). */
    void exit(int status) throws IOException {
        if (!finished) {
            finished = true;
            send(new Wire.Out().i32(status).frame(Wire.EXIT));
        }
    }

    boolean finished() {
        return finished;
    }

    /** How a SPAWN ended: {@code status} is the wait(2) status, or {@code errno} when the client could not start it. */
    record Spawned(int status, int errno) {
        int shellStatus() {
            return new Linux.WaitStatus(0, status).shellStatus();
        }
    }

    /**
     * SPAWN: the client starts {@code argv} ({@code argv[0]} the program's path) and waits for it.
     * {@code stdio[i]}: {@link Wire#STDIO_INHERIT}, {@link Wire#STDIO_NULL}, or a descriptor of this
     * process to send (the client closes its copies once the program runs). The sent descriptors
     * stay this process's to close; a caller that reads a pipe it sent must close its write end
     * before it reads, and reads before {@link #awaitSpawn}. {@code flags}: {@link Wire#SPAWN_FORWARD_SIGNALS} or 0.
     *
     * @return the id to pass to {@link #awaitSpawn}
     */
    int sendSpawn(List<String> argv, List<String> env, String cwd, int[] stdio, int flags) throws IOException {
        int id = ++spawns;
        int[] code = new int[3];
        int[] send = new int[3];
        int n = 0;
        for (int i = 0; i < 3; i++) {
            code[i] = stdio[i];
            if (stdio[i] >= 0) {
                int k = 0;
                while (k < n && send[k] != stdio[i]) {
                    k++;
                }
                if (k == n) {
                    send[n++] = stdio[i];
                }
                code[i] = k;
            }
        }
        send(new Wire.Out().i32(id).str(argv.getFirst()).strs(argv).strs(env).str(cwd == null ? "" : cwd).i32(flags)
                .i32(code[0]).i32(code[1]).i32(code[2]).frame(Wire.SPAWN, Arrays.copyOf(send, n)));
        return id;
    }

    /** The client's EXITED for SPAWN {@code id}. */
    Spawned awaitSpawn(int id) throws IOException {
        Wire.Frame f = frame();
        if (f == null) {
            throw new dev.gvshim.call.Launch.CallerGone("the client went away during a program it started");
        }
        f.closeFds(); // an EXITED carries none: a client out of step
        if (f.type() != Wire.EXITED) {
            throw Wire.protocol("a '" + (char) f.type() + "' frame where EXITED belongs");
        }
        Wire.In in = f.in();
        int got = in.i32();
        int kind = in.i32();
        int value = in.i32();
        if (got != id) {
            throw Wire.protocol("EXITED for spawn " + got + ", not " + id);
        }
        return kind == Wire.EXITED_WAITED ? new Spawned(value, 0) : new Spawned(0, value == 0 ? Errno.EIO : value);
    }

    /**
     * USERNS_SPAWN: the client forks {@code argv} into the user and mount namespaces of the nsfs
     * descriptors {@code userns} and {@code mntns} (setns(2); PR_SET_PDEATHSIG, its own process
     * group) with {@code stdio}, and keeps it as its child. The descriptors stay this process's
     * to close.
     */
    Forked spawnInto(List<String> argv, List<String> env, int userns, int mntns, int[] stdio) throws IOException {
        int[] fds = new int[2 + stdio.length];
        fds[0] = userns;
        fds[1] = mntns;
        System.arraycopy(stdio, 0, fds, 2, stdio.length);
        send(new Wire.Out().str(argv.getFirst()).strs(argv).strs(env).i32(0).i32(0).i32(1).i32(2).i32(3).i32(4)
                .frame(Wire.USERNS_SPAWN, fds));
        Wire.Frame f = frame();
        if (f == null) {
            throw new IOException("the client went away before it forked " + argv.getFirst());
        }
        f.closeFds();
        if (f.type() != Wire.SPAWNED) {
            throw Wire.protocol("a '" + (char) f.type() + "' frame where SPAWNED belongs");
        }
        Wire.In in = f.in();
        return new Forked(in.i32(), in.i32(), in.i32());
    }

    /** The answer to USERNS_SPAWN: the child's pid, or 0 and the step that failed ({@link Wire#USERNS_STEPS}) and its errno. */
    record Forked(int pid, int step, int errno) {
        String call() {
            return step >= 0 && step < Wire.USERNS_STEPS.length ? Wire.USERNS_STEPS[step] : "step " + step;
        }
    }

    /**
     * EXEC: the client dup2()s {@code fds[i]} onto {@code targets[i]}, this connection onto
     * {@code socketTarget} (-1: closed by the exec), then execve()s; it exits 125 with one line
     * if the exec fails. The call is over for the server.
     */
    void exec(String path, List<String> argv, List<String> env, String cwd, int[] fds, int[] targets, int socketTarget)
            throws IOException {
        Wire.Out o = new Wire.Out().str(path).strs(argv).strs(env).str(cwd == null ? "" : cwd).i32(fds.length);
        for (int t : targets) {
            o.i32(t);
        }
        send(o.i32(socketTarget).frame(Wire.EXEC, fds));
        finished = true;
    }

    /**
     * CONNECT (the Java API's pooled run): the client connects to the server socket {@code name} in
     * {@code dir}, so that the server's peer is the client (which becomes the waiter). The
     * connected socket, or -errno when it could not connect.
     */
    int connect(String dir, String name) throws IOException {
        send(new Wire.Out().str(dir).str(name).frame(Wire.CONNECT));
        Wire.Frame f = frame();
        if (f == null) {
            throw new IOException("the client went away before it connected to the server");
        }
        if (f.type() != Wire.CONNECT || f.fds().length > 1) {
            f.closeFds();
            throw Wire.protocol("a '" + (char) f.type() + "' frame where CONNECT's answer belongs");
        }
        int errno = f.in().i32();
        if (f.fds().length == 1) {
            return f.fds()[0];
        }
        return -(errno == 0 ? Errno.EIO : errno);
    }

    /**
     * Sends {@code f} (a frame of the user's server, relayed by the Java API's JVM) to the client
     * as it is, its descriptors with it (they stay the caller's to close); with {@code answer},
     * returns the client's next frame (null at EOF).
     */
    Wire.Frame relay(Wire.Frame f, boolean answer) throws IOException {
        send(f);
        if (f.type() == Wire.EXEC) {
            finished = true;
        }
        return answer ? frame() : null;
    }

    /**
     * Waits until {@code fd} is readable; false when the client hung up first (it died, or was
     * killed by its caller): a program it started may hold the pipe open for as long as it lives,
     * and the call must not outlive its client (nor keep the server from idling out).
     */
    boolean readableWhileClientLives(int fd) throws SyscallException {
        while (true) {
            short[] rev = UnixSockets.poll(new int[] {fd, sock}, new short[] {UnixSockets.POLLIN, 0}, -1);
            if ((rev[0] & (UnixSockets.POLLIN | UnixSockets.POLLHUP | UnixSockets.POLLERR)) != 0) {
                return true;
            }
            if ((rev[1] & (UnixSockets.POLLHUP | UnixSockets.POLLERR)) != 0) {
                return false;
            }
        }
    }

    /** The request's descriptor {@code which} ({@link Request#STDIN} ...), a descriptor of this process. */
    int fd(int which) {
        return request.fds()[which];
    }

    @Override
    public void close() {
        if (request != null) {
            Linux.closeQuietly(request.fds());
        }
        Linux.closeQuietly(sock);
    }

    /** write(2) to a received descriptor: the call's output goes straight to the caller's file, as a one-shot's does. */
    static final class FdOutputStream extends OutputStream {
        private final int fd;

        FdOutputStream(int fd) {
            this.fd = fd;
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            try {
                Linux.write(fd, off == 0 && len == b.length ? b : Arrays.copyOfRange(b, off, off + len), "fd " + fd);
            } catch (SyscallException e) {
                throw new IOException(e.callAndErrno(), e);
            }
        }
    }

    /** read(2) of a received descriptor (the caller's stdin). */
    static class FdInputStream extends InputStream {
        private final int fd;

        FdInputStream(int fd) {
            this.fd = fd;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (len == 0) {
                return 0;
            }
            try {
                int n = Linux.read(fd, b, off, len);
                return n == 0 ? -1 : n;
            } catch (SyscallException e) {
                throw new IOException(e.callAndErrno(), e);
            }
        }
    }
}

package dev.gvshim.server;

import dev.gvshim.linux.Linux;
import dev.gvshim.linux.SyscallException;
import dev.gvshim.linux.UnixSockets;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The protocol between the native client (bin/gvshim, native/gvshim_client.c) and the server,
 * Java side; native/gvshim_wire.h is the C side and must say the same (WireTest runs both).
 *
 * <p>An AF_UNIX stream socket carries frames:
 * <pre>
 *   u32 length of the payload (little-endian) | u8 type | payload
 * </pre>
 * Payload fields: i32 little-endian; strings as u32 length + UTF-8 bytes (no NUL); string lists
 * as u32 count + strings. Descriptors travel as SCM_RIGHTS with a frame's first byte: a sender
 * writes a frame in one sendmsg, and a reader reads exactly the 5-byte header, then exactly the
 * payload, never ahead. unix(7): a stream recvmsg stops at a message that carries descriptors,
 * but a read past the frame would take the next frame's descriptors, and the kernel closes
 * descriptors that arrive where no control buffer takes them.
 *
 * <table>
 * <caption>Messages</caption>
 * <tr><th>type</th><th>from</th><th>payload</th><th>descriptors</th></tr>
 * <tr><td>R request</td><td>client</td><td>protocol, build id, home, umask, cwd, argv, env</td><td>0, 1, 2, cwd (O_PATH)</td></tr>
 * <tr><td>A accepted</td><td>server</td><td>-</td><td>-</td></tr>
 * <tr><td>C cold</td><td>server</td><td>reason</td><td>-</td></tr>
 * <tr><td>S spawn</td><td>server</td><td>id, path, argv, env, cwd, flags, stdio[3]</td><td>the ones stdio names</td></tr>
 * <tr><td>E exited</td><td>client</td><td>id, kind, wait status or errno</td><td>-</td></tr>
 * <tr><td>U userns spawn</td><td>server</td><td>path, argv, env, user ns, mount ns, stdio[3]</td><td>nsfs fds and stdio</td></tr>
 * <tr><td>P spawned</td><td>client</td><td>pid (0: failed), step, errno</td><td>-</td></tr>
 * <tr><td>X exec</td><td>server</td><td>path, argv, env, cwd, n, targets[n], socket target</td><td>n</td></tr>
 * <tr><td>Q exit</td><td>server</td><td>status</td><td>-</td></tr>
 * <tr><td>K connect</td><td>API JVM / client</td><td>server dir, socket name / errno (0: connected)</td><td>- / the
 * connected socket</td></tr>
 * </table>
 * EOF before A means nothing was done: the client runs the call in a one-shot JVM. After A, EOF
 * is the server's death: the client says so ([SERVER_DIED]) and exits 125.
 */
public final class Wire {
    /** The version the client sends first in R; a server of another answers C. */
    public static final int PROTOCOL = 1;
    /** A frame's payload is at most this (an environment is at most ARG_MAX, 2 MiB by default). */
    public static final int MAX_PAYLOAD = 8 << 20;

    public static final byte REQUEST = 'R';
    public static final byte ACCEPTED = 'A';
    public static final byte COLD = 'C';
    public static final byte SPAWN = 'S';
    public static final byte EXITED = 'E';
    public static final byte EXEC = 'X';
    public static final byte USERNS_SPAWN = 'U';
    public static final byte SPAWNED = 'P';
    public static final byte EXIT = 'Q';
    /** The Java API's JVM asks its `__sandbox` client to connect to the user's server (a pooled run); the answer. */
    public static final byte CONNECT = 'K';

    /** SPAWN flags: the client sends the signals it receives on to the program while it waits (native/client_forward.c). */
    public static final int SPAWN_FORWARD_SIGNALS = 0x1;
    /** SPAWN stdio[i]: the client's own descriptor i (the caller's stdin, stdout, stderr). */
    public static final int STDIO_INHERIT = -1;
    /** SPAWN stdio[i]: /dev/null, opened by the client. */
    public static final int STDIO_NULL = -2;
    /** SPAWNED step of a failure: prctl(PR_SET_PDEATHSIG), setns(user), setns(mnt), setpgid, dup2, execve, fork. */
    public static final String[] USERNS_STEPS = {"", "prctl(PR_SET_PDEATHSIG)", "setns(CLONE_NEWUSER)", "setns(CLONE_NEWNS)",
        "setpgid", "dup2", "execve", "fork"};
    /** EXITED kind: waited for; the value is the wait(2) status. */
    public static final int EXITED_WAITED = 0;
    /** EXITED kind: not started; the value is the errno of posix_spawn (or of execve, after X). */
    public static final int EXITED_NOT_STARTED = 1;

    private Wire() {
    }

    /** A malformed frame or message, or a peer out of step. */
    static IOException protocol(String what) {
        return new IOException("protocol error: " + what);
    }

    /** One frame: its type, payload, and the descriptors that came with it (the receiver's to close). */
    public record Frame(byte type, byte[] payload, int[] fds) {
        public In in() {
            return new In(payload);
        }

        /** Sends this frame in one sendmsg, with its descriptors. */
        public void write(int sock) throws SyscallException {
            byte[] all = new byte[5 + payload.length];
            ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN).putInt(0, payload.length).put(4, type);
            System.arraycopy(payload, 0, all, 5, payload.length);
            UnixSockets.send(sock, all, fds);
        }

        /**
         * Closes the descriptors not closed yet and marks them so (-1): a second call closes
         * nothing. Closing a number twice in a threaded process closes whatever another thread
         * opened under it in between (a test's fake client did, and a server call's pipe broke).
         */
        public void closeFds() {
            for (int i = 0; i < fds.length; i++) {
                int fd = fds[i];
                fds[i] = -1;
                Linux.closeQuietly(fd);
            }
        }
    }

    /**
     * Reads one frame; null at EOF before its first byte. A broken frame (EOF inside it, a length
     * over {@link #MAX_PAYLOAD}) is an IOException, and whatever descriptors came with it are closed.
     */
    public static Frame read(int sock) throws SyscallException, IOException {
        List<Integer> fds = new ArrayList<>();
        try {
            byte[] header = new byte[5];
            if (!readFully(sock, header, fds, true)) {
                return null;
            }
            int len = ByteBuffer.wrap(header).order(ByteOrder.LITTLE_ENDIAN).getInt(0);
            if (len < 0 || len > MAX_PAYLOAD) {
                throw protocol("a frame of " + Integer.toUnsignedString(len) + " bytes");
            }
            byte[] payload = new byte[len];
            readFully(sock, payload, fds, false);
            int[] a = fds.stream().mapToInt(Integer::intValue).toArray();
            fds.clear();
            return new Frame(header[4], payload, a);
        } finally {
            for (int f : fds) {
                Linux.closeQuietly(f);
            }
        }
    }

    /** False at EOF before the first byte when {@code eofOk}. */
    private static boolean readFully(int sock, byte[] buf, List<Integer> fds, boolean eofOk)
            throws SyscallException, IOException {
        int got = 0;
        while (got < buf.length) {
            UnixSockets.Received r = UnixSockets.recv(sock, buf, got, Math.min(buf.length - got, 1 << 20));
            for (int f : r.fds()) {
                fds.add(f);
            }
            if (r.length() == 0) {
                if (got == 0 && eofOk) {
                    return false;
                }
                throw protocol("end of stream inside a frame");
            }
            got += r.length();
        }
        return true;
    }

    /** Builds a payload. */
    public static final class Out {
        private final ByteArrayOutputStream b = new ByteArrayOutputStream(256);

        public Out i32(int v) {
            b.write(v);
            b.write(v >>> 8);
            b.write(v >>> 16);
            b.write(v >>> 24);
            return this;
        }

        public Out str(String s) {
            byte[] u = s.getBytes(StandardCharsets.UTF_8);
            i32(u.length);
            b.write(u, 0, u.length);
            return this;
        }

        public Out strs(List<String> l) {
            i32(l.size());
            for (String s : l) {
                str(s);
            }
            return this;
        }

        public Frame frame(byte type, int... fds) {
            return new Frame(type, b.toByteArray(), fds);
        }
    }

    /** Reads a payload; a short or malformed one is an IOException. */
    public static final class In {
        private final ByteBuffer b;

        In(byte[] payload) {
            b = ByteBuffer.wrap(payload).order(ByteOrder.LITTLE_ENDIAN);
        }

        public int i32() throws IOException {
            if (b.remaining() < 4) {
                throw protocol("a message too short");
            }
            return b.getInt();
        }

        public String str() throws IOException {
            int n = i32();
            if (n < 0 || n > b.remaining()) {
                throw protocol("a string longer than its message");
            }
            byte[] u = new byte[n];
            b.get(u);
            return new String(u, StandardCharsets.UTF_8);
        }

        public List<String> strs() throws IOException {
            int n = i32();
            if (n < 0 || n > b.remaining() / 4) {
                throw protocol("a list longer than its message");
            }
            List<String> l = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                l.add(str());
            }
            return l;
        }

        /** Whether all of the payload was read (a message with bytes left over is out of step). */
        public boolean done() {
            return !b.hasRemaining();
        }
    }
}

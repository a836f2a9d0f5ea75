package dev.gvshim.server;

import dev.gvshim.call.Handover;
import dev.gvshim.linux.Errno;
import dev.gvshim.linux.Linux;
import dev.gvshim.linux.SyscallException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A pooled sandbox of the Java API ({@code SandboxBuilder.pool(NAME)}): the call is `gvshim run
 * --pool NAME ...` served by the user's gvshim server, which holds the pools, exactly as for the
 * CLI. The API's JVM only relays:
 *
 * <pre>
 *  API JVM                          bin/gvshim __sandbox (the Process)     the user's server
 *  CONNECT(dir, name) ------------> connect(2) to the server socket ----> (peer: this client's pid)
 *  <------------------------------- the connected socket
 *  REQUEST on that socket: argv `run --pool NAME ...`, the client's stdin and stdout, a pipe as
 *  stderr (the server's one-line failure is read from it), the working directory -------------->
 *  USERNS_SPAWN / SPAWN  <------------------------------------------------------------------------
 *  relayed as they are -----------> forks runsc exec into the sandbox
 *  SPAWNED / EXITED <-------------- relayed back ------------------------------------------------->
 *  EXEC <-----------------------------------------------------------------------------------------
 *  relayed ------------------------> becomes gvshim-waiter                   or EXIT (refused)
 * </pre>
 *
 * The client makes the connection itself (CONNECT) so that the server's SO_PEERCRED, and so the
 * taker of the pooled sandbox, is the process that becomes the waiter: the server destroys the
 * sandbox when that process ends, and checks the namespaces and privileges of the process that
 * will run runsc. Nothing of the pooled path is duplicated here: profile checks, the command's
 * spec, the hand-over are the server's `run --pool`.
 */
public final class PoolRelay {
    private PoolRelay() {
    }

    /** What became of the call. */
    public sealed interface Outcome {
    }

    /** The client became gvshim-waiter: {@code exec} as the server sent it ({@code child}: the runsc exec it forked). */
    public record HandedOver(Handover.Exec exec) implements Outcome {
    }

    /** The server refused or failed the call: its exit status and what it wrote on the call's stderr (its one line). */
    public record Refused(int status, String stderr) implements Outcome {
    }

    /** No server took the call (none listens, or it answered COLD): why, in words. */
    public record NotServed(String why) implements Outcome {
    }

    /**
     * Runs {@code argv} (argv[0] included) as a call of the server at {@code where} on behalf of
     * {@code api}'s client. IOException: the client or the server went away mid-call, or broke
     * the protocol.
     */
    public static Outcome call(ApiSession api, ServerDir where, String buildId, String home, String cwd, List<String> argv,
            Map<String, String> env) throws IOException {
        Session client = api.session();
        int sock = client.connect(where.dir().toString(), where.socket().getFileName().toString());
        if (sock < 0) {
            return new NotServed(sock == -Errno.ENOENT || sock == -Errno.ECONNREFUSED ? "none runs"
                    : "cannot connect to it: " + Errno.name(-sock));
        }
        int[] err = null;
        int cwdFd = -1;
        try {
            err = Linux.pipe2(Linux.O_CLOEXEC | Linux.O_NONBLOCK); // the server's lines are short: never a full pipe
            cwdFd = Linux.open(cwd, 0x200000 | 0x10000 | Linux.O_CLOEXEC, 0); // O_PATH|O_DIRECTORY
            List<String> envList = new ArrayList<>();
            env.forEach((k, v) -> envList.add(k + "=" + v));
            new Wire.Out().i32(Wire.PROTOCOL).str(buildId).str(home).i32(umask()).str(cwd).strs(argv).strs(envList)
                    .frame(Wire.REQUEST, client.fd(Request.STDIN), client.fd(Request.STDOUT), err[1], cwdFd).write(sock);
            Linux.closeQuietly(err[1], cwdFd);
            err[1] = cwdFd = -1;
            return serve(client, sock, err[0]);
        } catch (SyscallException e) {
            throw new IOException("talking to the gvshim server: " + e.callAndErrno(), e);
        } finally {
            Linux.closeQuietly(sock, cwdFd);
            if (err != null) {
                Linux.closeQuietly(err[0], err[1]);
            }
        }
    }

    private static Outcome serve(Session client, int sock, int err) throws IOException, SyscallException {
        boolean accepted = false;
        int child = 0;
        while (true) {
            Wire.Frame f = Wire.read(sock);
            if (f == null) {
                if (!accepted) {
                    return new NotServed("it closed the connection before it took the call");
                }
                throw new IOException("the gvshim server closed the connection during the call");
            }
            try {
                switch (f.type()) {
                    case Wire.ACCEPTED -> accepted = true;
                    case Wire.COLD -> {
                        return new NotServed("it does not serve this call: " + f.in().str());
                    }
                    case Wire.EXIT -> {
                        return new Refused(f.in().i32(), drain(err));
                    }
                    case Wire.SPAWN, Wire.USERNS_SPAWN -> {
                        Wire.Frame answer = client.relay(f, true);
                        if (answer == null) {
                            throw new IOException("the sandbox's client went away during the call");
                        }
                        try {
                            if (f.type() == Wire.USERNS_SPAWN && answer.type() == Wire.SPAWNED) {
                                child = answer.in().i32();
                            }
                            answer.write(sock);
                        } finally {
                            answer.closeFds();
                        }
                    }
                    case Wire.EXEC -> {
                        client.relay(f, false);
                        Wire.In in = f.in();
                        String path = in.str();
                        List<String> a = in.strs();
                        List<String> e = in.strs();
                        String dir = in.str();
                        return new HandedOver(new Handover.Exec(path, a, e, dir.isEmpty() ? null : dir, List.of(), child));
                    }
                    default -> throw Wire.protocol("a '" + (char) f.type() + "' frame from the server");
                }
            } finally {
                f.closeFds();
            }
        }
    }

    /** What the server wrote on the call's stderr (all of it is there: it writes before it sends EXIT). */
    private static String drain(int fd) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        byte[] buf = new byte[4096];
        try {
            for (int n; (n = Linux.read(fd, buf, 0, buf.length)) > 0;) {
                b.write(buf, 0, n);
            }
        } catch (SyscallException e) {
            // EAGAIN: all read (the server still holds the write end until its call is closed)
        }
        return b.toString(StandardCharsets.UTF_8);
    }

    /**
     * This process's umask, from /proc/self/status (proc(5), Linux 4.7): umask(2) can only be read
     * by setting it, which would change it for a moment for every thread of the caller's JVM.
     */
    private static int umask() {
        try {
            for (String l : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (l.startsWith("Umask:")) {
                    return Integer.parseInt(l.substring(6).strip(), 8);
                }
            }
        } catch (IOException | RuntimeException e) {
            // an older kernel: the usual default
        }
        return 022;
    }
}

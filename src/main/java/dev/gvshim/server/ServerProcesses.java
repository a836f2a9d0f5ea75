package dev.gvshim.server;

import dev.gvshim.call.Launch;
import dev.gvshim.call.Processes;
import dev.gvshim.call.Trace;
import dev.gvshim.linux.Errno;
import dev.gvshim.linux.Linux;
import dev.gvshim.linux.SyscallException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * {@link Processes} of a server call: the client starts every program (SPAWN) and reports how it
 * ended (EXITED), so that the program is the caller's descendant, as runc's callers require of
 * runsc's processes (containerd's shim is a subreaper and reaps the container's init; --pid-file
 * names a process of the caller's tree), and runs in the caller's cgroup, with its limits.
 * INHERIT gives it the client's own descriptors 0-2 (the caller's, as in a one-shot gvshim);
 * CAPTURE and LINES give it pipes of this server, never /dev/null or another file of the host's
 * (runsc chowns its stdio).
 */
final class ServerProcesses implements Processes {
    private final Session session;
    private final Trace trace;

    ServerProcesses(Session session, Trace trace) {
        this.session = session;
        this.trace = trace;
    }

    @Override
    public Launch.Ran run(Launch launch) throws IOException {
        List<String> env = new ArrayList<>(launch.env().size());
        for (Map.Entry<String, String> e : launch.env().entrySet()) {
            env.add(e.getKey() + "=" + e.getValue());
        }
        trace.mark("spawning " + launch.argv().getFirst());
        Session.Spawned s;
        String output = "";
        if (launch.stdio() == Launch.Stdio.INHERIT || launch.stdio() == Launch.Stdio.FOREGROUND) {
            // FOREGROUND: the caller's process is the client, which sends the signals it receives on to the program
            s = session.awaitSpawn(session.sendSpawn(launch.argv(), env, null,
                    new int[] {Wire.STDIO_INHERIT, Wire.STDIO_INHERIT, Wire.STDIO_INHERIT},
                    launch.stdio() == Launch.Stdio.FOREGROUND ? Wire.SPAWN_FORWARD_SIGNALS : 0));
        } else {
            int[] in = null;
            int[] out = null;
            int[] err = null;
            try {
                in = Linux.pipe2(Linux.O_CLOEXEC); // an empty pipe: the program gets no file of the host's
                out = Linux.pipe2(Linux.O_CLOEXEC);
                boolean lines = launch.stdio() == Launch.Stdio.LINES;
                if (lines) {
                    err = Linux.pipe2(Linux.O_CLOEXEC); // discarded, as the one-shot's Redirect.DISCARD
                }
                int id = session.sendSpawn(launch.argv(), env, null, new int[] {in[0], out[1], lines ? err[1] : out[1]}, 0);
                // our copies of the ends the program holds: the reads below see EOF when it exits
                Linux.closeQuietly(in[0], in[1], out[1]);
                in = null;
                out[1] = -1;
                Thread drain = null;
                if (lines) {
                    Linux.closeQuietly(err[1]);
                    err[1] = -1;
                    int errFd = err[0];
                    err[0] = -1; // the drain's to close: closed here while it reads, the number could be reused under it
                    drain = Thread.ofVirtual().start(() -> discard(errFd));
                    read(clientBound(out[0]), launch);
                } else {
                    output = new String(clientBound(out[0]).readAllBytes(), StandardCharsets.UTF_8);
                }
                s = session.awaitSpawn(id);
                join(drain);
            } catch (SyscallException e) {
                throw new IOException("cannot make the pipes for " + launch.argv().getFirst() + ": " + e.callAndErrno(), e);
            } finally {
                if (in != null) {
                    Linux.closeQuietly(in);
                }
                if (out != null) {
                    Linux.closeQuietly(out);
                }
                if (err != null) {
                    Linux.closeQuietly(err);
                }
            }
        }
        trace.mark("exited");
        if (s.errno() != 0) {
            throw new IOException(Errno.describe(s.errno())); // what posix_spawn(3) said, as the one-shot's text
        }
        return new Launch.Ran(s.shellStatus(), output);
    }

    /** The program's output pipe, read only while the client lives (else: an IOException, the client is gone). */
    private java.io.InputStream clientBound(int fd) {
        return new Session.FdInputStream(fd) {
            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                try {
                    if (!session.readableWhileClientLives(fd)) {
                        throw new IOException("the client went away while a program it started ran");
                    }
                } catch (SyscallException e) {
                    throw new IOException(e.callAndErrno(), e);
                }
                return super.read(b, off, len);
            }
        };
    }

    private static void read(java.io.InputStream in, Launch launch) throws IOException {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            for (String line = r.readLine(); line != null; line = r.readLine()) {
                launch.lines().accept(line);
            }
        }
    }

    /** Reads {@code fd} to its end, then closes it (it is this thread's alone). */
    private static void discard(int fd) {
        byte[] buf = new byte[8192];
        try {
            while (Linux.read(fd, buf, 0, buf.length) > 0) {
                // discarded
            }
        } catch (SyscallException e) {
            // the program's stderr is not read by anyone
        } finally {
            Linux.closeQuietly(fd);
        }
    }

    private static void join(Thread t) {
        while (t != null) {
            try {
                t.join();
                return;
            } catch (InterruptedException e) {
                // a call's program is never interrupted on purpose
            }
        }
    }
}

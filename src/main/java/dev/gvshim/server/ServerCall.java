package dev.gvshim.server;

import dev.gvshim.call.Call;
import dev.gvshim.call.Trace;
import dev.gvshim.linux.Linux;
import dev.gvshim.linux.SyscallException;
import dev.gvshim.linux.UnixSockets;
import java.io.BufferedOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * One accepted call: the {@link Call} built from the request (the caller's argv, environment,
 * working directory and stdio; the server's euid, which SO_PEERCRED made sure is the caller's;
 * programs started by the client), run through the dispatcher, or one of the server's own verbs
 * (`gvshim server status|stop|start` reaching a running server).
 */
final class ServerCall {
    private static final int CLONE_FS = 0x200;
    private final Server server;
    private final Session session;
    private final Request request;

    ServerCall(Server server, Session session, Request request) {
        this.server = server;
        this.session = session;
        this.request = request;
    }

    /** The call's exit status. */
    int run(Server.Dispatcher dispatcher) {
        // buffered, flushed at each newline and at the end, as System.out is in a one-shot gvshim:
        // a program the call starts writes to the same descriptor after what was printed before it
        PrintStream out = new PrintStream(new BufferedOutputStream(new Session.FdOutputStream(session.fd(Request.STDOUT)), 8192),
                true, StandardCharsets.UTF_8);
        PrintStream err = new PrintStream(new BufferedOutputStream(new Session.FdOutputStream(session.fd(Request.STDERR)), 8192),
                true, StandardCharsets.UTF_8);
        try {
            String[] args = request.args();
            if (args.length == 2 && args[0].equals("server")) {
                Integer own = ownVerb(args[1], out);
                if (own != null) {
                    return own;
                }
            }
            Trace trace = new Trace(request.env(), err);
            Path home = server.config().home();
            Call call = new Call(Integer.toString(session.peerPid()), request.env(), Path.of(request.cwd()),
                    new Call.Stdio(new Session.FdInputStream(session.fd(Request.STDIN)), out, err, session.fd(Request.STDIN),
                            session.fd(Request.STDOUT), session.fd(Request.STDERR)),
                    () -> server.config().euid(), home, home == null ? null : home.resolve("bin/gvshim"),
                    new ServerProcesses(session, trace), new ServerHandover(session), trace, server.roots());
            try {
                return dispatcher.run(call, args);
            } catch (RuntimeException | Error e) {
                // as Main does for a one-shot call: the caller's one line and 125; the trace goes to the log
                server.log().error("call of pid " + session.peerPid() + " (" + String.join(" ", request.argv()) + ")", e);
                dispatcher.internalError(call, e);
                if (e instanceof Error) {
                    server.stop("an internal error: " + e.getClass().getSimpleName()); // an OutOfMemoryError leaves nothing reliable
                }
                return 125;
            }
        } finally {
            out.flush();
            err.flush();
        }
    }

    /** `server status` and `server stop` answered by the server they ask about; null: not one of them. */
    private Integer ownVerb(String verb, PrintStream out) {
        switch (verb) {
            case "status" -> {
                out.print(server.status());
                return 0;
            }
            case "stop" -> {
                out.println("stopping server " + server.pid());
                server.stop("asked to by `gvshim server stop`");
                return 0;
            }
            case "start" -> {
                out.println(server.pid());
                return 0;
            }
            default -> {
                return null;
            }
        }
    }

    /**
     * The caller's umask and working directory, for this call thread only: unshare(CLONE_FS)
     * gives the thread its own fs_struct (unshare(2)); then umask(2) and fchdir(2) on the
     * caller's own directory descriptor (a directory renamed meanwhile is still the one).
     * Files the call creates get the caller's umask (runc's 0711 --root stays 0711); null when
     * done, else why not (the call then runs cold).
     */
    static String takeCallersFs(Session s, Request r) {
        try {
            Linux.unshare(CLONE_FS);
            UnixSockets.umask(r.umask());
            UnixSockets.fchdir(s.fd(Request.CWD));
            return null;
        } catch (SyscallException e) {
            return "cannot take the caller's working directory: " + e.callAndErrno();
        }
    }
}

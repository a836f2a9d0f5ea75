package dev.gvshim.server;

import dev.gvshim.linux.Linux;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A client's R frame, decoded: who it is for (protocol, build id, installation), the caller's
 * umask, working directory, argv and environment, and the caller's descriptors: stdin, stdout,
 * stderr and its working directory (O_PATH). The descriptors are owned by the {@link Session}
 * that decoded it and closed with it.
 *
 * @param argv the whole argv, argv[0] (the client's own name) included
 */
record Request(int protocol, String buildId, String home, int umask, String cwd, List<String> argv, Map<String, String> env,
        int[] fds) {
    static final int STDIN = 0;
    static final int STDOUT = 1;
    static final int STDERR = 2;
    static final int CWD = 3;

    /** Decodes {@code f}; a malformed one is an IOException, and then {@code f}'s descriptors are closed. */
    static Request decode(Wire.Frame f) throws IOException {
        try {
            if (f.type() != Wire.REQUEST) {
                throw Wire.protocol("a '" + (char) f.type() + "' frame where a request belongs");
            }
            Wire.In in = f.in();
            int protocol = in.i32();
            if (protocol != Wire.PROTOCOL) { // nothing else of it can be read
                return new Request(protocol, "", "", 077, "", List.of(), Map.of(), f.fds());
            }
            String build = in.str();
            String home = in.str();
            int umask = in.i32();
            String cwd = in.str();
            List<String> argv = in.strs();
            Map<String, String> env = new LinkedHashMap<>();
            for (String kv : in.strs()) {
                int eq = kv.indexOf('=');
                if (eq > 0) {
                    env.putIfAbsent(kv.substring(0, eq), kv.substring(eq + 1)); // getenv(3) finds the first
                }
            }
            if (!in.done()) {
                throw Wire.protocol("a request longer than its fields");
            }
            if (f.fds().length != 4) {
                throw Wire.protocol("a request with " + f.fds().length + " descriptors, not 4");
            }
            return new Request(protocol, build, home, umask & 0777, cwd, List.copyOf(argv), env, f.fds());
        } catch (IOException e) {
            Linux.closeQuietly(f.fds());
            throw e;
        }
    }

    /** The arguments after argv[0]. */
    String[] args() {
        return argv.isEmpty() ? new String[0] : argv.subList(1, argv.size()).toArray(String[]::new);
    }
}

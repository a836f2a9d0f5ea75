package dev.gvshim.server;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Whether the server can act for a caller exactly as a one-shot gvshim started by that caller
 * would. SO_PEERCRED already made sure it is the same euid (the security boundary: a process of
 * the same euid could ptrace the server anyway). This is about correctness, plus one point of
 * privilege: the server's paths, pids, network and privileges must be the caller's, or the call
 * is answered COLD and runs in a one-shot JVM in the caller's own context.
 * <ul>
 * <li>namespaces mnt, user, pid, net, uts, ipc, cgroup (namespaces(7)): paths, --pid-file and
 *     `docker top`'s host pids, runsc's network;</li>
 * <li>CapEff, CapPrm, CapBnd, CapAmb, NoNewPrivs, Seccomp (proc(5), /proc/PID/status), and the
 *     security module's label (/proc/PID/attr/current): a caller with fewer capabilities,
 *     no_new_privs (newuidmap's setuid bit is then void), a seccomp filter or another AppArmor
 *     profile or SELinux context must not get the server's.</li>
 * </ul>
 * Not the cgroup: the programs of a call are the client's children (SPAWN), so they are in the
 * caller's cgroup by inheritance. Read from /proc/PID while the peer waits on the connection
 * (its pid stays its own while it lives).
 */
final class PeerContext {
    private static final String[] NAMESPACES = {"mnt", "user", "pid", "net", "uts", "ipc", "cgroup"};
    private static final String[] STATUS_KEYS = {"CapEff:", "CapPrm:", "CapBnd:", "CapAmb:", "NoNewPrivs:", "Seccomp:"};

    /** Compiled once: String.replaceAll compiled it for each of six lines of every call. */
    private static final java.util.regex.Pattern SPACES = java.util.regex.Pattern.compile("\\s+");
    private final Path proc;
    private final List<String> own;

    PeerContext(Path proc) throws IOException {
        this.proc = proc;
        this.own = read(proc.resolve("self"));
    }

    /** Null when {@code pid}'s context is the server's; else what differs (for the log and GVSHIM_TRACE). */
    String differs(int pid) {
        if (pid <= 0) {
            return "the caller is in a pid namespace the server cannot see";
        }
        List<String> peer;
        try {
            peer = read(proc.resolve(Integer.toString(pid)));
        } catch (IOException e) {
            // ptrace access mode (proc(5)): denied for a process of another user namespace the server has no capability in
            return "cannot read /proc/" + pid + (e instanceof java.nio.file.AccessDeniedException
                    ? " (the caller is in another user namespace)" : " (" + e.getClass().getSimpleName() + ")");
        }
        for (int i = 0; i < own.size(); i++) {
            if (!own.get(i).equals(peer.get(i))) {
                return "the caller's " + peer.get(i) + " is not the server's " + own.get(i);
            }
        }
        return null;
    }

    private static List<String> read(Path p) throws IOException {
        List<String> l = new ArrayList<>();
        for (String ns : NAMESPACES) {
            l.add(ns + " " + Files.readSymbolicLink(p.resolve("ns").resolve(ns)));
        }
        // the LSM label (AppArmor profile, SELinux context; proc(5) /proc/PID/attr/current): a
        // confined caller must not get an unconfined server's rights, nor the other way round
        String label;
        try {
            label = Files.readString(p.resolve("attr/current")).strip();
        } catch (IOException e) {
            label = "none"; // no LSM that has labels (EINVAL), or no such file
        }
        l.add("label " + label);
        String status = Files.readString(p.resolve("status"));
        for (String key : STATUS_KEYS) {
            int at = status.startsWith(key) ? 0 : status.indexOf("\n" + key);
            if (at < 0) {
                l.add(key + " ?");
                continue;
            }
            int from = at == 0 ? 0 : at + 1;
            int end = status.indexOf('\n', from);
            l.add(SPACES.matcher(status.substring(from, end < 0 ? status.length() : end)).replaceAll(" "));
        }
        return l;
    }
}

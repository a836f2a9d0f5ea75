package dev.gvshim.container;

import dev.gvshim.call.Call;
import dev.gvshim.call.Launch;
import dev.gvshim.diagnose.IoError;
import dev.gvshim.linux.ProcStat;
import dev.gvshim.failure.GvshimException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The host processes of a gVisor container, for `ps`: the sandbox (runsc's pid-file process),
 * its descendants (the platform's stub processes) and the container's gofer. runsc's own `ps`
 * lists the sandbox's internal pids (1, 2, ...), and Docker filters the host's `ps -ef` by
 * whatever numbers the runtime prints: with runsc's, `docker top` showed the host's init.
 */
final class HostPids {
    private HostPids() {
    }

    static List<Integer> of(int sandboxPid, Path runscRoot, String bundle, Path debugLogs) {
        return of(Path.of("/proc"), sandboxPid, runscRoot, bundle, debugLogs);
    }

    /**
     * @param debugLogs the container's own --debug-log directory: two containers of one bundle
     *                  (runc's tests, `docker run` of one image twice is not: each has its bundle)
     *                  have gofers that differ only there
     */
    static List<Integer> of(Path proc, int sandboxPid, Path runscRoot, String bundle, Path debugLogs) {
        Map<Integer, List<Integer>> children = new HashMap<>();
        Set<Integer> gofers = new LinkedHashSet<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(proc, "[0-9]*")) {
            for (Path p : ds) {
                int pid;
                try {
                    pid = Integer.parseInt(p.getFileName().toString());
                } catch (NumberFormatException e) {
                    continue;
                }
                int ppid = ppid(p);
                if (ppid >= 0) {
                    children.computeIfAbsent(ppid, k -> new ArrayList<>()).add(pid);
                }
                if (isGofer(p, runscRoot, bundle, debugLogs)) {
                    gofers.add(pid);
                }
            }
        } catch (IOException e) {
            // no /proc: only the sandbox itself
        }
        List<Integer> out = new ArrayList<>();
        if (sandboxPid > 0) {
            List<Integer> queue = new ArrayList<>(List.of(sandboxPid));
            while (!queue.isEmpty()) {
                int pid = queue.removeFirst();
                if (!out.contains(pid)) {
                    out.add(pid);
                    queue.addAll(children.getOrDefault(pid, List.of()));
                }
            }
        }
        for (int g : gofers) {
            if (!out.contains(g)) {
                out.add(g);
            }
        }
        return out;
    }

    private static int ppid(Path procPid) {
        return ProcStat.parentOf(procPid.resolve("stat"));
    }

    /**
     * runsc-gofer --root=ROOT [--debug-log=DIR/] ... gofer --bundle BUNDLE ...: gvshim gives each
     * container's runsc calls the container's own debug-log directory, so a gofer that names one
     * is this container's only if it names this one (one made by another runtime names none).
     */
    private static boolean isGofer(Path procPid, Path runscRoot, String bundle, Path debugLogs) {
        try {
            String[] argv = new String(Files.readAllBytes(procPid.resolve("cmdline")), StandardCharsets.UTF_8).split("\0");
            if (argv.length < 2 || !argv[0].equals("runsc-gofer")) {
                return false;
            }
            List<String> a = List.of(argv);
            int b = a.indexOf("--bundle");
            boolean sameBundle = (b >= 0 && b + 1 < argv.length && argv[b + 1].equals(bundle)) || a.contains("--bundle=" + bundle);
            String ownLogs = debugLogs == null ? null : "--debug-log=" + debugLogs + "/";
            boolean otherLogs = ownLogs != null && a.stream().anyMatch(f -> f.startsWith("--debug-log=") && !f.equals(ownLogs));
            return sameBundle && !otherLogs && a.contains("--root=" + runscRoot);
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /** `ps ARGS` (default -ef), its header and the lines of these pids (runc's `ps` table), started as the call starts programs. */
    static String table(Call call, List<Integer> pids, List<String> psArgs) throws GvshimException {
        List<String> cmd = new ArrayList<>(List.of("ps"));
        cmd.addAll(psArgs.isEmpty() ? List.of("-ef") : psArgs);
        Launch.Ran r;
        try {
            String ps = Fallback.resolve("ps", call.env().getOrDefault("PATH", "/usr/bin:/bin"), null);
            List<String> argv = new ArrayList<>(cmd);
            argv.set(0, ps == null ? "ps" : ps);
            r = call.processes().run(new Launch(argv, call.env(), Launch.Stdio.CAPTURE));
        } catch (IOException e) {
            throw RuntimeFailures.of("PS_FAILED", "cannot run ps: " + IoError.reason(e) + " (install procps)");
        }
        if (!r.ok()) {
            throw RuntimeFailures.of("PS_FAILED",
                    "ps " + String.join(" ", cmd.subList(1, cmd.size())) + " failed: " + r.output().strip());
        }
        return filter(r.output(), pids);
    }

    static String filter(String psOutput, List<Integer> pids) throws GvshimException {
        String[] lines = psOutput.split("\n");
        List<String> header = List.of(lines[0].trim().split("\\s+"));
        int col = header.indexOf("PID");
        if (col < 0) {
            throw RuntimeFailures.of("PS_FAILED", "couldn't find PID field in ps output");
        }
        StringBuilder b = new StringBuilder(lines[0]).append('\n');
        for (int i = 1; i < lines.length; i++) {
            String[] f = lines[i].trim().split("\\s+");
            if (f.length > col && pids.contains(parse(f[col]))) {
                b.append(lines[i]).append('\n');
            }
        }
        return b.toString();
    }

    private static int parse(String s) {
        try {
            return Integer.parseInt(s);
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}

package dev.gvshim.pool;

import dev.gvshim.container.RunDir;
import dev.gvshim.container.RunForeground;
import dev.gvshim.linux.Linux;
import dev.gvshim.linux.ProcStat;
import dev.gvshim.linux.SyscallException;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A real pooled sandbox: `runsc run` of the pool's profile, this server's child, whose init
 * waits; the nsfs descriptors of its user and mount namespaces (a command is forked into them
 * as `runsc exec`, gvshim_client.c's USERNS_SPAWN) and runsc's global flags as its command line
 * has them. It serves one command; {@link #destroy} then kills runsc (its sandbox and gofer die
 * with it: runsc run starts them with PR_SET_PDEATHSIG, runsc/sandbox/sandbox.go Attached)
 * and removes the run directory, runsc's state with it.
 */
public final class PooledSandbox implements Sandbox {
    private static final int WNOHANG = 1;
    private final RunForeground.Booted boot;
    private final int userns;
    private final int mntns;
    private final List<String> globals;
    private final long rss;
    private volatile long takerPid = -1;
    private volatile long takerStart = -1;
    private boolean reaped;
    private boolean destroyed;

    /** @param reaped whether runsc was waited for already (its pid may be another process's by now) */
    PooledSandbox(RunForeground.Booted boot, int userns, int mntns, List<String> globals, boolean reaped) {
        this.boot = boot;
        this.userns = userns;
        this.mntns = mntns;
        this.globals = List.copyOf(globals);
        this.reaped = reaped;
        this.rss = reaped ? 0 : treeRss(boot.runscPid());
    }

    public RunDir run() {
        return boot.run();
    }

    public Path runsc() {
        return boot.runsc();
    }

    /** The nsfs descriptor of its user namespace. */
    public int userns() {
        return userns;
    }

    /** The nsfs descriptor of its mount namespace (gvshim-nsexec's, with the nodev copies). */
    public int mntns() {
        return mntns;
    }

    /** runsc's global flags, as its `runsc run` has them (--root, --rootless, --network, --platform, --log...). */
    public List<String> globals() {
        return globals;
    }

    @Override
    public synchronized boolean alive() {
        if (reaped || destroyed) {
            return false;
        }
        try {
            if (Linux.waitpid(boot.runscPid(), WNOHANG).pid() == boot.runscPid()) {
                reaped = true;
            }
        } catch (SyscallException e) {
            reaped = true; // ECHILD: not ours any more
        }
        return !reaped;
    }

    @Override
    public void handTo(long pid) {
        takerStart = ProcStat.startTime(pid);
        takerPid = pid;
    }

    @Override
    public boolean takerGone() {
        long pid = takerPid;
        return pid > 0 && ProcStat.liveStartTime(pid) != takerStart; // a zombie client has exited
    }

    @Override
    public long rss() {
        return rss;
    }

    @Override
    public synchronized void destroy() {
        if (destroyed) {
            return;
        }
        destroyed = true;
        try { // a command still running in it learns why its runsc exec failed (RunFailed)
            java.nio.file.Files.writeString(boot.run().dir().resolve(dev.gvshim.container.RunDir.DESTROYED_FILE), "");
        } catch (java.io.IOException e) {
            // no run directory left: that says it too
        }
        Linux.closeQuietly(userns, mntns, boot.started(), boot.stdin(), boot.stdout(), boot.stderr());
        int pid = boot.runscPid();
        if (!reaped) {
            // runsc's sandbox and gofer die with it (PR_SET_PDEATHSIG); killed first here, while runsc
            // still holds their pids (a zombie's pid is not reused), in case one is between fork and prctl
            for (int p : descendants(pid)) {
                try {
                    Linux.kill(p, Linux.SIGKILL);
                } catch (SyscallException e) {
                    // gone already
                }
            }
            try {
                Linux.kill(pid, Linux.SIGKILL);
                Linux.waitpid(pid, 0);
            } catch (SyscallException e) {
                // reaped already, or not ours
            }
            reaped = true;
        }
        boot.run().delete();
    }

    /** VmRSS of {@code pid} and all its descendants (proc(5)), in bytes. */
    static long treeRss(int pid) {
        long total = vmRss(pid);
        for (int p : descendants(pid)) {
            total += vmRss(p);
        }
        return total;
    }

    /** The descendants of {@code pid}, as /proc/N/stat's parent fields link them now. */
    static List<Integer> descendants(int pid) {
        Map<Integer, List<Integer>> children = new HashMap<>();
        try (DirectoryStream<Path> procs = Files.newDirectoryStream(Path.of("/proc"), "[0-9]*")) {
            for (Path p : procs) {
                int ppid = ProcStat.parentOf(p.resolve("stat"));
                if (ppid > 0) {
                    children.computeIfAbsent(ppid, k -> new ArrayList<>()).add(Integer.parseInt(p.getFileName().toString()));
                }
            }
        } catch (IOException | RuntimeException e) {
            return List.of();
        }
        List<Integer> all = new ArrayList<>();
        ArrayDeque<Integer> todo = new ArrayDeque<>(children.getOrDefault(pid, List.of()));
        while (!todo.isEmpty()) {
            int p = todo.pop();
            all.add(p);
            todo.addAll(children.getOrDefault(p, List.of()));
        }
        return all;
    }

    private static long vmRss(int pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Integer.toString(pid), "status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.substring(6).strip().split("\\s+")[0]) * 1024;
                }
            }
        } catch (IOException | RuntimeException e) {
            // gone meanwhile
        }
        return 0;
    }
}

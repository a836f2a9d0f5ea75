package dev.gvshim.server;

import dev.gvshim.linux.Linux;
import dev.gvshim.linux.SyscallException;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reaps the server's dead gvshim-holder children. A rootless container's holder is cloned by
 * the call thread of its `create` (the server's child, with no PDEATHSIG: it must outlive the
 * call) and SIGKILLed by its `delete` without a wait, as a one-shot gvshim leaves it to init. A
 * server lives on, so each would stay a zombie until the server exits. Only zombies named
 * gvshim-holder are reaped, each by its pid: never waitpid(-1), which would take the status of
 * a child a call thread (NamespaceChild) or the JDK's process reaper is waiting for.
 */
final class Reaper {
    private static final int WNOHANG = 1;
    private final Path proc;

    Reaper(Path proc) {
        this.proc = proc;
    }

    /** Reaps what it can; returns the pids reaped. */
    List<Integer> sweep() {
        List<Integer> reaped = new ArrayList<>();
        for (int pid : children()) {
            if (zombieHolder(pid)) {
                try {
                    if (Linux.waitpid(pid, WNOHANG).pid() == pid) {
                        reaped.add(pid);
                    }
                } catch (SyscallException e) {
                    // ECHILD: reaped meanwhile by whoever else knew it
                }
            }
        }
        return reaped;
    }

    /** This process's children, from every thread's children file (proc(5): /proc/PID/task/TID/children). */
    private List<Integer> children() {
        List<Integer> pids = new ArrayList<>();
        try (DirectoryStream<Path> tasks = Files.newDirectoryStream(proc.resolve("self/task"))) {
            for (Path t : tasks) {
                try {
                    for (String p : Files.readString(t.resolve("children")).trim().split("\\s+")) {
                        if (!p.isEmpty()) {
                            pids.add(Integer.parseInt(p));
                        }
                    }
                } catch (IOException | NumberFormatException e) {
                    // the thread ended meanwhile, or the kernel has no children files (CONFIG_PROC_CHILDREN)
                }
            }
        } catch (IOException e) {
            // no /proc: nothing to find
        }
        return pids;
    }

    /** Whether /proc/PID/stat says: state Z, command gvshim-holder. */
    private boolean zombieHolder(int pid) {
        try {
            String stat = Files.readString(proc.resolve(Integer.toString(pid)).resolve("stat"));
            int open = stat.indexOf('(');
            int close = stat.lastIndexOf(')');
            return open >= 0 && close > open && stat.substring(open + 1, close).equals("gvshim-holder")
                    && stat.length() > close + 2 && stat.charAt(close + 2) == 'Z';
        } catch (IOException e) {
            return false;
        }
    }
}

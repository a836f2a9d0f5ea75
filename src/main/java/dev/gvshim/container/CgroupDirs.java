package dev.gvshim.container;

import dev.gvshim.linux.Errno;
import dev.gvshim.linux.SyscallException;
import dev.gvshim.linux.Syscalls;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * A root runtime's container's own cgroup: one directory per hierarchy, where runsc puts the
 * sandbox, and which `delete` removes as runc does.
 *
 * <p>Where ({@link #of}): what runsc 2022-12 computes (runsc/cgroup/cgroup.go, new and
 * MakePath): the spec's cgroupsPath, or {@code "/" + runsc id} when a sandbox's spec has none
 * (runsc/container/container.go, New); an absolute path below each hierarchy's root, a relative
 * one below the cgroup of the process that runs runsc on cgroup v1, below that cgroup's parent
 * on v2 alone. On v1, in the hierarchies of runsc's controllers (a hybrid host's unified
 * hierarchy is not one of them). Recorded at create ({@link #FILE} in the container's
 * directory): a relative path depends on the cgroup runsc was started in, which `delete` cannot
 * know.
 *
 * <p>Removal ({@link #remove}): runc's RemovePath (libcontainer/cgroups/utils.go): rmdir; if
 * that fails, the sub-cgroups first, depth first, then rmdir again, retried on EBUSY (a
 * cgroup whose last processes are still exiting). runsc removes only the directories it made
 * itself, and none below them: a sub-cgroup made on the host, or a directory that existed
 * before create, stayed (runsc's Uninstall logs the EBUSY). Only directories (rmdir(2) never
 * removes anything else), and a cgroup with processes cannot be removed (cgroups(7)).
 */
final class CgroupDirs {
    private CgroupDirs() {
    }

    /** In the container's directory: its cgroup directories, one a line. */
    static final String FILE = "cgroups";

    /** runsc/cgroup/cgroup.go's controllers: the v1 hierarchies runsc makes the sandbox's cgroup in. */
    private static final Set<String> RUNSC_V1 = Set.of("blkio", "cpu", "cpuset", "hugetlb", "memory", "net_cls", "net_prio",
            "pids", "cpuacct", "devices", "freezer", "perf_event", "rdma", "systemd");

    /**
     * The container's cgroup directories: {@code path} is the spec's cgroupsPath ("" for none),
     * {@code sandbox} whether the container starts a sandbox (a pod's other containers get a
     * cgroup only when their spec names one), {@code procCgroup} /proc/PID/cgroup of the process
     * that runs runsc, {@code mountinfo} /proc/self/mountinfo. A directory that is a hierarchy's
     * root, or holds the runtime's own cgroup, is not the container's own and is left out.
     */
    static List<String> of(String path, boolean sandbox, String runscId, String procCgroup, String mountinfo) {
        String p = path.isEmpty() && sandbox ? "/" + runscId : path;
        List<String> dirs = new ArrayList<>();
        if (p.isEmpty()) {
            return dirs;
        }
        boolean v1 = false;
        for (String line : procCgroup.split("\n")) {
            String[] f = line.split(":", 3);
            if (f.length < 3 || f[1].isEmpty()) {
                continue;
            }
            v1 = true;
            String first = f[1].split(",")[0];
            boolean runscs = false;
            for (String c : f[1].split(",")) {
                runscs |= RUNSC_V1.contains(c.startsWith("name=") ? c.substring(5) : c);
            }
            Cgroups.Place own = runscs ? Cgroups.place(first, procCgroup, mountinfo) : null;
            if (own != null && !own.v2()) {
                add(dirs, own, CgroupCheck.dir(p, own));
            }
        }
        if (!v1) {
            Cgroups.Place own = Cgroups.place("memory", procCgroup, mountinfo);
            if (own != null && own.v2()) {
                add(dirs, own, CgroupCheck.dir(p, own));
            }
        }
        return dirs;
    }

    private static void add(List<String> dirs, Cgroups.Place own, String dir) {
        String d = Path.of(dir).normalize().toString();
        boolean below = d.startsWith(own.mount() + "/");
        boolean holdsRuntime = own.dir().equals(d) || own.dir().startsWith(d + "/");
        if (below && !holdsRuntime && !dirs.contains(d)) {
            dirs.add(d);
        }
    }

    /** What removal needs of the host: injected for the tests. */
    interface Fs {
        /** rmdir(2). */
        void rmdir(String path) throws SyscallException;

        /** The directory's subdirectories (not symbolic links), or null when it cannot be listed. */
        List<String> subdirs(String path);

        /** Waits before the next try. */
        void pause(long millis);

        static Fs system() {
            return new Fs() {
                @Override
                public void rmdir(String path) throws SyscallException {
                    Syscalls.system().rmdir(path);
                }

                @Override
                public List<String> subdirs(String path) {
                    List<String> out = new ArrayList<>();
                    try (DirectoryStream<Path> s = Files.newDirectoryStream(Path.of(path))) {
                        for (Path p : s) {
                            if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                                out.add(p.toString());
                            }
                        }
                    } catch (IOException | RuntimeException e) {
                        return null;
                    }
                    return out;
                }

                @Override
                public void pause(long millis) {
                    try {
                        Thread.sleep(millis);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            };
        }
    }

    /**
     * Removes {@code dir} and its sub-cgroups, deepest first (runc's RemovePath); null when it is
     * gone (or never was), else why it stays ("DIR: EBUSY (Device or resource busy)").
     */
    static String remove(String dir, Fs fs) {
        return remove(dir, fs, true);
    }

    /**
     * Removes the sub-cgroups of {@code dir} that have no processes, before runsc removes the
     * container's cgroup: runsc retries its rmdir for 5 s while a sub-cgroup is there (measured:
     * `delete --force` 6.2 s instead of 1.8 s). The sandbox is in {@code dir} itself, never below.
     */
    static void removeBelow(String dir, Fs fs) {
        List<String> subs = fs.subdirs(dir);
        for (String s : subs == null ? List.<String>of() : subs) {
            remove(s, fs, false);
        }
    }

    private static String remove(String dir, Fs fs, boolean retry) {
        if (rmdir(dir, fs, false) == null) {
            return null;
        }
        List<String> subs = fs.subdirs(dir);
        if (subs == null) {
            // gone meanwhile, or not listable (then the last rmdir's error says why)
            return rmdir(dir, fs, false);
        }
        for (String s : subs) {
            String why = remove(s, fs, retry);
            if (why != null) {
                return why;
            }
        }
        return rmdir(dir, fs, retry);
    }

    /** runc's rmdir: ENOENT is success; EBUSY retried 10 times, from 1 ms doubling (~1 s), when {@code retry}. */
    private static String rmdir(String dir, Fs fs, boolean retry) {
        long delay = 1;
        for (int tries = 0;; tries++) {
            try {
                fs.rmdir(dir);
                return null;
            } catch (SyscallException e) {
                if (e.errno() == Errno.ENOENT) {
                    return null;
                }
                if (!retry || e.errno() != Errno.EBUSY || tries == 10) {
                    return dir + ": " + e.errnoName() + " (" + Errno.describe(e.errno()) + ")";
                }
            }
            fs.pause(delay);
            delay *= 2;
        }
    }
}

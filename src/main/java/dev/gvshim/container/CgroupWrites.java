package dev.gvshim.container;

import dev.gvshim.failure.GvshimException;
import dev.gvshim.linux.Errno;
import dev.gvshim.linux.Linux;
import dev.gvshim.linux.SyscallException;
import dev.gvshim.linux.Syscalls;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * `update`'s writes to the cgroup runsc put the sandbox in, file by file as runc's cgroup
 * managers write them (runc v1.1 libcontainer/cgroups/fs for v1: cpuset, memory, cpu, pids,
 * blkio, in that order; fs2 for v2: pids, memory, io, cpu, cpuset, unified), with runc's
 * orderings (memory and memory+swap, cpu period and quota), conversions (cpu shares to
 * cpu.weight, blkio weight to io.weight, memory+swap to memory.swap.max) and words for a value
 * the kernel refuses. A write that fails stops the update: the files already written get their
 * previous values back (as runc's Set does), and the line names the file and the errno.
 */
final class CgroupWrites {
    private CgroupWrites() {
    }

    /** The cgroup files, injected for the tests. */
    interface Fs {
        /** The file's text, or null when it cannot be read. */
        String read(String path);

        boolean exists(String path);

        /** write(2) of {@code value} to the file (one write: cgroup files take a value a write). */
        void write(String path, String value) throws SyscallException;

        static Fs system() {
            return new Fs() {
                @Override
                public String read(String path) {
                    return Cgroups.readOrNull(path);
                }

                @Override
                public boolean exists(String path) {
                    return Files.exists(Path.of(path));
                }

                @Override
                public void write(String path, String value) throws SyscallException {
                    // O_TRUNC: moot on cgroupfs, needed where the tree is a copy of regular files (runc does the same)
                    Syscalls s = Syscalls.system();
                    int fd = s.open(path, Linux.O_WRONLY | Linux.O_TRUNC | Linux.O_CLOEXEC, 0);
                    try {
                        s.write(fd, value.getBytes(StandardCharsets.US_ASCII), path);
                    } finally {
                        s.closeQuietly(fd);
                    }
                }
            };
        }
    }

    /** The sandbox's cgroup: its directory (v2, key "") or one per v1 controller; {@code paths}: relative to the hierarchy. */
    record Where(boolean v2, Map<String, String> dirs, Map<String, String> paths) {
        Where(boolean v2, Map<String, String> dirs) {
            this(v2, dirs, Map.of());
        }

        String dir(String controller) {
            return v2 ? dirs.get("") : dirs.get(controller);
        }
    }

    /** A write the kernel refused: the file, errno and runc's words where it has them. */
    static final class Refused extends Exception {
        private static final long serialVersionUID = 1L;
        final String path;

        Refused(String path, String why) {
            super(why, null, false, false);
            this.path = path;
        }
    }

    /** One update: the writes done so far, each with the value it replaced. */
    private static final class Run {
        private final Fs fs;
        private final List<String[]> undo = new ArrayList<>();

        Run(Fs fs) {
            this.fs = fs;
        }

        void write(String path, String value) throws Refused {
            try {
                tryWrite(path, value);
            } catch (SyscallException e) {
                throw refused(path, e);
            }
        }

        void tryWrite(String path, String value) throws SyscallException {
            String old = fs.read(path);
            fs.write(path, value);
            if (old != null && !path.endsWith("_device") && !path.endsWith("io.max")) {
                undo.add(new String[] {path, old.strip()});
            }
        }

        /** runc's Set puts the previous configuration back when one write fails; what could not be, is said. */
        List<String> rollBack() {
            List<String> failed = new ArrayList<>();
            for (String[] u : undo.reversed()) {
                try {
                    fs.write(u[0], u[1]);
                } catch (SyscallException e) {
                    failed.add(u[0]);
                }
            }
            return failed;
        }
    }

    static Refused refused(String path, SyscallException e) {
        return new Refused(path, path + ": " + e.errnoName() + " (" + Errno.describe(e.errno()) + ")");
    }

    /**
     * Applies {@code r}; on a refusal, the values written before it are put back and the refusal
     * is thrown ({@code rolledBack} gets the files that could not be).
     */
    static void apply(UpdateRequest r, Where w, Fs fs, List<String> notRolledBack) throws Refused {
        Run run = new Run(fs);
        try {
            if (w.v2()) {
                v2(r, w.dir(""), run, fs);
            } else {
                v1(r, w, run, fs);
            }
        } catch (Refused e) {
            notRolledBack.addAll(run.rollBack());
            throw e;
        }
    }

    private static void v1(UpdateRequest r, Where w, Run run, Fs fs) throws Refused {
        String set = w.dir("cpuset");
        if (!r.cpus().isEmpty()) {
            run.write(set + "/cpuset.cpus", r.cpus());
        }
        if (!r.mems().isEmpty()) {
            run.write(set + "/cpuset.mems", r.mems());
        }
        String mem = w.dir("memory");
        long swap = r.swap();
        // runc: memory -1 without a swap value lifts both (where the kernel accounts swap)
        if (r.memory() == -1 && swap == 0 && fs.exists(mem + "/memory.memsw.limit_in_bytes")) {
            swap = -1;
        }
        boolean swapFirst = false;
        if (r.memory() != 0 && swap != 0) {
            // the kernel wants memory <= memory+swap at each step: raise memsw first when the new one is above the old limit
            long current = number(fs.read(mem + "/memory.limit_in_bytes"));
            swapFirst = swap == -1 || Long.compareUnsigned(current, swap) < 0;
        }
        if (swapFirst) {
            run.write(mem + "/memory.memsw.limit_in_bytes", Long.toString(swap));
        }
        v1Memory(run, fs, mem, r.memory());
        if (!swapFirst && swap != 0) {
            run.write(mem + "/memory.memsw.limit_in_bytes", Long.toString(swap));
        }
        if (r.reservation() != 0) {
            run.write(mem + "/memory.soft_limit_in_bytes", Long.toString(r.reservation()));
        }
        String cpu = w.dir("cpu");
        if (r.shares() != 0) {
            run.write(cpu + "/cpu.shares", Long.toUnsignedString(r.shares()));
            long read = number(fs.read(cpu + "/cpu.shares"));
            if (read != r.shares()) {
                // the kernel clamps cpu.shares to [2, 262144] (kernel/sched/core.c): runc's words
                throw new Refused(cpu + "/cpu.shares", "the " + (Long.compareUnsigned(r.shares(), read) > 0 ? "maximum"
                        : "minimum") + " allowed cpu-shares is " + read);
            }
        }
        boolean periodLater = false;
        if (r.period() != 0) {
            periodLater = retryLater(run, cpu + "/cpu.cfs_period_us", Long.toUnsignedString(r.period()), r.quota());
        }
        boolean burstLater = false;
        if (r.burst() != null) {
            burstLater = retryLater(run, cpu + "/cpu.cfs_burst_us", Long.toUnsignedString(r.burst()), r.quota());
        }
        if (r.quota() != 0) {
            run.write(cpu + "/cpu.cfs_quota_us", Long.toString(r.quota()));
            if (periodLater) {
                run.write(cpu + "/cpu.cfs_period_us", Long.toUnsignedString(r.period()));
            }
            if (burstLater) {
                run.write(cpu + "/cpu.cfs_burst_us", Long.toUnsignedString(r.burst()));
            }
        }
        if (r.idle() != null) {
            run.write(cpu + "/cpu.idle", Long.toString(r.idle()));
        }
        if (r.rtPeriod() != 0) {
            run.write(cpu + "/cpu.rt_period_us", Long.toUnsignedString(r.rtPeriod()));
        }
        if (r.rtRuntime() != 0) {
            run.write(cpu + "/cpu.rt_runtime_us", Long.toString(r.rtRuntime()));
        }
        if (r.pids() != 0) {
            run.write(w.dir("pids") + "/pids.max", r.pids() < 0 ? "max" : Long.toString(r.pids()));
        }
        String blkio = w.dir("blkio");
        if (r.blkioWeight() != 0) {
            // blkio.weight is CFQ's; with BFQ (CFQ is gone since Linux 5.0) it is blkio.bfq.weight (runc's choice)
            String file = fs.exists(blkio + "/blkio.weight") ? "/blkio.weight" : "/blkio.bfq.weight";
            run.write(blkio + file, Integer.toString(r.blkioWeight()));
        }
        for (UpdateRequest.Throttle t : r.throttles()) {
            run.write(blkio + "/" + t.v1File(), t.major() + ":" + t.minor() + " " + t.rate());
        }
        if (!r.unified().isEmpty()) {
            throw new Refused(mem, "invalid configuration: cannot use unified on cgroup v1"); // runc's words
        }
    }

    /** A period or burst the kernel refuses with EINVAL now may fit once the new quota is written (runc's retry). */
    private static boolean retryLater(Run run, String path, String value, long quota) throws Refused {
        try {
            run.tryWrite(path, value);
            return false;
        } catch (SyscallException e) {
            if (e.errno() != Errno.EINVAL || quota == 0) {
                throw refused(path, e);
            }
            return true;
        }
    }

    private static void v1Memory(Run run, Fs fs, String mem, long limit) throws Refused {
        if (limit == 0) {
            return;
        }
        String path = mem + "/memory.limit_in_bytes";
        try {
            run.tryWrite(path, Long.toString(limit));
        } catch (SyscallException e) {
            if (e.errno() != Errno.EBUSY) {
                throw refused(path, e);
            }
            // the kernel could not reclaim down to the new limit (mm/memcontrol.c): runc's words
            throw new Refused(path, refused(path, e).getMessage() + ": unable to set memory limit to " + limit
                    + " (current usage: " + number(fs.read(mem + "/memory.usage_in_bytes")) + ", peak usage: "
                    + number(fs.read(mem + "/memory.max_usage_in_bytes")) + ")");
        }
    }

    private static void v2(UpdateRequest r, String dir, Run run, Fs fs) throws Refused {
        if (r.pids() != 0) {
            run.write(dir + "/pids.max", r.pids() < 0 ? "max" : Long.toString(r.pids()));
        }
        if (r.memory() != 0 || r.swap() != 0 || r.reservation() != 0) {
            // runc converts memory+swap to swap alone against the memory limit; the one in force when none is given
            long memory = r.memory() != 0 ? r.memory() : number(fs.read(dir + "/memory.max")); // "max": 0, runc's unset
            long swap = UpdateRequest.swapV2(r.swap(), memory, dir);
            if (swap != 0 || r.swap() > 0) {
                run.write(dir + "/memory.swap.max", str(swap));
            }
            if (r.memory() != 0) {
                run.write(dir + "/memory.max", str(r.memory()));
            }
            if (r.reservation() != 0) {
                run.write(dir + "/memory.low", str(r.reservation()));
            }
        }
        if (r.blkioWeight() != 0) {
            if (fs.exists(dir + "/io.bfq.weight")) {
                run.write(dir + "/io.bfq.weight", Integer.toString(r.blkioWeight()));
            } else {
                run.write(dir + "/io.weight", Long.toString(1 + (r.blkioWeight() - 10L) * 9999 / 990)); // runc's conversion
            }
        }
        for (UpdateRequest.Throttle t : r.throttles()) {
            run.write(dir + "/io.max", t.major() + ":" + t.minor() + " " + t.v2Key() + "=" + t.rate());
        }
        if (r.idle() != null) {
            run.write(dir + "/cpu.idle", Long.toString(r.idle()));
        }
        if (r.shares() != 0) {
            // runc's conversion of cpu shares [2, 262144] to cpu.weight [1, 10000]
            run.write(dir + "/cpu.weight", Long.toUnsignedString(1 + (r.shares() - 2) * 9999 / 262142));
        }
        if (r.burst() != null) {
            run.write(dir + "/cpu.max.burst", Long.toUnsignedString(r.burst()));
        }
        if (r.quota() != 0 || r.period() != 0) {
            // cpu.max is "QUOTA PERIOD": the half not given stays as it is (runc keeps the one it set before)
            String[] now = java.util.Objects.requireNonNullElse(fs.read(dir + "/cpu.max"), "max 100000").strip().split("\\s+");
            String quota = r.quota() > 0 ? Long.toString(r.quota()) : r.quota() < 0 ? "max" : now[0];
            String period = r.period() != 0 ? Long.toUnsignedString(r.period()) : now.length > 1 ? now[1] : "100000";
            run.write(dir + "/cpu.max", quota + " " + period);
        }
        if (!r.cpus().isEmpty()) {
            run.write(dir + "/cpuset.cpus", r.cpus());
        }
        if (!r.mems().isEmpty()) {
            run.write(dir + "/cpuset.mems", r.mems());
        }
        for (Map.Entry<String, String> u : r.unified().entrySet()) {
            if (u.getKey().contains("/")) {
                throw new Refused(dir, "unified resource \"" + u.getKey() + "\" must be a file name (no slashes)"); // runc's
            }
            run.write(dir + "/" + u.getKey(), u.getValue());
        }
    }

    private static String str(long v) {
        return v == -1 ? "max" : Long.toString(v);
    }

    private static long number(String s) {
        try {
            return s == null ? 0 : Long.parseUnsignedLong(s.strip());
        } catch (NumberFormatException e) {
            return 0;
        }
    }
}

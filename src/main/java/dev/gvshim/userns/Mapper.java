package dev.gvshim.userns;

import dev.gvshim.failure.Failure;
import dev.gvshim.failure.GvshimException;
import dev.gvshim.linux.Linux;
import dev.gvshim.linux.Spawner;
import dev.gvshim.linux.Step;
import dev.gvshim.linux.SyscallException;
import dev.gvshim.linux.Syscalls;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes the id maps of a freshly cloned user-namespace child, as planned (see
 * {@link NamespaceChild#map}, which is how it is used).
 */
public final class Mapper {
    private static final String NEWUIDMAP = "newuidmap";
    /** newuidmap's messages are parsed and shown; keep them in English. */
    private static final List<String> HELPER_ENV = List.of("LC_ALL=C", "PATH=/usr/sbin:/usr/bin:/sbin:/bin");

    private final Syscalls sys;

    public Mapper(Syscalls sys) {
        this.sys = sys;
    }

    /**
     * newuidmap or newgidmap exited non-zero: IDMAP_HELPER_FAILED with its exact arguments, status
     * and message as the evidence, because the same message ("write to uid_map failed: Operation
     * not permitted") has at least five causes; diagnose/MappingCauses tells them apart from it
     * (and keeps this failure when none fits).
     */
    public static GvshimException failed(String helper, List<String> argv, Linux.WaitStatus status, String output) {
        String out = output.strip();
        return new GvshimException(Failure.of("IDMAP_HELPER_FAILED", "cannot map " + (helper.equals(NEWUIDMAP) ? "user"
                : "group") + " ids with " + helper, String.join(" ", argv) + ": " + status + (out.isEmpty() ? "" : ": " + out),
                null, "run `gvshim doctor`, or run with --userns single"));
    }

    /** The helper a {@link #failed} failure names: newuidmap or newgidmap. */
    public static String helper(Failure failed) {
        return failed.what().endsWith(NEWUIDMAP) ? NEWUIDMAP : "newgidmap";
    }

    /**
     * @throws GvshimException  newuidmap or newgidmap exited non-zero ({@link #failed}: its argv, status and message)
     * @throws SyscallException a helper could not run, or a direct write failed (with its {@link Step})
     */
    public void map(MappingPlan plan, int pid, Helper newuidmap, Helper newgidmap) throws SyscallException, GvshimException {
        if (plan.viaHelpers()) {
            // Both helpers run at once: each is an exec of a setuid binary.
            List<String> uidArgv = argv(newuidmap, pid, plan.uidMap());
            List<String> gidArgv = argv(newgidmap, pid, plan.gidMap());
            Spawner.Started u = sys.start(newuidmap.path(), uidArgv, HELPER_ENV, Step.RUN_NEWUIDMAP);
            Spawner.Started g;
            try {
                g = sys.start(newgidmap.path(), gidArgv, HELPER_ENV, Step.RUN_NEWGIDMAP);
            } catch (SyscallException e) {
                u.await();
                throw e;
            }
            Spawner.Completed uc = u.await();
            Spawner.Completed gc = g.await();
            if (!uc.ok()) {
                throw failed("newuidmap", uidArgv, uc.status(), uc.output());
            }
            if (!gc.ok()) {
                throw failed("newgidmap", gidArgv, gc.status(), gc.output());
            }
            return;
        }
        String proc = "/proc/" + pid + "/";
        if (plan.denySetgroups()) {
            write(proc + "setgroups", "deny\n", Step.WRITE_SETGROUPS);
        }
        write(proc + "uid_map", plan.uidMap().procText(), Step.WRITE_UID_MAP);
        write(proc + "gid_map", plan.gidMap().procText(), Step.WRITE_GID_MAP);
    }

    private void write(String path, String content, Step step) throws SyscallException {
        try {
            sys.writeFile(path, content);
        } catch (SyscallException e) {
            throw e.in(step);
        }
    }

    private static List<String> argv(Helper helper, int pid, IdMap map) {
        List<String> argv = new ArrayList<>();
        argv.add(helper.name());
        argv.add(Integer.toString(pid));
        argv.addAll(map.helperArgs());
        return argv;
    }
}

package dev.gvshim.container;

import dev.gvshim.diagnose.Explain;
import dev.gvshim.diagnose.Facts;
import dev.gvshim.failure.Failure;
import dev.gvshim.diagnose.IoError;
import dev.gvshim.failure.GvshimException;
import dev.gvshim.linux.Linux;
import dev.gvshim.linux.ProcStat;
import dev.gvshim.linux.Spawner;
import dev.gvshim.linux.Step;
import dev.gvshim.linux.SyscallException;
import dev.gvshim.linux.Syscalls;
import dev.gvshim.oci.Spec;
import dev.gvshim.oci.Specs;
import dev.gvshim.userns.Caller;
import dev.gvshim.userns.NamespaceChild;
import dev.gvshim.userns.MappingPlan;
import dev.gvshim.userns.Mode;
import dev.gvshim.userns.Planner;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A container created by a caller without root. runsc's own --rootless refuses `create`
 * (gVisor 2022-12), and a sandbox that outlives the runtime call needs a user namespace that
 * does too. So gvshim clones a holder (the native {@code gvshim-holder}: no Java runs in
 * the child) into a new user namespace, maps the caller's subordinate ids into it with
 * newuidmap/newgidmap (full mode: runsc needs more than one id without --rootless), and runs
 * every runsc call for the container inside that namespace: the native {@code gvshim-nsexec}
 * ({@link dev.gvshim.runsc.RunscCommand}) joins it as 0:0 and execs runsc.
 * The holder is killed at delete.
 */
final class Holder {
    private Holder() {
    }

    /** Starts the holder, maps it, and writes the spec runsc gets; returns the container with its holder. */
    static Container prepare(RuntimeCall rc, Container ct, Spec spec) throws GvshimException {
        java.util.Map<String, String> env = rc.call.env();
        Containers store = rc.store;
        Caller host;
        try {
            host = Caller.read(Path.of("/"), env.get("PATH"));
        } catch (IOException e) {
            throw RuntimeFailures.of("PROC_UNREADABLE",
                    "cannot read this process's credentials: " + IoError.reason(e) + " (is /proc mounted?)");
        }
        Explain explain = new Explain(() -> Facts.read(Path.of("/"), env, host, ct.runsc()));
        MappingPlan plan;
        try {
            plan = Planner.plan(Mode.FULL, host);
        } catch (GvshimException e) {
            Failure f = e.failure();
            throw RuntimeFailures.diagnosed(Failure.of(f.id(), "cannot create rootless container " + ct.id(), null,
                    "runsc needs a user namespace with your subordinate ids (full mode): " + f.why(), f.fix()));
        }
        String holder = rc.call.libexec("gvshim-holder").toString();
        Syscalls sys = Syscalls.system();
        int devnull = -1;
        int[] keep = {-1, -1};
        try {
            devnull = sys.open("/dev/null", Linux.O_RDWR | Linux.O_CLOEXEC, 0);
            // Until the record names it, only EOF on this pipe ends a holder whose creator was killed
            // (see gvshim_holder.c): 'k', once recorded, makes it outlive this call.
            keep = sys.pipe2(Linux.O_CLOEXEC);
            try (NamespaceChild c = NamespaceChild.start(sys, new NamespaceChild.Program(holder, List.of("gvshim-holder"),
                    List.of(), keep[0], devnull, devnull, Spawner.SETPGID), 0)) {
                sys.closeQuietly(keep[0]);
                keep[0] = -1;
                c.map(plan, host.newuidmap(), host.newgidmap());
                c.release(Step.EXEC_RUNSC);
                Container held = ct.withHolder(c.pid(), ProcStat.startTime(c.pid()));
                store.save(held);
                sys.write(keep[1], new byte[] {'k'}, "holder keep pipe");
                rc.log.debug("rootless: holder " + c.pid() + ", " + plan.describe());
                writeBundle(spec, ct.bundle(), store.dir(ct.id()).resolve("bundle"));
                c.detach(); // the holder outlives this call: the container's namespace until delete
                return held;
            }
        } catch (GvshimException m) {
            throw RuntimeFailures.diagnosed(explain.mapping(m.failure(), host));
        } catch (SyscallException e) {
            throw RuntimeFailures.diagnosed(explain.syscall(e));
        } catch (IOException e) {
            throw RuntimeFailures.stateIo("cannot write the state of " + ct.id() + ": " + IoError.reason(e));
        } finally {
            sys.closeQuietly(devnull);
            sys.closeQuietly(keep[0]);
            sys.closeQuietly(keep[1]);
        }
    }

    /** The spec runsc gets inside the holder's namespace, in the container's own directory (the bundle is not modified). */
    static void writeBundle(Spec spec, Path bundle, Path dir) throws IOException {
        Spec s = Specs.toRootlessInUserns(spec.copy(), bundle);
        Files.createDirectories(dir);
        Files.write(dir.resolve("config.json"), s.toJson());
    }

    /**
     * Whether the container is a rootless one whose holder process is gone (killed; a zombie is
     * gone too): runsc can no longer be run in its user namespace (gvshim-nsexec enters it through
     * the holder), so no runsc call can end or delete it.
     */
    static boolean gone(Container ct) {
        return ct.rootless() && ct.holderPid() > 0 && !ProcStat.running(ct.holderPid(), ct.holderStart());
    }

    /** Kills the holder (if it is still the same process): the namespace ends with the sandbox. */
    static void release(Container ct) {
        if (!ct.rootless() || ct.holderPid() <= 0 || gone(ct)) {
            return;
        }
        ProcessHandle.of(ct.holderPid()).ifPresent(ProcessHandle::destroyForcibly); // SIGKILL, no FFM linking
    }
}

package dev.gvshim.diagnose;

import dev.gvshim.failure.Failure;
import dev.gvshim.failure.GvshimException;
import dev.gvshim.linux.Errno;
import dev.gvshim.linux.Linux;
import dev.gvshim.linux.Spawner;
import dev.gvshim.linux.Step;
import dev.gvshim.linux.SyscallException;
import dev.gvshim.linux.Syscalls;
import dev.gvshim.runsc.RunscRelease;
import dev.gvshim.userns.Caller;
import dev.gvshim.userns.MappingPlan;
import dev.gvshim.userns.Mode;
import dev.gvshim.userns.NamespaceChild;
import dev.gvshim.userns.Planner;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The live half of `gvshim doctor`: does for real, step by step, in throwaway children, what
 * `gvshim run` and runsc are about to do: clone(CLONE_NEWUSER) through the native child
 * stage, the id maps of mode full (newuidmap/newgidmap) and, if that fails, of mode single;
 * then, inside the mapped namespace, native/gvshim_probe.c's namespaces, mounts, pivot_root,
 * ptrace and the nesting depth. No Java runs in any of these children.
 */
public final class LiveProbe {
    /** A step that was not tried because one before it failed. */
    public static final int NOT_RUN = -1;

    /**
     * One step: {@code errno} 0 when it worked, {@link #NOT_RUN} when it was not tried.
     *
     * @param failure the cause, as `gvshim run` would name it, when the step failed
     * @param value   for "nest": how many more user namespaces could be nested below the probe's
     * @param stop    for "nest": the errno that stopped the nesting (ENOSPC at the kernel's depth
     *                or at a user.max_user_namespaces count)
     * @param wide    for "nest", when it stopped early: how many user namespaces could be held side
     *                by side at the probe's level ({@link #NOT_RUN}: not measured). A depth limit
     *                allows more side by side than stacked, a count limit the same number.
     */
    public record Outcome(String step, int errno, String evidence, Failure failure, int value, int stop, int wide) {
        public Outcome(String step, int errno, String evidence, Failure failure, int value) {
            this(step, errno, evidence, failure, value, 0, NOT_RUN);
        }

        public boolean ok() {
            return errno == 0;
        }

        public boolean ran() {
            return errno != NOT_RUN;
        }
    }

    /** All outcomes in order; {@code mode} is the mode whose maps could be written, or null. */
    public record Result(List<Outcome> outcomes, Mode mode) {
        public Outcome find(String step) {
            return outcomes.stream().filter(o -> o.step().equals(step)).findFirst().orElse(null);
        }

        /**
         * As the sandbox of this runsc meets it: a runsc that binds the host's /proc instead of
         * mounting a fresh one ({@link RunscRelease#bindsProc}) is not stopped by a failed
         * mount-proc, so that step counts as passed, its evidence saying why. doctor and run's
         * failure analysis both read the probe through this.
         */
        public Result forRunsc(RunscRelease r) {
            if (!r.bindsProc()) {
                return this;
            }
            return new Result(outcomes.stream().map(o -> o.step().equals("mount-proc") && o.ran() && !o.ok()
                    ? new Outcome(o.step(), 0, o.evidence() + "; not needed: runsc (gVisor " + r.label() + ") binds the"
                            + " host's /proc instead", null, 0) : o).toList(), mode);
        }

        /** The first failure, in step order: the verdict's cause. */
        public Outcome firstFailure() {
            return outcomes.stream().filter(o -> o.ran() && !o.ok() && o.failure() != null)
                    .filter(o -> !o.step().equals("map-full") || mode == null).findFirst().orElse(null);
        }
    }

    private static final long TIMEOUT_MS = 15_000;

    private LiveProbe() {
    }

    /**
     * @param probe   libexec/gvshim-probe
     * @param scratch an empty directory the probe covers with a tmpfs in its own mount namespace
     */
    public static Result run(Syscalls sys, Facts facts, Explain explain, Path probe, Path scratch) {
        List<Outcome> out = new ArrayList<>();
        Caller host = facts.caller();
        MappingPlan full = null;
        try {
            full = Planner.plan(Mode.FULL, host);
        } catch (GvshimException e) {
            // not tried: the files already say why (the same reason `gvshim run --userns full` gives)
            out.add(new Outcome("map-full", NOT_RUN, e.failure().why(), e.failure(), 0));
        }
        MappingPlan single;
        try {
            single = Planner.plan(Mode.SINGLE, host);
        } catch (GvshimException e) {
            throw new IllegalStateException(e); // single is always possible on paper
        }
        Probe p = new Probe(sys, probe, List.of("gvshim-probe", scratch.toString()));
        Mode mode = null;
        for (MappingPlan plan : full == null ? List.of(single) : List.of(full, single)) {
            Attempt a;
            try {
                a = p.start();
            } catch (SyscallException e) {
                out.add(new Outcome("clone", e.errno(), e.callAndErrno(), explain.syscall(e.in(Step.CREATE_USERNS)), 0));
                return new Result(out, null);
            }
            if (out.stream().noneMatch(o -> o.step().equals("clone"))) {
                out.add(new Outcome("clone", 0, "clone(CLONE_NEWUSER): pid " + a.child().pid(), null, 0));
            }
            String step = plan.mode() == Mode.FULL ? "map-full" : "map-single";
            try {
                a.child().map(plan, host.newuidmap(), host.newgidmap());
            } catch (GvshimException m) {
                a.abandon();
                Failure f = explain.mapping(m.failure(), host);
                out.add(new Outcome(step, 1, f.evidence(), f, 0));
                continue;
            } catch (SyscallException e) {
                a.abandon();
                out.add(new Outcome(step, e.errno(), e.callAndErrno(), explain.syscall(e), 0));
                continue;
            }
            out.add(new Outcome(step, 0, (plan.viaHelpers() ? "newuidmap/newgidmap" : "direct writes") + ": uid_map "
                    + plan.uidMap() + ", gid_map " + plan.gidMap(), null, 0));
            mode = plan.mode();
            for (Outcome o : p.release(a, explain)) {
                out.add(o.step().equals("nest") ? p.measureWide(o) : o);
            }
            break;
        }
        return new Result(out, mode);
    }

    /** Levels below gvshim's namespace worth telling a depth limit from a count limit: the sandbox needs 1, 2 spare. */
    static final int NEST_ENOUGH = 3;

    /**
     * The live probe of an installation ({@code home}/libexec/gvshim-probe) in a scratch directory
     * of its own, with this process's system calls; null when the installation has no probe.
     */
    public static Result run(Facts facts, Explain explain, Path home, Map<String, String> env)
            throws IOException {
        Path probe = home == null ? null : home.resolve("libexec/gvshim-probe");
        if (probe == null || !Files.isExecutable(probe)) {
            return null;
        }
        Path scratch = scratchDir(env);
        try {
            return run(Syscalls.system(), facts, explain, probe, scratch);
        } finally {
            Files.deleteIfExists(scratch);
        }
    }

    /** An empty directory for the probe's tmpfs (which only its own mount namespace sees). */
    static Path scratchDir(Map<String, String> env) throws IOException {
        List<Path> candidates = new ArrayList<>();
        candidates.add(Path.of(System.getProperty("java.io.tmpdir", "/tmp")));
        if (env.get("XDG_RUNTIME_DIR") != null) {
            candidates.add(Path.of(env.get("XDG_RUNTIME_DIR")));
        }
        candidates.add(Path.of("/dev/shm"));
        IOException last = null;
        for (Path dir : candidates) {
            try {
                return Files.createTempDirectory(dir, "gvshim-doctor-");
            } catch (IOException e) {
                last = e;
            }
        }
        throw last;
    }

    /** One namespace child, waiting on its sync pipe to exec the probe, and the read end of its report. */
    private record Attempt(NamespaceChild child, int report, Syscalls sys) {
        void abandon() {
            sys.closeQuietly(report);
            child.abandon();
        }
    }

    /** gvshim-probe started, as often as the probe needs, in new user namespaces. */
    private record Probe(Syscalls sys, Path path, List<String> argv) {
        Attempt start() throws SyscallException {
            int[] rep;
            try {
                rep = sys.pipe2(Linux.O_CLOEXEC);
            } catch (SyscallException e) {
                throw e.in(Step.CREATE_USERNS);
            }
            try {
                NamespaceChild c = NamespaceChild.start(sys, new NamespaceChild.Program(path.toString(), argv,
                        List.of("PATH=/usr/bin:/bin"), -1, rep[1], rep[1], Spawner.PDEATHSIG), 0);
                sys.closeQuietly(rep[1]);
                return new Attempt(c, rep[0], sys);
            } catch (SyscallException e) {
                sys.closeQuietly(rep);
                throw e;
            }
        }

        /** Lets the child exec the probe and collects its report. */
        List<Outcome> release(Attempt a, Explain explain) {
            List<Outcome> out = new ArrayList<>();
            NamespaceChild child = a.child();
            Thread watchdog = Thread.ofVirtual().unstarted(() -> {
                try {
                    Thread.sleep(TIMEOUT_MS);
                    sys.kill(child.pid(), Linux.SIGKILL);
                } catch (InterruptedException | SyscallException e) {
                    // done in time, or gone
                }
            });
            try {
                child.release(Step.PROBE);
                watchdog.start();
                String text = new String(sys.readAll(a.report(), 64 * 1024), StandardCharsets.UTF_8);
                child.await();
                out.addAll(parse(text, explain));
            } catch (SyscallException e) {
                out.add(new Outcome("probe", e.errno(), e.callAndErrno(), Failure.of("PROBE_FAILED",
                        "cannot run the live probe", e.callAndErrno(), null, "reinstall gvshim (libexec/gvshim-probe)"), 0));
            } finally {
                watchdog.interrupt();
                a.abandon(); // kills and reaps it unless awaited
            }
            return out;
        }

        /**
         * When nesting stopped early with ENOSPC, the kernel's depth limit and a user.max_user_namespaces
         * count (of this namespace or one above, create_user_ns() then inc_ucount()) give the same
         * errno; holding namespaces side by side at the probe's level tells them apart: it adds no
         * depth, but the same count as nesting did (the probe's namespace and {@code value} below it).
         */
        Outcome measureWide(Outcome nest) {
            if (nest.value() >= NEST_ENOUGH || nest.stop() != Errno.ENOSPC) {
                return nest;
            }
            int want = nest.value() + 2;
            List<Attempt> held = new ArrayList<>();
            try {
                // The probe's own namespaces are freed by a kernel work item after it exits (put_user_ns()
                // schedules free_user_ns(), which returns the count): NamespaceChild.start gives that a
                // moment on ENOSPC before it gives up.
                while (held.size() < want) {
                    try {
                        held.add(start());
                    } catch (SyscallException e) {
                        break; // the count ran out (or depth: then even the first fails, as nesting did)
                    }
                }
            } finally {
                held.forEach(Attempt::abandon);
            }
            int wide = held.size();
            return new Outcome("nest", nest.errno(), nest.evidence() + "; " + wide + (wide == want ? " or more" : "")
                    + " side by side at the probe's level", null, nest.value(), nest.stop(), wide);
        }
    }

    /** gvshim-probe's report: "STEP ERRNO" per line, "nest ERRNO LEVELS" for the depth. */
    static List<Outcome> parse(String text, Explain explain) {
        List<Outcome> out = new ArrayList<>();
        for (String line : text.split("\n")) {
            String[] f = line.trim().split(" ");
            if (f.length < 2 || !f[1].matches("-?\\d+")) {
                continue;
            }
            int errno = Integer.parseInt(f[1]);
            if (f[0].equals("nest")) {
                int levels = f.length > 2 ? Integer.parseInt(f[2]) : 0;
                out.add(new Outcome("nest", 0, "clone(CLONE_NEWUSER) nested " + levels + " times below the probe's"
                        + " namespace, then " + (errno == 0 ? "stopped" : Errno.name(errno)), null, levels,
                        errno, NOT_RUN));
                continue;
            }
            Failure failure = errno > 0 ? explain.probeStep(f[0], errno) : null;
            out.add(new Outcome(f[0], errno, failure == null ? null : failure.evidence(), failure, 0));
        }
        return out;
    }
}

package dev.gvshim.diagnose;

import dev.gvshim.container.StateDir;
import dev.gvshim.linux.Spawner;
import dev.gvshim.linux.Step;
import dev.gvshim.linux.SyscallException;
import dev.gvshim.userns.IdMap;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * `gvshim doctor` for one caller: the facts read, the live probe run, the state directory that
 * `gvshim run` would use, and the report. {@link #error()} instead when doctor itself could not
 * look (no /proc, no scratch directory for the probe).
 */
public record Checkup(Doctor.Report report, String error) {
    /**
     * @param env         the caller's environment
     * @param home        the installation (the live probe's program), or null
     * @param runscOption --runsc as given, or null
     */
    public static Checkup run(Map<String, String> env, Path home, String runscOption) {
        Facts facts;
        try {
            facts = Facts.read(Path.of("/"), env, runscOption);
        } catch (IOException e) {
            return new Checkup(null, "cannot read /proc/self/status: " + IoError.reason(e) + " (is /proc mounted?)");
        }
        Explain explain = new Explain(facts);
        LiveProbe.Result live;
        try {
            live = LiveProbe.run(facts, explain, home, env);
        } catch (IOException e) {
            return new Checkup(null, "cannot create a scratch directory for the live probe in "
                    + System.getProperty("java.io.tmpdir", "/tmp") + ", $XDG_RUNTIME_DIR or /dev/shm: " + IoError.reason(e));
        }
        int uid = facts.status().euid();
        StateDir.Choice stateDir = StateDir.find(env, uid, IdMap.outer(facts.caller().ownUidMap(), uid));
        Doctor.Report r = Doctor.diagnose(facts, live, runscVersion(facts.runsc()), stateDir);
        List<Finding> all = new java.util.ArrayList<>(r.findings());
        all.add(limits(uid, dev.gvshim.container.Cgroups.Host.system()));
        all.add(network(facts, r, env.get("PATH")));
        return new Checkup(new Doctor.Report(r.verdict(), r.mode(), r.environment(), r.user(), List.copyOf(all), r.notFull()), null);
    }

    /**
     * Whether `gvshim run --memory` and `--cpus` can be applied for this caller: run's own
     * decision ({@link dev.gvshim.container.Cgroups#plan}), nothing created. Informational (ok
     * either way): a sandbox starts without limits; run refuses a limit it cannot apply.
     */
    static Finding limits(int uid, dev.gvshim.container.Cgroups.Host h) {
        String self = h.read("/proc/self/cgroup");
        String mountinfo = h.read("/proc/self/mountinfo");
        try {
            var plan = dev.gvshim.container.Cgroups.plan(new dev.gvshim.container.RunLimits(64L << 20, 0.01, null), "RUNID",
                    self == null ? "" : self, mountinfo == null ? "" : mountinfo, uid, h);
            return Finding.ok("LIMIT_NO_CGROUP", "sandbox", "run's --memory and --cpus can be applied here (a cgroup below"
                    + " yours), --pids-limit everywhere", plan.note().replace("limits: --memory 64m, --cpus 0.01 through the ",
                    "through the "));
        } catch (dev.gvshim.failure.GvshimException e) {
            return Finding.ok("LIMIT_NO_CGROUP", "sandbox", "run's --memory and --cpus cannot be applied here (run refuses"
                    + " them in one line); --pids-limit can (gVisor's own limit)", e.failure().why());
        }
    }

    /**
     * Which of run's network modes work for this caller: none and host always (where a sandbox
     * starts at all); sandbox when run's own check passes for the mode the sandbox would use.
     */
    static Finding network(Facts facts, Doctor.Report r, String pathEnv) {
        dev.gvshim.userns.MappingPlan plan;
        try {
            plan = dev.gvshim.userns.Planner.plan(r.mode() == dev.gvshim.userns.Mode.SINGLE ? dev.gvshim.userns.Mode.SINGLE
                    : dev.gvshim.userns.Mode.AUTO, facts.caller());
        } catch (dev.gvshim.failure.GvshimException e) {
            plan = null;
        }
        Finding nf = r.notFull(); // the live probe's reason outranks the planner's
        return SandboxNetwork.finding(plan == null
                ? SandboxNetwork.problem(facts.root(), pathEnv, true, nf == null ? null : nf.summary(), null, -1, -1)
                : SandboxNetwork.problem(facts.root(), pathEnv, plan, nf == null ? plan.notFull() : nf.summary(),
                        nf == null ? plan.fullFix() : nf.fix()));
    }

    /** runsc's first --version line ("runsc version 0.0~20221219.0"), or null. */
    static String runscVersion(Path runsc) {
        if (runsc == null) {
            return null;
        }
        try {
            Spawner.Completed c = Spawner.run(runsc.toString(), List.of("runsc", "--version"), List.of("LC_ALL=C"), Step.PROBE);
            String first = c.output().lines().findFirst().orElse("");
            return c.ok() ? first.replaceFirst("^runsc version ", "") : null;
        } catch (SyscallException e) {
            return null;
        }
    }
}

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
        return new Checkup(Doctor.diagnose(facts, live, runscVersion(facts.runsc()), stateDir), null);
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

package dev.gvshim.diagnose;

import dev.gvshim.container.RootChecks;
import dev.gvshim.container.StateDir;
import dev.gvshim.failure.Failure;
import dev.gvshim.runsc.RunscRelease;
import java.nio.file.Path;

/** Doctor's static checks of what the sandbox needs besides the kernel: runsc, and the state directory. */
final class SandboxChecks extends Checks {
    SandboxChecks(Facts facts, Explain explain, Findings findings) {
        super(facts, explain, findings);
    }

    void run(String runscVersion, StateDir.Choice stateDir) {
        if (facts.runsc() == null) {
            put(Finding.of(Explain.runscMissing(facts.runscGiven(), facts.pathEnv(), facts.root()), Finding.Status.FAIL, "sandbox"));
        } else {
            put(Finding.ok("RUNSC_MISSING", "sandbox", "runsc is installed" + (runscVersion == null ? "" : ": " + runscVersion),
                    facts.runsc().toString()));
            RunscRelease release = RunscRelease.parse(runscVersion);
            if (release.breaksStatx()) {
                put(Finding.warn("RUNSC_OUTDATED", "sandbox", "this runsc (gVisor " + release.label() + ") breaks common"
                        + " commands: with coreutils 9 (Debian 12, Ubuntu 24.04 images), `ls DIR`, `ls -l` and `stat` fail"
                        + " with \"Invalid argument\" in the sandbox (its statx refuses their flags)",
                        facts.runsc() + ": " + runscVersion.lines().findFirst().orElse("").strip(), "use a runsc from 2023"
                        + " or later, e.g. Debian 13's package (apt-get download runsc from trixie, then dpkg-deb -x) or"
                        + " gVisor's release binary, and pass it with --runsc PATH (or \"runsc\" in "
                        + "/etc/gvshim/config.json for the runtime)"));
            }
        }
        if (stateDir != null) { // the same choice gvshim run makes (StateDir.prepareDefault), without creating anything
            Failure p = stateDir.problem();
            if (p != null) {
                Path readOnly = RootChecks.readOnlyParent(p);
                put(Finding.fail(p.id(), "sandbox", p.what() + ": " + p.why(), p.evidence(),
                        readOnly != null ? explain.unwritableStateDirFix(readOnly) : p.fix()));
            } else {
                String ignored = stateDir.ignored().isEmpty() ? ""
                        : "; ignored, never used: " + String.join(", ", stateDir.ignored());
                put(Finding.ok("STATE_DIR_UNSAFE", "sandbox", (stateDir.dir() != null ? "the state directory is private to you"
                        : "the state directory will be created, private to you, by the first run") + ignored,
                        stateDir.dir() != null ? stateDir.dir().toString() : stateDir.planned()));
            }
        }
    }
}

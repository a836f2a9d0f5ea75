package dev.gvshim.diagnose;

import dev.gvshim.container.RootChecks;
import dev.gvshim.container.StateDir;
import dev.gvshim.failure.Failure;
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

package dev.gvshim.container;

import dev.gvshim.call.Launch;
import dev.gvshim.failure.GvshimException;
import dev.gvshim.runsc.RunscLogs;
import java.util.List;

/** `pause` and `resume`, with runc's refusals first, and the signals held while paused delivered at resume. */
public final class PauseResume {
    /** runc's text (libcontainer ErrNotPaused). */
    static final String NOT_PAUSED = "container not paused";

    private PauseResume() {
    }

    /**
     * `pause` of a running container. runc also freezes a created one; runsc 2022-12 panics on
     * it (its Go trace would be the error line), so a created container is "not running", as
     * runc says of one it cannot freeze.
     */
    public static int pause(RuntimeCall rc, String id) throws GvshimException {
        Container ct = rc.lookup.existing(id);
        Status recorded = rc.lookup.recorded(ct);
        if (recorded != null && recorded != Status.RUNNING) {
            throw RuntimeFailures.notRunning(id);
        }
        Launch.Ran r = rc.runsc(ct, List.of("pause", ct.runscId()));
        if (!r.ok()) {
            if ("stopped".equals(rc.lookup.status(ct))) {
                throw RuntimeFailures.notRunning(id);
            }
            throw Diagnosis.plain(rc, ct, "pause", r);
        }
        return 0;
    }

    /** `resume`, then the signals sent while it was paused ({@link Kill}). */
    public static int resume(RuntimeCall rc, String id) throws GvshimException {
        Container ct = rc.lookup.existing(id);
        Status recorded = rc.lookup.recorded(ct);
        if (recorded != null && !recorded.canResume()) {
            // runc's text; also a paused container whose sandbox is dead (runsc would try to reach it first)
            throw RuntimeFailures.state(NOT_PAUSED + ": " + id);
        }
        Launch.Ran r = rc.runsc(ct, List.of("resume", ct.runscId()));
        if (!r.ok()) {
            String status = rc.lookup.status(ct);
            if (status != null && !status.equals("paused")) {
                // runc's text (libcontainer ErrNotPaused); containerd resumes a paused container that has just
                // exited, and logs this
                throw RuntimeFailures.state(NOT_PAUSED + ": " + id);
            }
            throw Diagnosis.plain(rc, ct, "resume", r);
        }
        for (Containers.HeldSignal h : rc.store.takeHeldSignals(ct.id())) {
            Launch.Ran k = rc.runsc(ct, Kill.args(ct, h.signal(), h.all()));
            if (!k.ok()) {
                String why = RunscLogs.lastError(rc.callLog(id));
                rc.log.warning("signal " + h.signal() + ", sent to " + id + " while it was paused, could not be delivered at"
                        + " resume: " + ct.human(why.isEmpty() ? k.output() : why));
            }
        }
        return 0;
    }
}

package dev.gvshim.container;

import dev.gvshim.call.Launch;
import dev.gvshim.diagnose.IoError;
import dev.gvshim.failure.GvshimException;
import dev.gvshim.runsc.RunscCommand;
import java.io.IOException;
import java.nio.file.Files;
import java.util.List;

/** `start`: runsc start of a created container; a failed start is cleaned up (containerd never deletes it). */
public final class Start {
    private Start() {
    }

    public static int run(RuntimeCall rc, String id) throws GvshimException {
        Container ct = rc.lookup.existing(id);
        refuseUnlessCreated(rc, ct);
        boolean hide = Networks.hidesProcNet(ct.flags());
        if (hide) {
            checkOwnNetwork(rc, ct);
        }
        // a sub-container's start would hand runsc's stdio to it: relayed for as long as it lives
        Launch.Ran r = rc.runsc(ct, List.of("start", ct.runscId()), true, RunscCommand.Stdio.DETACH, hide, null, null);
        if (!r.ok()) {
            // containerd never deletes a task whose start failed: without this the sandbox leaks
            GvshimException e = Diagnosis.failure(rc, ct, "start");
            Delete.cleanup(rc, ct);
            throw e;
        }
        return 0;
    }

    /**
     * runc's refusal of a container that is not created, before runsc is asked: runsc's `start`
     * of a running container fails, and a failed start is cleaned up, which would destroy it.
     * From runsc's state file (no runsc call on the hot path); a container recorded running may
     * have stopped since, which only runsc can tell. A stopped one is cleaned up as a failed
     * start is: nothing else would remove it.
     */
    private static void refuseUnlessCreated(RuntimeCall rc, Container ct) throws GvshimException {
        Status s = rc.lookup.recorded(ct);
        if (s == Status.RUNNING) {
            Status now = Status.of(rc.lookup.status(ct));
            s = now == null ? s : now;
        }
        if (s == null || s.canStart()) {
            return; // no state: runsc start says what it finds
        }
        GvshimException e = RuntimeFailures.state(s.startRefusal());
        if (s == Status.STOPPED) {
            Delete.cleanup(rc, ct);
        }
        throw e;
    }

    /**
     * runsc's own "root network namespace" test is wrong on this kernel and gvshim hides it
     * (see {@link Networks}), so this is the real one: the sandbox's network namespace must not
     * be ours, or gVisor's netstack would take over the host's interfaces.
     */
    private static void checkOwnNetwork(RuntimeCall rc, Container ct) throws GvshimException {
        int pid = rc.store.sandboxPid(ct.runscId());
        if (pid <= 0) {
            return; // no sandbox yet: runsc start reports that itself
        }
        try {
            String sandbox = Files.readSymbolicLink(rc.store.proc().resolve(pid + "/ns/net")).toString();
            String ours = Files.readSymbolicLink(rc.store.proc().resolve("self/ns/net")).toString();
            if (sandbox.equals(ours)) {
                GvshimException e = RuntimeFailures.of("NETWORK_ROOT_NAMESPACE",
                        "cannot start container " + ct.id() + ": its sandbox is in this host's"
                        + " network namespace (" + ours + "), where gVisor's sandbox network would take over the host's"
                        + " interfaces; give the container a network namespace of its own, or use --network=host or"
                        + " --network=none");
                Delete.cleanup(rc, ct);
                throw e;
            }
        } catch (IOException e) {
            rc.log.debug("network namespace check of " + ct.id() + " skipped: " + IoError.reason(e));
        }
    }
}

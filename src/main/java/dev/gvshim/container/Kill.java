package dev.gvshim.container;

import dev.gvshim.call.Launch;
import dev.gvshim.diagnose.IoError;
import dev.gvshim.failure.GvshimException;
import dev.gvshim.runsc.RunscLogs;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/** `kill [--all] ID [SIGNAL]`, including what runsc cannot: a created container, a paused one. */
public final class Kill {
    private Kill() {
    }

    public static int run(RuntimeCall rc, String id, String signal, boolean all) throws GvshimException {
        String given = signal == null ? "SIGTERM" : signal;
        int sig = Signals.parse(given);
        boolean number = given.matches("-?\\d+");
        if (sig < 0 && number && !given.equals("0")) {
            throw RuntimeFailures.args("unable to signal init: invalid argument (signal " + given + "; 1 to " + Signals.MAX_STANDARD + ")"); // runc's text
        }
        if (sig < 0 && !number) {
            throw RuntimeFailures.args("unknown signal \"" + given + "\" (a number or a name: 9, KILL, SIGKILL)"); // runc's text
        }
        if (sig > Signals.MAX_STANDARD) {
            // runsc's kill knows only the standard signals ("unknown signal"), and gVisor drops real-time
            // signals sent from outside the sandbox (pkg/sighandling/sighandling.go)
            throw RuntimeFailures.of("SIGNAL_UNSUPPORTED", "cannot send signal " + sig + " to " + id + ": gVisor delivers only the standard"
                    + " signals 1 to " + Signals.MAX_STANDARD + " to a container, not real-time ones");
        }
        Container ct = rc.lookup.existing(id);
        if (sig < 0) {
            // signal 0: runc's liveness check of the container's init (kill(2) with 0 sends nothing)
            Status st = Status.of(rc.lookup.status(ct));
            if (st == Status.CREATED || st == Status.RUNNING || st == Status.PAUSED) {
                return 0;
            }
            if (all) {
                return 0; // runc: kill -a signals every process left, none here (runc 1.1.5's `kill -a ID 0` of a stopped one: 0)
            }
            throw RuntimeFailures.notRunning(id);
        }
        if (rc.lookup.addressable(ct) && rc.store.recordedStatus(ct.runscId()).equals("paused") && rc.lookup.sandboxAlive(ct)) {
            return killPaused(rc, ct, sig, all); // runsc would refuse: no need to ask it first
        }
        Launch.Ran r = rc.runsc(ct, args(ct, sig, all));
        if (r.ok()) {
            return 0;
        }
        String msg = ct.human(RunscLogs.lastError(rc.callLog(id)));
        String raw = rc.lookup.status(ct);
        Status status = Status.of(raw);
        if (status == Status.CREATED) {
            // runc can signal a created container (its init dies); runsc cannot, so end the sandbox itself
            if (killSandbox(rc, ct, "kill " + sig + " of created container " + id)) {
                return 0;
            }
            throw RuntimeFailures.notRunning(id);
        }
        if (status == Status.PAUSED) {
            return killPaused(rc, ct, sig, all);
        }
        if (raw == null || status == Status.STOPPED) {
            if (all) {
                return 0; // runc: signalling every process of a container that has none is done (kill -a)
            }
            throw RuntimeFailures.notRunning(id);
        }
        throw RuntimeFailures.runsc("cannot signal " + id + ": runsc: " + (msg.isEmpty() ? ct.human(r.output()) : msg));
    }

    static List<String> args(Container ct, int sig, boolean all) {
        List<String> args = new ArrayList<>(List.of("kill"));
        if (all) {
            args.add("--all");
        }
        args.addAll(List.of(ct.runscId(), Integer.toString(sig)));
        return args;
    }

    /**
     * A signal for a paused container, which runsc 2022-12 refuses ("cannot signal container
     * ... in state paused"). runc signals a frozen cgroup: SIGKILL ends its processes at once
     * (the kernel kills frozen tasks: cgroup-v2.rst, cgroup.freeze), other signals stay pending
     * until it is thawed. gvshim does the same: SIGKILL ends the sandbox (the container is its
     * root container: nothing in it runs again), other signals are held and sent at resume.
     * This is what Docker's `kill`, `rm -f` and `stop` of a paused container send.
     */
    private static int killPaused(RuntimeCall rc, Container ct, int sig, boolean all) throws GvshimException {
        if (sig == 0) {
            return 0; // kill(2)'s existence check: it exists
        }
        if (sig != Signals.parse("KILL")) {
            try {
                rc.store.holdSignal(ct.id(), new Containers.HeldSignal(sig, all));
            } catch (IOException e) {
                throw RuntimeFailures.stateIo(
                        "cannot signal " + ct.id() + ": it is paused, and its signal cannot be held for resume in "
                        + rc.store.dir(ct.id()) + ": " + IoError.reason(e, rc.store.dir(ct.id())));
            }
            rc.log.debug("signal " + sig + " for paused container " + ct.id() + " held until it is resumed");
            return 0;
        }
        Containers.Sandbox sb = rc.store.sandbox(ct.runscId());
        if (sb != null && sb.id().equals(ct.runscId())) {
            if (killSandbox(rc, ct, "SIGKILL of paused container " + ct.id())) {
                return 0;
            }
            throw RuntimeFailures.notRunning(ct.id());
        }
        // one of several containers of a pod's sandbox. runsc pauses the whole sandbox (all its containers'
        // tasks: runsc/boot Loader pause), and reports only this one paused: thaw it to kill this one. The
        // others stay running, as they would be under runc, where only this container's cgroup was frozen
        rc.log.debug("SIGKILL of paused container " + ct.id() + ", which shares sandbox " + (sb == null ? "?" : sb.id())
                + ": the sandbox is resumed to kill it");
        Launch.Ran r = rc.runsc(ct, List.of("resume", ct.runscId()));
        if (!r.ok()) {
            throw Diagnosis.plain(rc, ct, "kill", r);
        }
        Launch.Ran k = rc.runsc(ct, args(ct, sig, all));
        if (!k.ok()) {
            throw Diagnosis.plain(rc, ct, "kill", k);
        }
        return 0;
    }

    /** SIGKILL to the container's sandbox process, if it is still that process; whether it was sent. */
    static boolean killSandbox(RuntimeCall rc, Container ct, String why) {
        Containers.Sandbox sb = rc.store.sandbox(ct.runscId());
        if (sb == null || !rc.store.sandboxAlive(sb.pid(), sb.id())) {
            return false;
        }
        rc.log.debug(why + ": SIGKILL to its sandbox (pid " + sb.pid() + ")");
        return ProcessHandle.of(sb.pid()).map(ProcessHandle::destroyForcibly).orElse(false); // SIGKILL, no FFM linking
    }
}

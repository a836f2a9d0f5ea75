package dev.gvshim.container;

import dev.gvshim.call.Launch;
import dev.gvshim.failure.Failure;
import dev.gvshim.failure.GvshimException;
import dev.gvshim.runsc.RunscRelease;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** `checkpoint` and `restore`: gVisor checkpoints itself (runsc's own image format); CRIU's options are dropped. */
public final class Checkpoint {
    private Checkpoint() {
    }

    public static int checkpoint(RuntimeCall rc, String id, String imagePath, String workPath, boolean leaveRunning,
            List<String> droppedOpts) throws GvshimException {
        Container ct = rc.lookup.existing(id);
        if (leaveRunning) {
            checkLeaveRunning(id, RunscRelease.of(Path.of(ct.runsc()), rc.releaseCache(true)));
        }
        droppedOpts.forEach(o -> rc.log.debug("checkpoint " + o + ": no runsc equivalent; ignored"));
        List<String> args = new ArrayList<>(List.of("checkpoint",
                "--image-path=" + rc.call.absolute(imagePath == null ? "checkpoint" : imagePath)));
        if (workPath != null) {
            args.add("--work-path=" + rc.call.absolute(workPath));
        }
        if (leaveRunning) {
            args.add("--leave-running");
        }
        args.add(ct.runscId());
        Launch.Ran r = rc.runsc(ct, args, false, dev.gvshim.runsc.RunscCommand.Stdio.WAIT, false, null, null);
        if (!r.ok()) {
            throw Diagnosis.failure(rc, ct, "checkpoint");
        }
        if (!leaveRunning) {
            awaitStopped(rc, ct);
        }
        return 0;
    }

    /** How long {@link #awaitStopped} waits for the sandbox to end after its checkpoint. */
    static final long STOP_WAIT_MS = 120_000;

    /**
     * runc's checkpoint returns with the container stopped and its image written. runsc from 2024
     * returns while the sandbox still winds down (measured with runsc 0.0~20240729: `checkpoint`
     * back in ~0.1 s, `state` "running" for ~2 s more), so a `delete` or `restore` right after it
     * would meet a running container: wait for the sandbox's end (runsc 2022-12's is over by then).
     */
    static void awaitStopped(RuntimeCall rc, Container ct) {
        long deadline = System.nanoTime() + STOP_WAIT_MS * 1_000_000;
        while (rc.lookup.sandboxAlive(ct)) {
            if (System.nanoTime() > deadline) {
                rc.log.warning("checkpoint of " + ct.id() + ": its sandbox still runs " + STOP_WAIT_MS / 1000
                        + " s after runsc's checkpoint returned; `state` says when it has stopped");
                return;
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /**
     * runc's checkpoint --leave-running dumps the container and lets it run on. runsc before
     * release-20240415 destroys it instead, restores the image into a new sandbox with the same
     * id and waits in the foreground until that one exits, then deletes it (runsc/cmd/checkpoint.go):
     * to the caller a checkpoint that never returns and a container that is gone once it does.
     * Refused with such a runsc (and one whose release is unknown).
     */
    static void checkLeaveRunning(String id, RunscRelease r) throws GvshimException {
        if (r.resumesAfterCheckpoint()) {
            return;
        }
        throw RuntimeFailures.diagnosed(Failure.of("CHECKPOINT_LEAVE_RUNNING", "cannot checkpoint container " + id
                + " with --leave-running", null, "runsc " + r.label() + " does not leave it running: it destroys the container,"
                + " restores the checkpoint into a new sandbox and waits there until that exits (gVisor resumes in place from"
                + " release-20240415)", "checkpoint without --leave-running, then `restore` it from the same --image-path"));
    }

    public static int restore(RuntimeCall rc, Create.Args a, String imagePath, String workPath, boolean detach,
            List<String> droppedOpts) throws GvshimException {
        droppedOpts.forEach(o -> rc.log.debug("restore " + o + ": no runsc equivalent; ignored"));
        List<String> extra = new ArrayList<>(List.of("--image-path=" + rc.call.absolute(imagePath == null ? "checkpoint"
                : imagePath)));
        if (workPath != null) {
            extra.add("--work-path=" + rc.call.absolute(workPath));
        }
        if (detach) {
            extra.add("--detach");
        }
        return Create.createOrRun(rc, a, "restore", extra);
    }
}

package dev.gvshim.container;

import dev.gvshim.call.Launch;
import dev.gvshim.failure.GvshimException;
import java.util.ArrayList;
import java.util.List;

/** `checkpoint` and `restore`: gVisor checkpoints itself (runsc's own image format); CRIU's options are dropped. */
public final class Checkpoint {
    private Checkpoint() {
    }

    public static int checkpoint(RuntimeCall rc, String id, String imagePath, String workPath, boolean leaveRunning,
            List<String> droppedOpts) throws GvshimException {
        Container ct = rc.lookup.existing(id);
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
        return 0;
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

package dev.gvshim.runsc;

import dev.gvshim.failure.Failure;
import dev.gvshim.linux.Errno;

/** gvshim-nsexec's own failure ("STEP ERRNO" in its --error-file), in a user's words. */
public final class NsExecFailure {
    private NsExecFailure() {
    }

    /** The failure of container {@code id}'s runsc call that gvshim-nsexec could not prepare (a runc verb's: exit 1). */
    public static Failure failure(String id, String line) {
        int sp = line.lastIndexOf(' ');
        String step = sp > 0 ? line.substring(0, sp) : line;
        int errno;
        try {
            errno = Integer.parseInt(line.substring(sp + 1));
        } catch (NumberFormatException e) {
            errno = 0;
        }
        String what = "cannot run runsc for container " + id + ": " + step + " failed with " + Errno.name(errno);
        if (step.startsWith("open(userns)") || step.startsWith("setns")) {
            return Failure.runtime("USERNS_HOLDER_GONE", what + ": the container's user namespace is gone or not ours;"
                    + " delete it with `delete --force " + id + "` and create it again");
        }
        if (step.startsWith("mount(MS_BIND") || step.startsWith("read(nodev") || step.startsWith("open(/proc/self/mountinfo")) {
            return Failure.runtime("NODEV_MOUNT", what + ": gvshim gives runsc nodev copies of the root file system and"
                    + " bind mounts, so that no host"
                    + " device node in them can be opened from the sandbox (the spec's device rules); check that the"
                    + " root file system and every bind source exist");
        }
        if (step.startsWith("unshare") || step.startsWith("mount")) {
            return Failure.runtime("NAMESPACE_DENIED", what + ": gvshim runs runsc in a private mount namespace (to hide"
                    + " /proc/sys/net from runsc start, and"
                    + " for the nodev copies of the root file system and bind mounts), which needs CAP_SYS_ADMIN; run the"
                    + " runtime as root, or choose --network=none (runtimeArgs) so nothing is hidden");
        }
        if (step.startsWith("pipe2") || step.startsWith("posix_openpt") || step.startsWith("signalfd")
                || step.startsWith("fork")) {
            return Failure.runtime("STDIO_RELAY", what + ": gvshim gives runsc pipes (or a terminal) of its own in place of"
                    + " the caller's stdio and relays"
                    + " them, and could not make them; check the limits on open files and processes (ulimit -n, ulimit -u)");
        }
        return Failure.runtime("RUNSC_EXEC_FAILED", what);
    }
}

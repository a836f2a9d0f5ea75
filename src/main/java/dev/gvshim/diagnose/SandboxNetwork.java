package dev.gvshim.diagnose;

import dev.gvshim.failure.Failure;
import dev.gvshim.userns.IdMap;
import dev.gvshim.userns.MappingPlan;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * What `gvshim run --network sandbox` needs besides runsc, for `run` (which refuses in one line)
 * and `doctor` (which says which network modes work): gVisor's netstack takes over the
 * interfaces of the sandbox's network namespace, and without root the only way to give that
 * namespace a link to the outside is a user-mode network, slirp4netns, serving a tap device
 * (native/nsexec_net.c). So: full user-namespace mode (runsc --rootless, single mode, refuses a
 * sandbox network: runsc/cmd/run.go "sandbox network isn't supported with --rootless"),
 * slirp4netns installed, and /dev/net/tun openable by the user the namespace's root is on the
 * host (tun's open needs read and write on the node; udev makes it 0666, a minimal /dev may not).
 */
public final class SandboxNetwork {
    /** Where slirp4netns is looked for after $PATH (a setpriv --reset-env or sudo PATH may lack /usr/bin). */
    static final List<String> DIRS = List.of("/usr/local/bin", "/usr/bin", "/bin");

    private SandboxNetwork() {
    }

    /** slirp4netns under {@code root} ("/" on a host; a fixture in tests): $PATH first, then {@link #DIRS}; null if none. */
    public static Path slirp4netns(Path root, String pathEnv) {
        List<String> dirs = new ArrayList<>();
        if (pathEnv != null) {
            for (String d : pathEnv.split(":")) {
                if (d.startsWith("/")) {
                    dirs.add(d);
                }
            }
        }
        dirs.addAll(DIRS);
        for (String d : dirs) {
            Path p = root.resolve(d.substring(1)).resolve("slirp4netns");
            if (Files.isRegularFile(p) && Files.isExecutable(p)) {
                return Path.of(d, "slirp4netns");
            }
        }
        return null;
    }

    /** Why --network sandbox cannot work in a run with this user-namespace {@code plan}, or null when it can. */
    public static Failure problem(Path root, String pathEnv, MappingPlan plan, String notFull, String fullFix) {
        return problem(root, pathEnv, plan.runscRootless(), notFull, fullFix, rootOf(plan.uidMap()), rootOf(plan.gidMap()));
    }

    /** The host id the namespace's 0 is: the owner slirp4netns opens /dev/net/tun as. */
    private static long rootOf(IdMap m) {
        IdMap.Line l = m == null ? null : m.lineOf(0);
        return l == null ? -1 : l.outside();
    }

    /**
     * Why --network sandbox cannot work, or null when it can.
     *
     * @param single   the run's user-namespace mode is single (runsc --rootless)
     * @param notFull  why full mode is not used (null: unknown)
     * @param fullFix  what would make full mode possible (null: nothing known)
     * @param rootUid  the host uid the user namespace's root is (the caller's, in full mode)
     * @param rootGid  the host gid the user namespace's root group is
     */
    public static Failure problem(Path root, String pathEnv, boolean single, String notFull, String fullFix, long rootUid,
            long rootGid) {
        String what = "cannot use --network sandbox";
        if (single) {
            return Failure.of("NETWORK_SANDBOX_NEEDS_FULL", what, null,
                    "runsc --rootless (userns mode single" + (notFull == null ? "" : ": " + notFull)
                            + ") refuses gVisor's own network stack",
                    "use --network none or host" + (fullFix == null ? "" : ", or make full mode possible: " + fullFix));
        }
        if (slirp4netns(root, pathEnv) == null) {
            return Failure.of("NETWORK_SANDBOX_NO_SLIRP4NETNS", what, "slirp4netns not found in $PATH, " + String.join(", ", DIRS),
                    "the sandbox's network namespace reaches the outside through slirp4netns, a user-mode network",
                    "install it (Debian/Ubuntu: apt-get install slirp4netns; Fedora: dnf install slirp4netns), or use"
                            + " --network none or host");
        }
        return tunProblem(root, rootUid, rootGid);
    }

    private static Failure tunProblem(Path root, long uid, long gid) {
        Path tun = root.resolve("dev/net/tun");
        String what = "cannot use --network sandbox";
        int mode;
        long owner;
        long group;
        try {
            mode = (Integer) Files.getAttribute(tun, "unix:mode");
            owner = ((Number) Files.getAttribute(tun, "unix:uid")).longValue();
            group = ((Number) Files.getAttribute(tun, "unix:gid")).longValue();
        } catch (IOException | RuntimeException e) {
            return Failure.of("NETWORK_SANDBOX_NO_TUN", what, "/dev/net/tun: missing",
                    "slirp4netns needs a tap device, made through /dev/net/tun",
                    "load the tun module (modprobe tun), or in a container give it the device (docker run --device"
                            + " /dev/net/tun), or use --network none or host");
        }
        // open(O_RDWR) as that user: the owner's, group's or others' bits (capabilities of a user namespace do not
        // count on the host's device node: capable_wrt_inode_uidgid needs its owner mapped)
        int bits = owner == uid ? (mode >> 6) & 7 : group == gid ? (mode >> 3) & 7 : mode & 7;
        if ((bits & 6) == 6) {
            return null;
        }
        return Failure.of("NETWORK_SANDBOX_NO_TUN", what, String.format("/dev/net/tun: mode %04o, owner %d:%d; you are %d:%d",
                        mode & 07777, owner, group, uid, gid),
                "slirp4netns makes the sandbox's tap device through /dev/net/tun, which you cannot open",
                "chmod 0666 /dev/net/tun as root (udev's default; it gives no privilege: a tap device is made only in a"
                        + " network namespace the user administers), or use --network none or host");
    }

    /**
     * gvshim-nsexec could not give runsc its network (native/nsexec_net.c: STEP, and ENOENT when
     * slirp4netns could not be exec'd, ECHILD when it exited before tap0 was ready, ETIMEDOUT).
     */
    static Failure helperFailed(String step, int errno, String evidence) {
        String why = step.startsWith("unshare") ? "a network namespace for the sandbox was refused"
                : errno == dev.gvshim.linux.Errno.ENOENT ? "slirp4netns could not be started"
                : errno == dev.gvshim.linux.Errno.ETIMEDOUT ? "slirp4netns did not make the tap device within 10 s"
                : "slirp4netns exited before the sandbox's tap device was ready";
        return Failure.of("NETWORK_SANDBOX_HELPER", "cannot give the sandbox its network", evidence, why,
                "run with --debug and read slirp4netns.log in the run directory it keeps, or use --network none or host");
    }

    /** doctor's line: which of none, host and sandbox work for the caller. */
    static Finding finding(Failure sandbox) {
        if (sandbox == null) {
            return Finding.ok("NETWORK_MODES", "network", "network modes that work: none (default), sandbox"
                    + " (gVisor's netstack over slirp4netns), host (shares the host's interfaces)", "slirp4netns, /dev/net/tun");
        }
        return Finding.warn(sandbox.id(), "network", "network modes that work: none (default), host; not sandbox: "
                + sandbox.why(), sandbox.evidence(), sandbox.fix());
    }
}

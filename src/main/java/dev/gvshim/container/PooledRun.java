package dev.gvshim.container;

import dev.gvshim.call.Call;
import dev.gvshim.call.Handover;
import dev.gvshim.diagnose.IoError;
import dev.gvshim.failure.Failure;
import dev.gvshim.failure.GvshimException;
import dev.gvshim.linux.Linux;
import dev.gvshim.linux.SyscallException;
import dev.gvshim.oci.JsonTree;
import dev.gvshim.oci.Mount;
import dev.gvshim.oci.Spec;
import dev.gvshim.pool.PooledSandbox;
import dev.gvshim.pool.Profile;
import dev.gvshim.pool.Sandbox;
import dev.gvshim.pool.SandboxPool;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * `gvshim run --pool NAME`: the command runs in a ready sandbox of the server's pool NAME instead
 * of a new one. The server takes a sandbox (one whose profile is the run's, else the run is
 * refused), writes the command's process (the spec `gvshim run` would generate, its process
 * part) into the sandbox's run directory, and the client forks `runsc exec` into the sandbox's
 * user and mount namespaces (USERNS_SPAWN: PR_SET_PDEATHSIG, so it dies with the client) with
 * pipes for stdio, then becomes gvshim-waiter, as for a cold run: it relays stdio, forwards
 * signals (to the exec'd process: `runsc kill --pid`), enforces --timeout, and at the end
 * `runsc delete --force`s the sandbox and removes its run directory. The server destroys the
 * sandbox too once the client is gone, whichever way it ends. A sandbox serves one command.
 */
public final class PooledRun {
    /** How long a run waits for a ready sandbox when all are in use or booting. */
    static final long WAIT_MILLIS = 30_000;

    private PooledRun() {
    }

    public static void run(Call call, RunRequest req, SandboxPool pool) throws GvshimException {
        Handover handover = call.handover();
        if (!handover.forksIntoNamespaces()) {
            throw new GvshimException(Failure.of("POOL_NEEDS_SERVER", "cannot run in the pool " + pool.spec().name(), null,
                    "its sandboxes belong to a gvshim server, and this call is not served by one",
                    "run with GVSHIM_SERVER=on"));
        }
        if (req.tty() == RunRequest.Tty.ALWAYS) {
            throw new GvshimException(Failure.of("POOL_NO_TERMINAL", "cannot give the command a terminal in the pool "
                    + pool.spec().name(), null, "a pooled run relays stdio through pipes (a terminal in a pooled sandbox is not"
                    + " supported yet)", "use -t never (or -t auto), or run without --pool"));
        }
        Spec spec = commandSpec(call, req);
        String mounts = mountsDiffer(spec, pool.mountPoints(), pool.spec().name());
        if (mounts != null && pool.profile().differs(Profile.of(req), pool.spec().name()) == null) {
            throw new GvshimException(Failure.of("POOL_PROFILE_MISMATCH", "cannot run in the pool " + pool.spec().name(), null,
                    mounts, "run from a working directory outside /tmp, or give one with --cwd"));
        }
        Sandbox taken = pool.take(Profile.of(req), WAIT_MILLIS);
        PooledSandbox sb = (PooledSandbox) taken;
        boolean handedOver = false;
        int[] in = null;
        int[] out = null;
        int[] err = null;
        try {
            RunDir run = sb.run();
            Path process = run.dir().resolve("process.json");
            Path pidFile = run.dir().resolve("exec.pid");
            spec.process().terminal(false);
            Files.write(process, JsonTree.write(spec.process().json()));
            run.handTo(handover.taker());
            sb.handTo(handover.taker());
            in = Linux.pipe2(Linux.O_CLOEXEC);
            out = Linux.pipe2(Linux.O_CLOEXEC);
            err = Linux.pipe2(Linux.O_CLOEXEC);
            List<String> argv = new ArrayList<>();
            argv.add(sb.runsc().toString());
            for (String g : sb.globals()) {
                if (req.debug() || !g.startsWith("--debug-log=")) { // runsc's info lines of every exec: only asked for
                    argv.add(g);
                }
            }
            argv.addAll(List.of("exec", "--process=" + process, "--internal-pid-file=" + pidFile, run.id()));
            int pid = handover.spawnInto(new Handover.Spawn(argv.getFirst(), argv, UsernsChild.env(call), sb.userns(), sb.mntns(),
                    new int[] {in[0], out[1], err[1]}));
            call.trace().mark("runsc exec forked");
            Linux.closeQuietly(in[0], out[1], err[1]);
            in[0] = out[1] = err[1] = -1; // closed once: the number may be another thread's by the finally
            for (int fd : new int[] {in[1], out[0], err[0]}) {
                Linux.inheritable(fd);
            }
            handover.exec(waiter(call, req, sb, pid, pidFile, in[1], out[0], err[0]));
            handedOver = true;
        } catch (SyscallException e) {
            throw new GvshimException(Failure.of("POOL_RUN_FAILED", "cannot run in the pool " + pool.spec().name(),
                    e.callAndErrno(), "the command could not be started in a pooled sandbox", "run without --pool"));
        } catch (IOException e) {
            throw new GvshimException(Failure.of("RUN_DIR_WRITE", "cannot write the run directory " + sb.run().dir(), null,
                    IoError.withFile(e), "check free space in " + sb.run().dir().getParent()));
        } finally {
            if (in != null) {
                Linux.closeQuietly(in[0], in[1]);
            }
            if (out != null) {
                Linux.closeQuietly(out[0], out[1]);
            }
            if (err != null) {
                Linux.closeQuietly(err[0], err[1]);
            }
            if (!handedOver) {
                pool.discard(taken);
            }
        }
    }

    /**
     * Where the compared specs say the state directory is: the same for the pool and the run (a
     * pooled sandbox's is the server's, whatever the caller's would be), and under /tmp, so that
     * neither spec gets RunSpec's tmpfs over it. It was the caller's working directory, which made
     * every run from a directory other than the server's a mismatch (a tmpfs on the cwd).
     */
    static final Path COMPARED_STATE_DIR = Path.of("/tmp");

    /** The spec `gvshim run` would generate for this command (its process is what runs; its mounts are checked). */
    static Spec commandSpec(Call call, RunRequest req) throws GvshimException {
        long[] nofile = RunSpecTask.nofile();
        RunSpec.Context ctx = new RunSpec.Context(call.env(), call.cwd(), COMPARED_STATE_DIR, "/bin/true", List.of("true"), nofile[0],
                nofile[1]);
        return req.bundle() == null ? RunSpec.generate(req, ctx) : RunSpec.fromBundle(Bundle.load(req.bundle()), req.bundle(), req, ctx);
    }

    /** The mount points of the spec `gvshim run` generates for {@code req} in {@code call}'s context. */
    public static Set<String> mountPoints(Call call, RunRequest req) throws GvshimException {
        return points(commandSpec(call, req));
    }

    private static Set<String> points(Spec spec) {
        TreeSet<String> s = new TreeSet<>();
        for (Mount m : spec.mounts()) {
            s.add(m.destination());
        }
        return s;
    }

    /**
     * The working directory shapes a generated spec's mounts (/tmp, or the caller's tree under
     * it): null when this run's mount points are the pool's, else what differs.
     */
    static String mountsDiffer(Spec run, Set<String> have, String pool) {
        Set<String> want = points(run);
        if (have.isEmpty() || want.equals(have)) {
            return null;
        }
        TreeSet<String> extra = new TreeSet<>(want);
        extra.removeAll(have);
        TreeSet<String> missing = new TreeSet<>(have);
        missing.removeAll(want);
        return "the mounts differ from the pool " + pool + "'s: this run's sandbox would "
                + (extra.isEmpty() ? "" : "mount " + String.join(" ", extra) + (missing.isEmpty() ? "" : " and "))
                + (missing.isEmpty() ? "" : "not mount " + String.join(" ", missing))
                + " (a generated spec's mounts depend on the working directory: /tmp and what is under it)";
    }

    private static Handover.Exec waiter(Call call, RunRequest req, PooledSandbox sb, int child, Path pidFile, int stdin, int stdout,
            int stderr) {
        List<String> w = Waiter.argv(call, req, sb.run(), sb.runsc(), child);
        w.addAll(List.of("--stdin-fd", Integer.toString(stdin), "--stdout-fd", Integer.toString(stdout),
                "--stderr-fd", Integer.toString(stderr), "--signal-pid-file", pidFile.toString()));
        return Waiter.handover(call, w, List.of(stdin, stdout, stderr), child);
    }

}

package dev.gvshim.container;

import dev.gvshim.call.Call;
import dev.gvshim.diagnose.IoError;
import dev.gvshim.failure.Failure;
import dev.gvshim.failure.GvshimException;
import dev.gvshim.oci.Spec;
import dev.gvshim.userns.Mode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;

/**
 * `gvshim run -d [--name N] [--rm] -- CMD`: the runtime verbs' `create` and `start` on a spec
 * generated as `gvshim run` generates it, in the default runtime state directory, like
 * `runc run -d`: the call returns once the command runs, and the sandbox is held by what holds
 * any created container (runsc's sandbox and gofer in their own sessions, a rootless
 * container's {@link Holder}), its output relayed by gvshim-nsexec's background relay into
 * {@link Sandboxes#log} (never the caller's files). --rm: that relay, once the container's
 * stdio has closed (the sandbox ended), execs {@code gvshim rm --on-exit ID}.
 */
public final class Detach {
    private Detach() {
    }

    /** What to start: the run's request, the name asked for (null: generated), --rm. */
    public record Request(RunRequest run, String name, boolean rm) {
    }

    /** The runtime options of a detached sandbox's calls: the default root, the run's runsc, network and platform. */
    public static RuntimeOptions options(String runsc, String network, String platform, boolean debug) {
        return new RuntimeOptions(null, null, "text", debug, false, "auto", null, runsc, network, platform, List.of(),
                List.of(), null);
    }

    /** Starts the sandbox; its name. */
    public static String start(Call call, Request r) throws GvshimException {
        RunRequest req = r.run();
        if (req.userns() == Mode.SINGLE) {
            throw new GvshimException(Failure.of("DETACH_NEEDS_FULL", "cannot start a detached sandbox with --userns single",
                    null, "a sandbox that outlives `gvshim run -d` needs a user namespace of its own with your subordinate ids"
                            + " (as the runtime verbs' create does)", "drop --userns single"));
        }
        if (req.network() == dev.gvshim.runsc.RunscConfig.Network.SANDBOX) {
            // the foreground's slirp4netns lives and dies with its runsc run (native/nsexec_net.c); a detached sandbox
            // outlives every gvshim process, and its namespace is the holder's (loopback only): runsc would take over
            // just lo, a silent "no network", or as root the host's own namespace
            throw new GvshimException(Failure.of("NETWORK_SANDBOX_DETACHED", "cannot start a detached sandbox with"
                    + " --network sandbox", null, "its user-mode network (slirp4netns) is tied to a foreground run's runsc,"
                    + " which a detached sandbox outlives", "run it in the foreground (without -d), or use --network none"
                    + " or host"));
        }
        try (RuntimeCall rc = new RuntimeCall(call, options(req.runsc(), req.network().flag(), req.platform(), req.debug()))) {
            Sandboxes sb = new Sandboxes(rc.root());
            String id = Sandboxes.newId();
            String name;
            try {
                RootChecks.makeRuntimeRoot(rc.root(), rc.euid);
                sb.prepare();
                name = sb.reserve(r.name(), id);
            } catch (IOException e) {
                throw stateIo(sb, e);
            }
            boolean created = false;
            boolean started = false;
            try {
                Path bundle = sb.bundle(id);
                Files.createDirectories(bundle);
                Files.write(bundle.resolve("config.json"), spec(call, req, rc).toJson());
                sb.save(new Sandboxes.Record(id, name, req.command(), Instant.now().truncatedTo(ChronoUnit.SECONDS).toString(),
                        r.rm()));
                Path then = null;
                if (r.rm()) {
                    then = sb.then(id);
                    Files.write(then, String.join("\0", call.gvshim().toString(), "rm", "--on-exit", id)
                            .getBytes(StandardCharsets.UTF_8));
                }
                rc.detachedOutput(sb.log(id), then);
                Create.create(rc, new Create.Args(id, bundle.toString(), null, null, false, false, null, null));
                created = true;
                // start's runsc: stdio of its own too (its error text goes to the log, never the caller's terminal); no
                // --then: its relay ends with it
                rc.detachedOutput(sb.log(id), null);
                Start.run(rc, id);
                started = true;
                return name;
            } catch (IOException e) {
                throw stateIo(sb, e);
            } finally {
                if (!started) {
                    if (created) {
                        try {
                            Delete.run(rc, id, true);
                        } catch (GvshimException e) {
                            // the failure that brought us here is the one to report
                        }
                    }
                    sb.remove(id, name);
                }
            }
        }
    }

    private static GvshimException stateIo(Sandboxes sb, IOException e) {
        return new GvshimException(Failure.of("SANDBOX_STATE_IO", "cannot write the state of a detached sandbox in " + sb.dir(),
                null, IoError.withFile(e), "check free space and permissions of " + sb.dir()));
    }

    /**
     * `gvshim run`'s generated spec, without its poststart hook (it tells a foreground run's
     * waiter that the command started: nobody waits here), and without a terminal: a detached
     * sandbox's output goes to its log.
     */
    static Spec spec(Call call, RunRequest req, RuntimeCall rc) {
        long[] nofile = RunSpecTask.nofile();
        // what the sandbox must not see: the state directory with other sandboxes' specs and logs
        Path state = rc.rootless ? rc.root().getParent() : rc.root();
        RunSpec.Context ctx = new RunSpec.Context(call.env(), call.cwd(), state, "/bin/true", List.of("true"), nofile[0],
                nofile[1]);
        Spec s = RunSpec.generate(req, ctx);
        s.json().remove("hooks");
        // moot under gVisor (its own /proc and /sys) and said so on stderr by create: a detached run prints its name only
        s.linux().json().remove("maskedPaths");
        s.linux().json().remove("readonlyPaths");
        s.process().terminal(false);
        return s;
    }
}

package dev.gvshim.container;

import dev.gvshim.call.Launch;
import dev.gvshim.diagnose.Explain;
import dev.gvshim.diagnose.Facts;
import dev.gvshim.failure.Failure;
import dev.gvshim.failure.GvshimException;
import dev.gvshim.oci.SpecTypes;
import dev.gvshim.runsc.RunscLogs;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** A runc verb's runsc call failed: the one line that says why, in the caller's ids. */
final class Diagnosis {
    private Diagnosis() {
    }

    /** runsc failed at {@code verb}: the diagnosis engine's one line (cause and fix). */
    static GvshimException failure(RuntimeCall rc, Container ct, String verb) {
        String raw = ct.human(RunscLogs.lastError(rc.callLog(ct.id())));
        String msg = RunscLogs.oneLine(raw);
        // this call's errors only: the debug logs keep every earlier call's too
        List<String> fatal = new ArrayList<>(RunscLogs.newFatalLines(rc.store.debugLogs(ct.id())).stream()
                .map(ct::human).toList());
        fatal.remove(msg);
        if (!msg.isEmpty() && rc.log.toFile()) {
            // runsc's own words, for the record in --log; on a terminal the failure's line below says them once
            rc.log.warning("runsc " + verb + ": " + msg);
        }
        String spec = SpecTypes.fromGoError(msg);
        if (spec != null) {
            // a field gvshim's own check does not know: runsc's Go error, as a field and its type (the bundle's loader's id)
            return RuntimeFailures.diagnosed(Bundle.invalid(ct.bundle().resolve("config.json"), spec));
        }
        Failure f = Explain.hook(raw); // its lines: the hook's stderr is the last
        try {
            Explain explain = new Explain(() -> {
                try {
                    return Facts.read(Path.of("/"), rc.call.env(), ct.runsc());
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            f = f != null ? f : explain.runsc(msg, fatal);
        } catch (RuntimeException e) {
            f = Failure.of("RUNSC_FAILED", "cannot " + verb + " the gVisor sandbox", "runsc: " + msg, null, null);
        }
        String what = f.what().replace("cannot start the gVisor sandbox", "cannot " + verb + " container " + ct.id());
        return RuntimeFailures.diagnosed(new Failure(f.id(), what, f.evidence(), f.why(), runtimeFix(f), f.exitCode()));
    }

    /** The diagnosis engine speaks to `gvshim run` users; a runtime's user fixes things elsewhere. */
    static String runtimeFix(Failure f) {
        return switch (f.id()) {
            case "COMMAND_NOT_FOUND", "COMMAND_NOT_EXECUTABLE" ->
                "check the container's command and its image (process.args and root in config.json)";
            case "NETWORK_SANDBOX_UNSUPPORTED" -> "add \"runtimeArgs\": [\"--network=none\"] to this runtime in "
                    + "/etc/docker/daemon.json (or the containerd runtime's options), or set \"network\": \"none\" in "
                    + RuntimeConfig.DEFAULT_FILE;
            default -> f.fix();
        };
    }

    /** runsc's own words for a verb that needs no diagnosis (runc's sentinel where runsc says the container is gone). */
    static GvshimException plain(RuntimeCall rc, Container ct, String verb, Launch.Ran r) {
        String msg = RunscLogs.lastError(rc.callLog(ct.id()));
        String text = ct.human(RunscLogs.oneLine(msg.isEmpty() ? r.output().strip() : msg));
        if (text.contains("does not exist")) {
            return RuntimeFailures.notFound(ct.id());
        }
        return RuntimeFailures.runsc("cannot " + verb + " " + ct.id() + ": runsc: " + text);
    }
}

package dev.gvshim.container;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gvshim.call.Call;
import dev.gvshim.call.Handover;
import dev.gvshim.oci.JsonTree;
import dev.gvshim.userns.MappingPlan;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * What `gvshim run` hands over to gvshim-waiter (native/gvshim_waiter.c): it relays stdio,
 * forwards signals, enforces --timeout, reaps runsc, has `gvshim __explain` say why runsc
 * failed, and removes the run directory.
 */
final class Waiter {
    private Waiter() {
    }

    /** The hand-over: gvshim-waiter with the run's descriptors, taking over {@code child} (runsc). */
    static Handover.Exec exec(Call call, RunRequest req, RunDir run, Path runsc, int child, RunStdio fds) {
        List<String> w = argv(call, req, run, runsc, child);
        w.addAll(List.of("--stderr-fd", Integer.toString(fds.waiterErr), "--started-fd", Integer.toString(fds.started)));
        if (fds.console >= 0) {
            w.addAll(List.of("--console-fd", Integer.toString(fds.console)));
        } else {
            w.addAll(List.of("--stdin-fd", Integer.toString(fds.waiterIn), "--stdout-fd", Integer.toString(fds.waiterOut)));
        }
        return handover(call, w, fds.waiterFds(), child);
    }

    /**
     * gvshim-waiter's options every run has (a pooled one too): its child runsc and how to call
     * it, the run directory, --kill-after, --timeout, --debug and the `__explain` to exec.
     */
    static List<String> argv(Call call, RunRequest req, RunDir run, Path runsc, int child) {
        List<String> w = new ArrayList<>(List.of("gvshim-waiter", "--child", Integer.toString(child),
                "--runsc", runsc.toString(), "--runsc-global", "--root=" + run.runscRoot(),
                "--id", run.id(), "--run-dir", run.dir().toString(), "--log", run.runscLog().toString(),
                "--kill-after", Double.toString(req.killAfter()), "--explain", call.gvshim().toString()));
        if (req.timeout() != null) {
            w.addAll(List.of("--timeout", Double.toString(req.timeout())));
        }
        if (req.debug()) {
            w.add("--debug");
        }
        return w;
    }

    /** gvshim-waiter with {@code argv} in the call's environment, given {@code fds}, taking over {@code child}. */
    static Handover.Exec handover(Call call, List<String> argv, List<Integer> fds, int child) {
        List<String> envp = new ArrayList<>();
        call.env().forEach((k, v) -> envp.add(k + "=" + v));
        return new Handover.Exec(call.libexec("gvshim-waiter").toString(), argv, envp, null, fds, child);
    }

    /** What `gvshim __explain` needs to know about this run if runsc fails. */
    static void writeMeta(RunDir run, RunRequest req, MappingPlan plan, Path runsc) throws IOException {
        ObjectNode m = JsonTree.nodes().objectNode();
        m.put("mode", plan.mode().label());
        m.put("notFull", plan.notFull());
        m.put("network", req.network().flag());
        m.put("runsc", runsc.toString());
        m.put("fallback", req.fallbackUnsandboxed());
        m.put("debug", req.debug());
        Files.write(run.meta(), JsonTree.write(m));
    }
}

package dev.gvshim.diagnose;

import dev.gvshim.failure.Failure;
import dev.gvshim.userns.Mode;
import java.util.List;

/**
 * The live probe's outcomes laid over the static findings: what was tried for real outranks
 * what a file suggests, and a cause found live is placed where `gvshim run` would meet it.
 */
final class LiveFindings extends Checks {
    /** User-namespace levels the sandbox needs below gvshim's own: runsc's (measured: depth 31 works, 32 fails). */
    static final int LEVELS_BELOW_GVSHIM = 1;
    /** The kernel allows 32 nested user namespaces below the initial one (create_user_ns). */
    static final int MAX_DEPTH = 32;

    LiveFindings(Facts facts, Explain explain, Findings findings) {
        super(facts, explain, findings);
    }

    void run(LiveProbe.Result live) {
        for (LiveProbe.Outcome o : live.outcomes()) {
            if (o.ran() && !o.ok() && o.failure() != null && !findings.positioned(o.failure().id())) {
                findings.position(o.failure().id(), Doctor.RUN_ORDER.indexOf(o.step()));
            }
            switch (o.step()) {
                case "clone" -> {
                    if (o.ok()) {
                        Finding s = findings.get("USERNS_SECCOMP");
                        if (s != null && s.status() == Finding.Status.WARN) {
                            override(Finding.ok("USERNS_SECCOMP", "process", "a seccomp filter is active, but it allows"
                                    + " what was probed live (see the steps below)", s.evidence()));
                        }
                        for (String id : List.of("USERNS_APPARMOR", "USERNS_SELINUX")) {
                            Finding f = findings.get(id);
                            if (f != null && f.status() == Finding.Status.WARN) {
                                override(Finding.ok(id, f.group(), f.summary() + "; creating a user namespace worked live",
                                        f.evidence()));
                            }
                        }
                    } else {
                        override(Finding.of(o.failure(), Finding.Status.FAIL, "kernel"));
                    }
                }
                case "map-full" -> {
                    if (!o.ran()) {
                        // not tried: the static findings already say why (SUBUID_MISSING, NEWUIDMAP_UNPRIVILEGED, ...)
                        continue;
                    }
                    if (o.ok()) {
                        put(Finding.ok("IDMAP_FULL", "id mapping", "mode full works: the maps were written live", o.evidence()));
                    } else if (o.failure() != null) {
                        Finding.Status s = live.mode() == Mode.SINGLE ? Finding.Status.WARN : Finding.Status.FAIL;
                        Finding f = Finding.of(o.failure(), s, "id mapping");
                        override(new Finding(f.id(), s, f.group(), "mode full failed live: " + f.summary()
                                + (s == Finding.Status.WARN ? " (mode single works)" : ""), f.evidence(), f.fix()));
                    }
                }
                case "map-single" -> {
                    if (o.ok()) {
                        put(Finding.ok("IDMAP_SINGLE", "id mapping", "mode single works: your id mapped to root, written live",
                                o.evidence()));
                    } else {
                        override(Finding.of(o.failure(), Finding.Status.FAIL, "id mapping"));
                    }
                }
                case "nest" -> nesting(o);
                default -> {
                    if (o.ran() && !o.ok() && o.failure() != null) {
                        Finding.Status s = o.failure().id().equals("SYSFS_MASKED") ? Finding.Status.WARN : Finding.Status.FAIL;
                        Finding had = findings.get(o.failure().id());
                        if (had == null || had.status() != Finding.Status.FAIL || !live.outcomes().subList(0, live.outcomes()
                                .indexOf(o)).stream().anyMatch(p -> p.failure() != null && p.failure().id().equals(o.failure().id()))) {
                            override(Finding.of(o.failure(), s, "sandbox")); // the first step that failed for a cause tells it
                        }
                    } else if (o.ok()) {
                        passed(o);
                    }
                }
            }
        }
    }

    private void passed(LiveProbe.Outcome o) {
        switch (o.step()) {
            case "unshare-uts" -> {
                if (!findings.has("NAMESPACE_DENIED")) { // one that failed is listed already
                    put(Finding.ok("NAMESPACE_DENIED", "sandbox", "mount, pid, network, ipc and uts namespaces can be created"
                            + " inside the user namespace (live)", "clone(CLONE_NEWNS|NEWPID|NEWNET|NEWIPC|NEWUTS): ok"));
                }
            }
            case "mount-tmpfs" -> {
                Finding f = findings.get("MOUNT_DENIED");
                if (f == null || f.status() != Finding.Status.FAIL) {
                    override(Finding.ok("MOUNT_DENIED", "process", "mounting inside the new namespaces works (live)",
                            "mount(\"tmpfs\"): ok"));
                }
            }
            case "mount-proc" -> override(o.evidence() != null && o.evidence().contains("binds the host's /proc")
                    ? Finding.ok("PROC_MASKED", "process", "a fresh /proc cannot be mounted here (live), but this runsc binds"
                            + " the host's /proc instead: it does not need one", o.evidence())
                    : Finding.ok("PROC_MASKED", "process", "a fresh /proc mounts (live)", "mount(\"proc\"): ok"));
            case "pivot-root" -> override(Finding.ok("PIVOT_ROOT_DENIED", "process", "pivot_root works (live)", "pivot_root: ok"));
            case "ptrace" -> override(Finding.ok("PTRACE_DENIED", "kernel", "ptrace attach to a child works (live)",
                    "ptrace(PTRACE_ATTACH): ok"));
            default -> {
                // unshare and sysfs successes need no finding of their own
            }
        }
    }

    private void nesting(LiveProbe.Outcome o) {
        int below = o.value(); // levels below the probe's namespace, which is the one gvshim would create
        String ev = o.evidence();
        if (below < LEVELS_BELOW_GVSHIM) {
            Failure f = explain.namespacesUsedUp(ev, below, o.wide());
            override(new Finding(f.id(), Finding.Status.FAIL, "kernel", f.what() + ": " + f.why(), ev, f.fix()));
            findings.position(f.id(), Doctor.RUN_ORDER.indexOf("nest"));
            if (!f.id().equals("USERNS_NESTING")) {
                override(Finding.ok("USERNS_NESTING", "kernel", "not the nesting depth: " + o.wide() + " namespaces fit side by"
                        + " side where nesting stopped after " + (below + 1), ev));
            }
        } else if (below < LiveProbe.NEST_ENOUGH) {
            Failure f = explain.namespacesUsedUp(ev, below, o.wide());
            override(Finding.warn(f.id(), "kernel", "only " + (below + 1) + " more user namespace" + (below == 0 ? "" : "s")
                    + " can be created below this one, and each sandbox needs 2: " + f.why(), ev, f.fix()));
        } else {
            // measured: at depth x, MAX_DEPTH + 1 - x more levels can be created; the probe sits at depth + 1
            int depth = Math.max(0, MAX_DEPTH - below);
            override(Finding.ok("USERNS_NESTING", "kernel", (facts.initialUserNs() ? "gvshim runs in the initial user namespace"
                    : "gvshim runs inside a user namespace, at depth " + depth + " of " + MAX_DEPTH) + "; " + (below + 1)
                    + " levels are left below it", ev));
        }
    }
}

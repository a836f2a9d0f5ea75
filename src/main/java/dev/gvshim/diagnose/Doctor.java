package dev.gvshim.diagnose;

import dev.gvshim.container.StateDir;
import dev.gvshim.failure.Exit;
import dev.gvshim.failure.Failure;
import dev.gvshim.failure.GvshimException;
import dev.gvshim.linux.Errno;
import dev.gvshim.runsc.RunscRelease;
import dev.gvshim.userns.Mode;
import dev.gvshim.userns.Planner;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The diagnosis engine behind `gvshim doctor`: every static check as a {@link Finding} (by group:
 * {@link KernelChecks}, {@link ProcessChecks}, {@link IdMappingChecks}, {@link SandboxChecks}),
 * then the live probe's outcomes laid over them ({@link LiveFindings}: what was tried for real
 * outranks what a file suggests), then the verdict: can a sandbox start here, and in which mode.
 */
public final class Doctor {
    /** ok: a sandbox can start; fail: it cannot; untested: nothing tested failed, but not everything was tested. */
    public enum Verdict {
        OK, FAIL, UNTESTED;

        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /**
     * The result: the verdict, the mode a sandbox would use, every finding, and why mode full is
     * not available ({@code notFull}: the cause `gvshim run --userns full` names, or null).
     */
    public record Report(Verdict verdict, Mode mode, Environment environment, String user, List<Finding> findings,
            Finding notFull) {
        public boolean ok() {
            return verdict == Verdict.OK;
        }

        public List<Finding> failures() {
            return findings.stream().filter(f -> f.status() == Finding.Status.FAIL).toList();
        }

        public List<Finding> warnings() {
            return findings.stream().filter(f -> f.status() == Finding.Status.WARN).toList();
        }

        public List<Finding> untested() {
            return findings.stream().filter(f -> f.status() == Finding.Status.NOT_TESTED).toList();
        }

        /** The cause `gvshim run` names when the verdict is fail: the first failing check in run's order. */
        public String cause() {
            return failures().isEmpty() ? null : failures().getFirst().id();
        }

        /** "19 ok, 1 warning, 2 failed, 3 not tested": what the verdict rests on. */
        public String counts() {
            long ok = findings.stream().filter(f -> f.status() == Finding.Status.OK).count();
            int w = warnings().size();
            int u = untested().size();
            return ok + " ok, " + w + " warning" + (w == 1 ? "" : "s") + ", " + failures().size() + " failed, " + u
                    + " not tested";
        }

        public String headline() {
            return switch (verdict) {
                case OK -> {
                    int w = warnings().size();
                    yield "rootless gVisor works here, mode " + mode.label()
                            + (w == 0 ? "" : " (" + w + " warning" + (w == 1 ? "" : "s") + " below)");
                }
                case FAIL -> "rootless gVisor can't start here, because " + failures().getFirst().summary();
                case UNTESTED -> "doctor could not test everything: nothing that was tested failed, but " + untested().size()
                        + " check" + (untested().size() == 1 ? " was" : "s were") + " not tested ("
                        + untested().getFirst().evidence() + ")";
            };
        }
    }

    private final Facts facts;
    private final Explain explain;
    private final Findings findings = new Findings();

    /**
     * `gvshim run`'s order (launch/Launcher.java, then runsc's): runsc located, state directory,
     * clone, the maps, then inside the namespace what runsc does in the probe's step order. The
     * first failing check in this order is the one run stops at, so it is doctor's verdict.
     */
    static final List<String> RUN_ORDER = List.of("runsc", "state", "clone", "map-full", "map-single", "unshare-mnt",
            "unshare-pid", "unshare-net", "unshare-ipc", "unshare-uts", "mount-private", "mount-tmpfs", "mount-proc",
            "mount-sysfs", "pivot-root", "umount-old", "ptrace", "nest");

    /** The step whose failure a static finding of this id predicts (where it would stop run). */
    private static String staticStep(String id) {
        return switch (id) {
            case "RUNSC_MISSING" -> "runsc";
            case "STATE_DIR_UNSAFE" -> "state";
            case "PROC_MASKED" -> "mount-proc";
            case "PTRACE_DENIED" -> "ptrace";
            case "MOUNT_DENIED" -> "mount-tmpfs";
            case "PIVOT_ROOT_DENIED" -> "pivot-root";
            case "USERNS_NESTING" -> "nest";
            default -> id.startsWith("USERNS_") ? "clone" : "map-single";
        };
    }

    /** Checks only the live probe tests, and the steps that test them. */
    private static final Map<String, List<String>> LIVE_CHECKS = Map.of(
            "NAMESPACE_DENIED", List.of("unshare-mnt", "unshare-pid", "unshare-net", "unshare-ipc", "unshare-uts"),
            "MOUNT_DENIED", List.of("mount-private", "mount-tmpfs", "umount-old"),
            "PROC_MASKED", List.of("mount-proc"),
            "PIVOT_ROOT_DENIED", List.of("pivot-root"),
            "PTRACE_DENIED", List.of("ptrace"),
            "USERNS_NESTING", List.of("nest"),
            "IDMAP_FULL", List.of("map-full", "map-single"));

    private Doctor(Facts facts) {
        this.facts = facts;
        this.explain = new Explain(facts);
    }

    /**
     * @param live         the live probe's result, or null when it could not run (then nothing it tests is tested)
     * @param runscVersion runsc's first --version line, or null
     * @param stateDir     where `gvshim run` would keep its state ({@link StateDir#find}), or null
     */
    public static Report diagnose(Facts facts, LiveProbe.Result probed, String runscVersion, StateDir.Choice stateDir) {
        Doctor d = new Doctor(facts);
        // what stops a sandbox depends on the runsc that starts it (a masked /proc stops runsc < 2024-03)
        RunscRelease release = RunscRelease.parse(runscVersion);
        LiveProbe.Result live = probed == null ? null : probed.forRunsc(release);
        new KernelChecks(facts, d.explain, d.findings).run();
        new ProcessChecks(facts, d.explain, d.findings).run(release);
        new IdMappingChecks(facts, d.explain, d.findings).run();
        new SandboxChecks(facts, d.explain, d.findings).run(runscVersion, stateDir);
        String untestedWhy;
        if (live != null) {
            new LiveFindings(facts, d.explain, d.findings).run(live);
            untestedWhy = stopped(live);
        } else {
            untestedWhy = "the live probe did not run: this installation has no libexec/gvshim-probe";
        }
        d.untested(live, untestedWhy);
        List<Finding> all = d.findings.all();
        // failures first, in the order `gvshim run` meets them; then the rest in check order
        List<Finding> sorted = new ArrayList<>();
        all.stream().filter(f -> f.status() == Finding.Status.FAIL)
                .sorted(Comparator.comparingInt(f -> d.findings.positionOf(f.id(),
                        RUN_ORDER.indexOf(staticStep(f.id()))))).forEach(sorted::add);
        all.stream().filter(f -> f.status() != Finding.Status.FAIL).forEach(sorted::add);
        if (!sorted.isEmpty() && sorted.getFirst().status() == Finding.Status.FAIL) {
            sorted.set(0, d.complete(sorted.getFirst(), sorted));
        }
        Verdict verdict = sorted.stream().anyMatch(f -> f.status() == Finding.Status.FAIL) ? Verdict.FAIL
                : sorted.stream().anyMatch(f -> f.status() == Finding.Status.NOT_TESTED) ? Verdict.UNTESTED : Verdict.OK;
        Mode mode = verdict == Verdict.FAIL ? null : live == null ? plannedMode(facts) : live.mode();
        if (verdict != Verdict.FAIL && live != null && mode == null) { // no map was written, yet no step says why
            sorted.addFirst(Finding.fail("LIVE_PROBE", "sandbox", "the live probe wrote no id map and reported no cause",
                    String.valueOf(live.outcomes()), "run gvshim doctor --json and report the output"));
            verdict = Verdict.FAIL;
        }
        return new Report(verdict, verdict == Verdict.FAIL ? null : mode, facts.env(), facts.caller().userName(),
                List.copyOf(sorted), d.notFull(live));
    }

    /**
     * The first failure's fix made complete, so that one round of fixes is enough: in Docker, a
     * masked /proc and a seccomp profile that denies a later step (pivot_root: Docker's default
     * profile never allows it) have one fix, gvshim's profile with systempaths=unconfined.
     */
    private Finding complete(Finding lead, List<Finding> sorted) {
        List<Finding> others = sorted.stream().filter(f -> f.status() == Finding.Status.FAIL && !f.id().equals(lead.id()))
                .toList();
        Failure combined = explain.complete(new Failure(lead.id(), lead.summary(), lead.evidence(), null, lead.fix(),
                Exit.GVSHIM), others.stream().map(f -> new Failure(f.id(), f.summary(), f.evidence(), null, f.fix(),
                Exit.GVSHIM)).toList());
        return new Finding(lead.id(), lead.status(), lead.group(), lead.summary(), lead.evidence(), combined.fix());
    }

    /** Why mode full is not used: the live map-full failure, or the planner's reason it was not tried. */
    private Finding notFull(LiveProbe.Result live) {
        if (live != null) {
            LiveProbe.Outcome o = live.find("map-full");
            if (o != null && !o.ok() && o.failure() != null) {
                return Finding.of(o.failure(), Finding.Status.WARN, "id mapping");
            }
            if (o != null && o.ok()) {
                return null;
            }
        }
        try {
            Planner.plan(Mode.FULL, facts.caller());
            return null;
        } catch (GvshimException e) {
            return Finding.of(e.failure(), Finding.Status.WARN,
                    "id mapping");
        }
    }

    /** Why steps after the first failure were not tried: "the live probe stopped at clone (EPERM)". */
    static String stopped(LiveProbe.Result live) {
        LiveProbe.Outcome first = live.outcomes().stream().filter(o -> o.ran() && !o.ok())
                .filter(o -> !o.step().equals("map-full") || live.mode() == null).findFirst().orElse(null);
        if (first == null) {
            return "the live probe did not report it";
        }
        return "the live probe stopped at " + first.step() + (first.errno() > 0 && !first.step().startsWith("map-")
                ? " (" + Errno.name(first.errno()) + ")" : "") + ": fix that and run doctor again";
    }

    /**
     * A check only the live probe can make, which it did not reach, is "not tested", never ok: its
     * static hint is kept in the summary. A static warning or failure stays (its evidence stands),
     * marked as not confirmed live.
     */
    private void untested(LiveProbe.Result live, String why) {
        for (var e : LIVE_CHECKS.entrySet()) {
            String id = e.getKey();
            boolean tested = live != null && live.outcomes().stream().anyMatch(o -> e.getValue().contains(o.step()) && o.ran()
                    && (o.ok() || o.failure() != null));
            if (tested || (id.equals("USERNS_NESTING") && facts.initialUserNs())) { // depth 0: 32 levels below, by definition
                continue;
            }
            if (id.equals("IDMAP_FULL") && live != null && live.find("map-full") != null && !live.find("map-full").ran()
                    && live.find("map-single") != null && live.find("map-single").ran()) {
                continue; // full was impossible on paper (its reasons are listed), single was tested
            }
            Finding f = findings.get(id);
            String group = f != null ? f.group() : id.equals("IDMAP_FULL") ? "id mapping" : "sandbox";
            if (f == null || f.status() == Finding.Status.OK || f.status() == Finding.Status.NOT_TESTED) {
                String hint = f == null ? "" : f.status() == Finding.Status.OK ? "; from files: " + f.summary() : ": " + f.summary();
                findings.put(new Finding(id, Finding.Status.NOT_TESTED, group, "not tested" + hint, why, null));
            } else if (!f.summary().contains("not tested live")) {
                findings.put(new Finding(id, f.status(), f.group(), f.summary() + " (from files; not tested live: " + why + ")",
                        f.evidence(), f.fix()));
            }
        }
    }

    private static Mode plannedMode(Facts facts) {
        try {
            return Planner.plan(Mode.AUTO, facts.caller()).mode();
        } catch (GvshimException e) {
            return Mode.SINGLE;
        }
    }
}

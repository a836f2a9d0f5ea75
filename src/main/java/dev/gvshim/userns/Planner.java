package dev.gvshim.userns;

import dev.gvshim.linux.ProcStatus;
import java.util.ArrayList;
import java.util.List;

/**
 * Chooses the user-namespace layout: a pure function of what the host looks like, so it is
 * table-tested with sample /etc/subuid files and status lines.
 *
 * <ul>
 *   <li>full, when the caller holds CAP_SETUID and CAP_SETGID (root): maps written directly,
 *       0 to the caller and 1..N to its subordinate range (root without one: 0..65535 to itself);
 *   <li>full, unprivileged: 0 to the caller, 1..N to its /etc/subuid and /etc/subgid ranges,
 *       through newuidmap/newgidmap, when those are privileged and can work here;
 *   <li>single: only the caller, mapped to 0, written directly after setgroups "deny"
 *       (the one map an unprivileged process may write, user_namespaces(7)).
 * </ul>
 */
public final class Planner {
    /** Above this, the kernel refuses the map (user_namespaces(7): 340 lines since Linux 4.15). */
    private static final int MAX_LINES = 340;
    private static final long ROOT_DEFAULT_RANGE = 65536;

    private Planner() {
    }

    /** Everything the plan depends on, read from the host by {@link HostFacts}. */
    public record Host(ProcStatus status, String userName, SubIds subuid, SubIds subgid, Helper newuidmap,
            Helper newgidmap, IdMap ownUidMap, IdMap ownGidMap) {
    }

    /** The requested mode is impossible here; {@code reasons} says why, one clause each. */
    public static final class Impossible extends Exception {
        private static final long serialVersionUID = 1L;
        private final transient List<String> reasons;

        Impossible(List<String> reasons) {
            super(String.join("; ", reasons));
            this.reasons = List.copyOf(reasons);
        }

        public List<String> reasons() {
            return reasons;
        }
    }

    public static MappingPlan plan(Mode requested, Host h) throws Impossible {
        ProcStatus st = h.status();
        long uid = st.euid();
        long gid = st.egid();
        if (requested == Mode.SINGLE) {
            return single(uid, gid, "--userns single was requested");
        }
        boolean privileged = st.hasEffective(ProcStatus.CAP_SETUID) && st.hasEffective(ProcStatus.CAP_SETGID);
        List<SubIds.Range> uidRanges = h.subuid().rangesFor(h.userName(), uid);
        List<SubIds.Range> gidRanges = h.subgid().rangesFor(h.userName(), uid);

        List<String> reasons = new ArrayList<>();
        if (privileged) {
            if (uidRanges.isEmpty() && uid == 0) {
                uidRanges = List.of(new SubIds.Range(1, ROOT_DEFAULT_RANGE - 1));
            }
            if (gidRanges.isEmpty() && gid == 0) {
                gidRanges = List.of(new SubIds.Range(1, ROOT_DEFAULT_RANGE - 1));
            }
        }
        String who = (h.userName() == null ? "" : h.userName() + " ") + "(uid " + uid + ")";
        if (uidRanges.isEmpty()) {
            reasons.add("/etc/subuid has no range for " + who);
        }
        if (gidRanges.isEmpty()) {
            reasons.add("/etc/subgid has no range for " + who);
        }
        checkRanges("/etc/subuid", uidRanges, uid, h.ownUidMap(), reasons);
        checkRanges("/etc/subgid", gidRanges, gid, h.ownGidMap(), reasons);
        if (!privileged) {
            for (Helper helper : List.of(h.newuidmap(), h.newgidmap())) {
                if (!helper.privileged()) {
                    reasons.add(helper.describe());
                } else if (st.noNewPrivs()) {
                    reasons.add("NoNewPrivs is set, so " + helper.name() + "'s "
                            + (helper.fileCap() ? "file capabilities are" : "setuid bit is") + " ignored");
                } else if (!helper.fileCap() && !st.inBounding(ProcStatus.CAP_SYS_ADMIN)) {
                    // A setuid helper writes as euid 0, which is not the namespace owner, so the
                    // kernel wants CAP_SYS_ADMIN; file capabilities keep the caller's euid.
                    reasons.add(helper.path() + " is setuid root but CAP_SYS_ADMIN is not in the bounding set");
                }
            }
        }
        if (!reasons.isEmpty()) {
            if (requested == Mode.FULL) {
                throw new Impossible(dedupe(reasons));
            }
            return single(uid, gid, String.join("; ", dedupe(reasons)));
        }
        return new MappingPlan(Mode.FULL, withRanges(uid, uidRanges), withRanges(gid, gidRanges), !privileged, false,
                null);
    }

    private static MappingPlan single(long uid, long gid, String why) {
        return new MappingPlan(Mode.SINGLE, IdMap.of(0, uid, 1), IdMap.of(0, gid, 1), false, true, why);
    }

    private static void checkRanges(String file, List<SubIds.Range> ranges, long own, IdMap ownMap, List<String> reasons) {
        if (ranges.size() + 1 > MAX_LINES) {
            reasons.add(file + " has more than " + (MAX_LINES - 1) + " ranges for this user");
        }
        for (SubIds.Range r : ranges) {
            if (r.contains(own)) {
                reasons.add(file + " range " + r.start() + "-" + (r.end() - 1) + " contains the caller's own id " + own);
            } else if (ownMap != null && !covered(ownMap, r)) {
                reasons.add(file + " range " + r.start() + "-" + (r.end() - 1)
                        + " is not mapped in this user namespace (" + ownMap + ")");
            }
        }
    }

    /** Whether the range is mapped in the caller's own namespace (a nested userns maps only some ids). */
    static boolean covered(IdMap ownMap, SubIds.Range r) {
        long at = r.start();
        while (at < r.end()) {
            boolean advanced = false;
            for (IdMap.Line l : ownMap.lines()) {
                if (at >= l.inside() && at < l.inside() + l.count()) {
                    at = l.inside() + l.count();
                    advanced = true;
                }
            }
            if (!advanced) {
                return false;
            }
        }
        return true;
    }

    private static IdMap withRanges(long own, List<SubIds.Range> ranges) {
        List<IdMap.Line> lines = new ArrayList<>();
        lines.add(new IdMap.Line(0, own, 1));
        long next = 1;
        for (SubIds.Range r : ranges) {
            lines.add(new IdMap.Line(next, r.start(), r.count()));
            next += r.count();
        }
        if (own == 0 && lines.size() == 2 && lines.get(1).outside() == 1) {
            return IdMap.of(0, 0, 1 + lines.get(1).count()); // root: one identity line
        }
        return new IdMap(List.copyOf(lines));
    }

    private static List<String> dedupe(List<String> reasons) {
        return reasons.stream().distinct().toList();
    }
}

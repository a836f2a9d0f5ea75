package dev.gvshim.userns;

import dev.gvshim.failure.Failure;
import dev.gvshim.failure.GvshimException;
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

    /** One thing standing in the way of full mode, its diagnosis id (SUBUID_MISSING, ...), and what removes it. */
    public record Reason(String id, String why, String fix) {
    }

    /**
     * The requested mode is impossible here: the first reason's id, every reason's why (one clause
     * each) and their fixes. Callers name the step ("cannot use --userns full") and keep the rest.
     */
    static GvshimException impossible(List<Reason> reasons) {
        return new GvshimException(Failure.of(reasons.getFirst().id(), "cannot use mode full", null, whys(reasons),
                fixes(reasons)));
    }

    public static MappingPlan plan(Mode requested, Caller h) throws GvshimException {
        ProcStatus st = h.status();
        long uid = st.euid();
        long gid = st.egid();
        if (requested == Mode.SINGLE) {
            return single(uid, gid, "--userns single was requested", null);
        }
        boolean privileged = st.hasEffective(ProcStatus.CAP_SETUID) && st.hasEffective(ProcStatus.CAP_SETGID);
        List<SubIds.Range> uidRanges = h.subuid().rangesFor(h.userName(), uid);
        List<SubIds.Range> gidRanges = h.subgid().rangesFor(h.userName(), uid);

        List<Reason> reasons = new ArrayList<>();
        if (privileged) {
            if (uidRanges.isEmpty() && uid == 0) {
                uidRanges = List.of(new SubIds.Range(1, ROOT_DEFAULT_RANGE - 1));
            }
            if (gidRanges.isEmpty() && gid == 0) {
                gidRanges = List.of(new SubIds.Range(1, ROOT_DEFAULT_RANGE - 1));
            }
        }
        String who = (h.userName() == null ? "" : h.userName() + " ") + "(uid " + uid + ")";
        String name = h.userName() == null ? Long.toString(uid) : h.userName();
        if (uidRanges.isEmpty()) {
            String r = SubIds.usermodRange(SubIds.free(SubIds.FULL, h.subuid(), h.subgid()));
            reasons.add(new Reason("SUBUID_MISSING", "/etc/subuid has no range for " + who,
                    "as root, `usermod --add-subuids " + r + " --add-subgids " + r + " " + name
                            + "` (65536 ids no other user has in /etc/subuid and /etc/subgid)"));
        }
        if (gidRanges.isEmpty()) {
            reasons.add(new Reason("SUBGID_MISSING", "/etc/subgid has no range for " + who, uidRanges.isEmpty() ? null // one usermod does both
                    : "as root, `usermod --add-subgids " + SubIds.usermodRange(SubIds.free(SubIds.FULL, h.subgid())) + " " + name
                            + "` (65536 ids no other user has in /etc/subgid)"));
        }
        checkRanges("/etc/subuid", uidRanges, uid, h.ownUidMap(), reasons);
        checkRanges("/etc/subgid", gidRanges, gid, h.ownGidMap(), reasons);
        if (!privileged) {
            for (Helper helper : List.of(h.newuidmap(), h.newgidmap())) {
                String cap = helper.name().equals("newgidmap") ? "cap_setgid" : "cap_setuid";
                if (!helper.present()) {
                    reasons.add(new Reason("NEWUIDMAP_MISSING", helper.describe(),
                            "install it (Debian/Ubuntu: apt-get install uidmap; Fedora/RHEL: dnf install shadow-utils)"));
                } else if (!helper.privileged()) {
                    reasons.add(new Reason("NEWUIDMAP_UNPRIVILEGED", helper.describe(), "as root, `chmod u+s " + helper.path() + "` or `setcap "
                            + cap + "=ep " + helper.path() + "` (reinstalling uidmap restores the setuid bit)"));
                } else if (st.noNewPrivs()) {
                    // no_new_privs makes execve ignore setuid bits and file capabilities alike.
                    // one reason for both helpers (duplicates are dropped below)
                    reasons.add(new Reason("NO_NEW_PRIVS", "NoNewPrivs is set, so execve ignores the setuid bits and"
                            + " file capabilities of newuidmap and newgidmap",
                            "start gvshim without no_new_privs (Docker: drop --security-opt no-new-privileges; "
                                    + "Kubernetes: allowPrivilegeEscalation: true)"));
                } else if (!st.inBounding(cap.equals("cap_setgid") ? ProcStatus.CAP_SETGID : ProcStatus.CAP_SETUID)) {
                    // execve grants a setuid or file-capability program only what the bounding set holds
                    // (capabilities(7)): the map write then fails with EPERM.
                    reasons.add(new Reason("NEWUIDMAP_CAPS_DROPPED", cap.toUpperCase(java.util.Locale.ROOT) + " is not in the"
                            + " bounding set (CapBnd " + String.format("%016x", st.capBnd()) + "), so " + helper.path()
                            + " cannot gain it", "keep CAP_SETUID and CAP_SETGID in the bounding set (docker run --cap-add"
                                    + " SETUID --cap-add SETGID; Kubernetes: securityContext.capabilities.add)"));
                } else if (!helper.fileCap() && !st.inBounding(ProcStatus.CAP_SYS_ADMIN)) {
                    // A setuid helper writes as euid 0, which is not the namespace owner, so the
                    // kernel wants CAP_SYS_ADMIN; file capabilities keep the caller's euid.
                    reasons.add(new Reason("NEWUIDMAP_NEEDS_FCAPS", helper.path() + " is setuid root but CAP_SYS_ADMIN is not in the"
                            + " bounding set (CapBnd " + String.format("%016x", st.capBnd()) + ")",
                            "give it file capabilities instead, in the image: `chmod u-s " + helper.path()
                                    + " && setcap " + cap + "=ep " + helper.path() + "`"));
                }
            }
        }
        if (!reasons.isEmpty()) {
            List<Reason> distinct = reasons.stream().distinct().toList();
            if (requested == Mode.FULL) {
                throw impossible(distinct);
            }
            return single(uid, gid, whys(distinct), fixes(distinct));
        }
        return new MappingPlan(Mode.FULL, withRanges(uid, uidRanges), withRanges(gid, gidRanges), !privileged, false,
                null, null);
    }

    /** Single mode after full mode failed at run time (a helper exited non-zero): says so. */
    public static MappingPlan fallback(Caller h, String why, String fix) {
        return single(h.status().euid(), h.status().egid(), why, fix);
    }

    private static MappingPlan single(long uid, long gid, String why, String fix) {
        return new MappingPlan(Mode.SINGLE, IdMap.of(0, uid, 1), IdMap.of(0, gid, 1), false, true, why, fix);
    }

    private static void checkRanges(String file, List<SubIds.Range> ranges, long own, IdMap ownMap, List<Reason> reasons) {
        if (ranges.size() + 1 > MAX_LINES) {
            reasons.add(new Reason("SUBID_RANGE_INVALID", file + " has more than " + (MAX_LINES - 1) + " ranges for this user",
                    "merge the ranges in " + file));
        }
        for (SubIds.Range r : ranges) {
            String range = file + " range " + r.start() + "-" + (r.end() - 1);
            if (r.contains(own)) {
                // newuidmap would map the caller's own id twice; the kernel refuses overlapping lines.
                reasons.add(new Reason("SUBID_RANGE_INVALID", range + " contains the caller's own id " + own,
                        "edit " + file + " so that the range leaves out " + own));
            } else if (ownMap != null && !covered(ownMap, r)) {
                // Nested: ids exist only as far as the enclosing namespace maps them (user_namespaces(7)).
                reasons.add(new Reason("SUBID_NOT_MAPPED", range + " is not mapped in this user namespace (" + ownMap + ")",
                        "give the user a range inside the ids mapped here, or map more ids into this container"));
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

    private static String whys(List<Reason> reasons) {
        return String.join("; ", reasons.stream().map(Reason::why).distinct().toList());
    }

    private static String fixes(List<Reason> reasons) {
        List<String> fixes = reasons.stream().map(Reason::fix).filter(f -> f != null).distinct().toList();
        return fixes.isEmpty() ? null : String.join("; ", fixes);
    }
}

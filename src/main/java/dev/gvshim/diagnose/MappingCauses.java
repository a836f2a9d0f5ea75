package dev.gvshim.diagnose;

import dev.gvshim.failure.Failure;
import dev.gvshim.linux.ProcStatus;
import dev.gvshim.userns.Helper;
import dev.gvshim.userns.Mapper;
import dev.gvshim.userns.SubIds;
import java.util.List;

/**
 * The causes of a failed newuidmap or newgidmap: one message ("write to uid_map failed:
 * Operation not permitted") has five causes, told apart by the evidence (its output, the
 * helper's mode and file capabilities, the bounding set, no_new_privs, /etc/subuid).
 */
final class MappingCauses extends Causes {
    MappingCauses(Explain x) {
        super(x);
    }

    /**
     * newuidmap or newgidmap failed ({@code m}: {@link Mapper#failed}, its argv, status and message
     * the evidence): five causes share one message, told apart by the evidence and the facts.
     */
    Failure mapping(Failure m, Helper helper, String userName) {
        String name = Mapper.helper(m);
        boolean uid = name.equals("newuidmap");
        String what = m.what();
        String evidence = m.evidence();
        String out = evidence == null ? "" : evidence; // the helper's message is its end
        String file = uid ? "/etc/subuid" : "/etc/subgid";
        String user = userName == null ? "USER" : userName;
        ProcStatus st = status();
        String cap = uid ? "cap_setuid" : "cap_setgid";
        if (out.contains("not allowed")) {
            SubIds ids = uid ? facts().caller().subuid() : facts().caller().subgid();
            List<SubIds.Range> given = ids.rangesFor(userName, st.euid());
            return Failure.of(uid ? "SUBUID_MISSING" : "SUBGID_MISSING", what, evidence,
                    file + " gives " + (userName == null ? "uid " + st.euid() : userName) + " "
                            + (given.isEmpty() ? "no range" : ranges(given) + ", which does not cover the ids asked for"),
                    subidFix(user, uid || facts().caller().subgid().rangesFor(userName, st.euid()).isEmpty(),
                            !uid || facts().caller().subuid().rangesFor(userName, st.euid()).isEmpty())
                            + ", or run with --userns single");
        }
        if (out.contains("Cannot determine your user name")) {
            return Failure.of("NO_PASSWD_ENTRY", what, evidence, "uid " + st.euid() + " has no /etc/passwd entry",
                    "add a passwd entry for it, or run with --userns single");
        }
        if (st.noNewPrivs()) {
            return Failure.of("NO_NEW_PRIVS", what, evidence,
                    "NoNewPrivs: 1 in /proc/self/status, so execve ignores the privilege of "
                            + (helper == null ? name : helper.describe()),
                    x.fixes().noNewPrivsFix());
        }
        int needed = uid ? ProcStatus.CAP_SETUID : ProcStatus.CAP_SETGID;
        if (helper != null && helper.privileged() && !st.inBounding(needed)) {
            return Failure.of("NEWUIDMAP_CAPS_DROPPED", what, evidence,
                    (uid ? "CAP_SETUID" : "CAP_SETGID") + " is not in the bounding set, so " + name
                            + " cannot gain it (cap-drop ALL)",
                    env().pick("add --cap-add SETUID --cap-add SETGID", "add SETUID and SETGID to securityContext.capabilities.add",
                            "keep CAP_SETUID and CAP_SETGID in the bounding set")
                            + ", or run with --userns single");
        }
        if (helper != null && helper.setuid() && !helper.fileCap() && !st.inBounding(ProcStatus.CAP_SYS_ADMIN)) {
            return Failure.of("NEWUIDMAP_NEEDS_FCAPS", what, evidence,
                    helper.path() + " is setuid root: it writes the map as euid 0, which needs CAP_SYS_ADMIN here (not in"
                            + " the bounding set); file capabilities keep your own uid and need nothing extra",
                    "in the image: chmod u-s " + helper.path() + " && setcap " + cap + "+ep " + helper.path()
                            + ", or run with --userns single");
        }
        if (helper != null && !helper.privileged()) {
            return Failure.of("NEWUIDMAP_UNPRIVILEGED", what, evidence, helper.describe(),
                    "as root: chmod u+s " + helper.path() + " (or setcap " + cap + "+ep " + helper.path()
                            + "; reinstalling uidmap restores it), or run with --userns single");
        }
        Integer restrict = facts().kernel().apparmorRestrict();
        if (restrict != null && restrict == 1) {
            return Failure.of("USERNS_APPARMOR", what, evidence,
                    "AppArmor's unprivileged_userns profile denies the capabilities the map needs", x.fixes().apparmorUsernsFix());
        }
        return m; // IDMAP_HELPER_FAILED, as Mapper made it
    }

    /**
     * The usermod that gives {@code user} what is missing, with a range no other user has in
     * either file (the first free one from 100000), so that following it is enough.
     */
    String subidFix(String user, boolean uids, boolean gids) {
        SubIds u = facts().caller().subuid();
        SubIds g = facts().caller().subgid();
        String both = SubIds.usermodRange(SubIds.free(SubIds.FULL, u, g));
        String cmd = uids && gids ? "--add-subuids " + both + " --add-subgids " + both
                : uids ? "--add-subuids " + SubIds.usermodRange(SubIds.free(SubIds.FULL, u))
                : "--add-subgids " + SubIds.usermodRange(SubIds.free(SubIds.FULL, g));
        return "as root: usermod " + cmd + " " + user + " (65536 ids no other user has)";
    }

    /** "100000-165535 (65536 ids), 200000-200099 (100 ids)" */
    static String ranges(List<SubIds.Range> ranges) {
        return String.join(", ", ranges.stream().map(r -> r.start() + "-" + (r.end() - 1) + " (" + r.count() + " id"
                + (r.count() == 1 ? "" : "s") + ")").toList());
    }
}

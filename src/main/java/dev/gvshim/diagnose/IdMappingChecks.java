package dev.gvshim.diagnose;

import dev.gvshim.linux.ProcStatus;
import dev.gvshim.userns.Caller;
import dev.gvshim.userns.Helper;
import dev.gvshim.userns.SubIds;
import java.util.List;
import java.util.Locale;

/**
 * Doctor's static checks of the id mapping mode full needs: a passwd entry, /etc/subuid and
 * /etc/subgid ranges (and overlaps with other users'), newuidmap and newgidmap present and
 * privileged in a way that works here (setuid or file capabilities, the bounding set).
 */
final class IdMappingChecks extends Checks {
    IdMappingChecks(Facts facts, Explain explain, Findings findings) {
        super(facts, explain, findings);
    }

    void run() {
        idMapping();
    }

    private void idMapping() {
        Caller h = facts.caller();
        ProcStatus st = h.status();
        String user = h.userName() == null ? "uid " + st.euid() : h.userName() + " (uid " + st.euid() + ")";
        boolean privileged = st.hasEffective(ProcStatus.CAP_SETUID) && st.hasEffective(ProcStatus.CAP_SETGID);
        if (h.userName() == null) {
            put(Finding.warn("NO_PASSWD_ENTRY", "id mapping", "uid " + st.euid() + " has no /etc/passwd entry: newuidmap"
                    + " refuses it, so mode full is impossible", "getpwuid(" + st.euid() + ") found nothing",
                    "add a passwd entry (or nss_wrapper), or accept mode single"));
        }
        subIds("SUBUID_MISSING", "/etc/subuid", h.subuid(), h, user, privileged);
        subIds("SUBGID_MISSING", "/etc/subgid", h.subgid(), h, user, privileged);
        if (privileged) {
            put(Finding.ok("NEWUIDMAP_MISSING", "id mapping", "you hold CAP_SETUID and CAP_SETGID: gvshim writes the maps"
                    + " itself, no helper needed", "CapEff"));
            return;
        }
        List<Helper> helpers = List.of(h.newuidmap(), h.newgidmap());
        String hev = String.join("; ", helpers.stream().map(Helper::describe).toList());
        List<Helper> missing = helpers.stream().filter(x -> !x.present()).toList();
        if (!missing.isEmpty()) {
            put(Finding.warn("NEWUIDMAP_MISSING", "id mapping", String.join(" and ", missing.stream().map(Helper::name).toList())
                    + " not installed: mode full is impossible", hev,
                    "install it (Debian/Ubuntu: apt-get install uidmap; Fedora/RHEL: dnf install shadow-utils)"));
        } else {
            put(Finding.ok("NEWUIDMAP_MISSING", "id mapping", "newuidmap and newgidmap are installed", hev));
        }
        List<Helper> plain = helpers.stream().filter(x -> x.present() && !x.privileged()).toList();
        if (!plain.isEmpty()) {
            Helper x = plain.getFirst();
            String cap = x.name().equals("newgidmap") ? "cap_setgid" : "cap_setuid";
            put(Finding.warn("NEWUIDMAP_UNPRIVILEGED", "id mapping", x.describe() + ": it can map only your own id,"
                    + " so mode full is impossible", hev, "as root: chmod u+s " + x.path() + " (or setcap " + cap + "+ep "
                    + x.path() + "; reinstalling uidmap restores it)"));
        } else if (missing.isEmpty()) {
            put(Finding.ok("NEWUIDMAP_UNPRIVILEGED", "id mapping", "newuidmap and newgidmap are privileged", hev));
        }
        List<Helper> dropped = helpers.stream().filter(x -> x.privileged() && !st.inBounding(x.name().equals("newgidmap")
                ? ProcStatus.CAP_SETGID : ProcStatus.CAP_SETUID)).toList();
        if (!dropped.isEmpty()) {
            Helper x = dropped.getFirst();
            put(Finding.warn("NEWUIDMAP_CAPS_DROPPED", "id mapping", x.neededCap().toUpperCase(Locale.ROOT)
                    + " is not in the bounding set, so " + x.path() + " cannot gain it: mode full is impossible (single works)",
                    hev + "; CapBnd " + String.format("%016x", st.capBnd()), facts.env().pick("add --cap-add SETUID --cap-add SETGID",
                            "add SETUID and SETGID to securityContext.capabilities.add", "keep CAP_SETUID and CAP_SETGID in the"
                                    + " bounding set (setpriv --bounding-set, systemd CapabilityBoundingSet=)")));
        }
        List<Helper> setuidOnly = helpers.stream().filter(x -> x.privileged() && x.setuid() && !x.fileCap()).toList();
        if (!setuidOnly.isEmpty() && !st.inBounding(ProcStatus.CAP_SYS_ADMIN)) {
            Helper x = setuidOnly.getFirst();
            String cap = x.name().equals("newgidmap") ? "cap_setgid" : "cap_setuid";
            put(Finding.warn("NEWUIDMAP_NEEDS_FCAPS", "id mapping", x.path() + " is setuid root, which writes maps as euid 0"
                            + " and then needs CAP_SYS_ADMIN (not in the bounding set here); file capabilities need nothing extra",
                    hev + "; CapBnd " + String.format("%016x", st.capBnd()) + " lacks CAP_SYS_ADMIN", "in the image: chmod u-s "
                            + x.path() + " && setcap " + cap
                            + "+ep " + x.path() + " (and the same for " + (cap.equals("cap_setuid") ? "newgidmap with cap_setgid"
                            : "newuidmap with cap_setuid") + ")"));
        } else if (!setuidOnly.isEmpty() || helpers.stream().anyMatch(Helper::fileCap)) {
            put(Finding.ok("NEWUIDMAP_NEEDS_FCAPS", "id mapping", helpers.stream().allMatch(Helper::fileCap)
                    ? "the helpers have file capabilities" : "setuid helpers work here (CAP_SYS_ADMIN is in the bounding set)", hev));
        }
    }

    private void subIds(String id, String file, SubIds ids, Caller h, String user, boolean privileged) {
        List<SubIds.Range> ranges = ids.rangesFor(h.userName(), h.status().euid());
        if (ranges.isEmpty()) {
            if (privileged && h.status().euid() == 0) {
                put(Finding.ok(id, "id mapping", file + " has no range for root: root maps 0-65535 directly", file));
                return;
            }
            String name = h.userName() == null ? "USER" : h.userName();
            put(Finding.warn(id, "id mapping", file + " has no range for " + user + ": mode full is impossible (single works)",
                    file + ": no line for " + name + " or " + h.status().euid(),
                    explain.subidFix(name, id.equals("SUBUID_MISSING") || h.subuid().rangesFor(h.userName(), h.status().euid())
                            .isEmpty(), id.equals("SUBGID_MISSING") || h.subgid().rangesFor(h.userName(), h.status().euid())
                            .isEmpty())));
            return;
        }
        long total = ranges.stream().mapToLong(SubIds.Range::count).sum();
        String ev = file + ": " + Explain.ranges(ranges);
        String overlap = overlap(file, ids, h, ranges);
        if (overlap != null) {
            put(Finding.warn(id.replace("_MISSING", "_OVERLAP"), "id mapping", overlap + ": the sandboxes of both users share"
                            + " those ids (each can read the other's files and signal its processes)", ev,
                    "as root: give each user a range no other user has (usermod --del-subuids/--add-subuids)"));
        }
        if (total < 65536) {
            put(Finding.warn(id, "id mapping", file + " gives " + user + " only " + total + " ids: images with ids above "
                    + total + " will fail to unpack", ev, "give the user 65536 ids in " + file));
        } else {
            put(Finding.ok(id, "id mapping", file + " gives " + user + " " + total + " ids", ev));
        }
    }

    /** "/etc/subuid: gvshim-it's 100000-165535 (65536 ids) overlaps bob's 150000-215535 (65536 ids) by 15536 ids", or null. */
    private static String overlap(String file, SubIds ids, Caller h, List<SubIds.Range> own) {
        String me = h.userName();
        String uid = Long.toString(h.status().euid());
        for (SubIds.Entry e : ids.entries()) {
            if (e.owner().equals(me) || e.owner().equals(uid)) {
                continue;
            }
            SubIds.Range other = new SubIds.Range(e.start(), e.count());
            for (SubIds.Range r : own) {
                long shared = Math.min(r.end(), other.end()) - Math.max(r.start(), other.start());
                if (shared > 0) {
                    return file + ": " + (me == null ? uid : me) + "'s " + Explain.ranges(List.of(r)) + " overlaps " + e.owner()
                            + "'s " + Explain.ranges(List.of(other)) + " by " + shared + " id" + (shared == 1 ? "" : "s");
                }
            }
        }
        return null;
    }
}

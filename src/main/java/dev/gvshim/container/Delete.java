package dev.gvshim.container;

import dev.gvshim.call.Launch;
import dev.gvshim.failure.GvshimException;
import java.util.ArrayList;
import java.util.List;

/** `delete [--force]`, and the cleanup every verb does when a container cannot go on. */
public final class Delete {
    private Delete() {
    }

    public static int run(RuntimeCall rc, String id, boolean force) throws GvshimException {
        Lookup.checkId(id);
        if (rc.store.abandoned(id)) {
            abandoned(rc, id);
            return 0;
        }
        Container ct = rc.store.load(id);
        if (ct == null) {
            String hidden = rc.store.hiddenBecause(id, rc.euid);
            if (hidden != null) {
                // runc's answer for a container the caller cannot see, never a silent success
                throw RuntimeFailures.notFound(id, hidden);
            }
            if (rc.lookup.isForeign(id)) {
                ct = rc.lookup.foreign(id);
            } else if (rc.store.exists(id)) {
                rc.store.remove(id); // what a create interrupted before its record was written left
                return 0;
            } else if (force) {
                return 0; // runc: deleting nothing by force is success (containerd's cleanup call)
            } else {
                throw RuntimeFailures.notFound(id);
            }
        }
        if (Holder.gone(ct)) {
            if (!force && rc.lookup.sandboxAlive(ct)) {
                throw RuntimeFailures.state("cannot delete container " + id + " that is not stopped: running (its user"
                        + " namespace's holder is gone: `delete --force " + id + "` ends it)");
            }
            withoutHolder(rc, ct);
            return 0;
        }
        if (!rc.lookup.addressable(ct)) {
            // runsc has no container by this id (a create interrupted before runsc's): gvshim's part only
            cleanup(rc, ct);
            return 0;
        }
        String own = rc.store.recordedStatus(ct.runscId());
        String status = rc.lookup.effective(ct, own);
        if (status.equals("paused") && !force) {
            throw RuntimeFailures.state("cannot delete container " + id + " that is not stopped: paused"); // runc's text
        }
        // a paused container whose sandbox died is stopped, but runsc deletes only "created" and "stopped" ones
        // without --force; with --force runsc 2022-12 removes a paused one and then panics ("invalid state
        // transition: paused => stopped", container.go Destroy): its state is gone, which is what counts.
        // A container recorded "running" is left to runsc, which asks the sandbox whether it still runs
        boolean forced = force || !status.equals(own);
        List<String> args = new ArrayList<>(List.of("delete"));
        if (forced) {
            args.add("--force");
        }
        args.add(ct.runscId());
        if (forced || !status.equals("running")) {
            removeCgroups(rc, ct.id(), true);
        }
        Launch.Ran r = rc.runsc(ct, args);
        if (!r.ok() && rc.store.runscState(ct.runscId()) != null) {
            GvshimException refused = Diagnosis.plain(rc, ct, "delete", r);
            // runsc 2024 refuses a plain delete while the sandbox winds down after the init's exit; runc deletes a
            // container that is stopped, so one that runsc's own state, asked now, calls stopped is deleted
            String now = forced ? null : rc.lookup.status(ct);
            if ("running".equals(now)) {
                throw RuntimeFailures.state("cannot delete container " + id + " that is not stopped: running"); // runc's
            }
            if (!"stopped".equals(now)) {
                throw refused;
            }
            args.add(1, "--force");
            r = rc.runsc(ct, args);
            if (!r.ok() && rc.store.runscState(ct.runscId()) != null) {
                throw Diagnosis.plain(rc, ct, "delete", r);
            }
        }
        cleanup(rc, ct);
        return 0;
    }

    /**
     * Removes a container whose create was abandoned ({@link Containers#abandoned}: the JVM or
     * server that ran it was killed, and its caller is gone): what runsc made of it (runsc delete
     * --force, in the holder's namespace for a rootless one), its holder, gvshim's record. What
     * containerd would have done after a create that failed, which it cannot do for one it never
     * heard the end of.
     */
    static void abandoned(RuntimeCall rc, String id) {
        Container ct = rc.store.load(id);
        rc.log.debug("container " + id + ": its create was interrupted (the process that ran it was killed): removed");
        if (ct == null) {
            rc.store.remove(id); // killed before the record was written: runsc was not started yet
            return;
        }
        cleanup(rc, ct);
    }

    /** Removes every container of this --root whose create was abandoned; their ids. */
    public static List<String> abandoned(RuntimeCall rc) {
        List<String> ids = rc.store.abandonedIds();
        ids.forEach(id -> abandoned(rc, id));
        return ids;
    }

    /**
     * Ends a container whose holder is gone without runsc: SIGKILL to its sandbox process (if it
     * is still that process; its gofer and the namespace end with it), then runsc's state files
     * and gvshim's record. What `runsc delete --force` would have done.
     */
    private static void withoutHolder(RuntimeCall rc, Container ct) {
        Kill.killSandbox(rc, ct, "container " + ct.id() + ": its user namespace's holder is gone");
        rc.store.removeRunscFiles(ct.runscId());
        rc.store.remove(ct.id());
    }

    /** Removes what runsc and gvshim hold for the container: sandbox, state, holder, logs. */
    static void cleanup(RuntimeCall rc, Container ct) {
        if (Holder.gone(ct)) {
            withoutHolder(rc, ct);
            return;
        }
        if (rc.store.runscState(ct.runscId()) != null) {
            removeCgroups(rc, ct.id(), true);
            try {
                rc.runsc(ct, List.of("delete", "--force", ct.runscId()));
            } catch (GvshimException e) {
                rc.log.debug("cleanup of " + ct.id() + ": " + e.failure().what());
            }
        }
        Container saved = rc.store.load(ct.id());
        Holder.release(saved != null ? saved : ct);
        removeCgroups(rc, ct.id(), false);
        rc.store.remove(ct.id());
    }

    /**
     * The container's cgroup directories ({@link CgroupDirs}), once runsc has ended the sandbox:
     * with the sub-cgroups made in them, as runc's delete. One that stays (processes of another
     * sandbox in it) is runc's logged error, not a failed delete (runc's destroy logs it).
     * {@code below}: before runsc, only the sub-cgroups without processes ({@link CgroupDirs#removeBelow}).
     */
    private static void removeCgroups(RuntimeCall rc, String id, boolean below) {
        List<String> dirs;
        try {
            dirs = java.nio.file.Files.readAllLines(rc.store.dir(id).resolve(CgroupDirs.FILE));
        } catch (java.io.IOException e) {
            return; // none recorded: a rootless container, or one runsc placed with --ignore-cgroups
        }
        for (String d : dirs) {
            if (below && !d.isBlank()) {
                CgroupDirs.removeBelow(d, CgroupDirs.Fs.system());
                continue;
            }
            String why = d.isBlank() ? null : CgroupDirs.remove(d, CgroupDirs.Fs.system());
            if (why != null) {
                rc.log.warning("container " + id + ": its cgroup stays: " + why + (why.contains("EBUSY")
                        ? ": processes are still in it or in a sub-cgroup" : ""));
            }
        }
    }
}

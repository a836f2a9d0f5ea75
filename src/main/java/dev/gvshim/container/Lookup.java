package dev.gvshim.container;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gvshim.call.Launch;
import dev.gvshim.diagnose.IoError;
import dev.gvshim.failure.GvshimException;
import dev.gvshim.linux.ProcStat;
import dev.gvshim.oci.JsonTree;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;

/**
 * Finding a runc verb's container and its status: gvshim's record of it, a container runsc
 * knows that gvshim did not create, and whether runsc would reach exactly it (runsc resolves
 * ids by prefix: see {@link Containers}).
 */
final class Lookup {
    private final RuntimeCall rc;

    Lookup(RuntimeCall rc) {
        this.rc = rc;
    }

    /** runc's refusal of an id (before any file is touched). */
    static void checkId(String id) throws GvshimException {
        String bad = ContainerIds.invalidId(id);
        if (bad != null) {
            throw RuntimeFailures.of("ID_INVALID", bad);
        }
    }

    /**
     * The container, or runc's sentinel error: gvshim's record of it; a container runsc knows by
     * this very id that gvshim did not create ({@link #foreign}); nothing else. A container of
     * another user's (root's --root used without root) does not exist for this caller, as runc
     * says, with the reason. One whose create was abandoned is removed first, and does not exist.
     */
    Container existing(String id) throws GvshimException {
        checkId(id);
        if (rc.store.abandoned(id)) {
            Delete.abandoned(rc, id); // a create whose JVM or server was killed: it never existed for the caller
        }
        Container ct = rc.store.load(id);
        if (ct != null) {
            return ct;
        }
        String hidden = rc.store.hiddenBecause(id, rc.euid);
        if (hidden != null) {
            throw RuntimeFailures.notFound(id, hidden);
        }
        if (isForeign(id)) {
            return foreign(id);
        }
        throw RuntimeFailures.notFound(id);
    }

    /**
     * Whether runsc has a container by exactly {@code id} that is not one of gvshim's under its
     * runsc id (`gvshim state 6-web` must not reach gvshim's container "web" past its record).
     */
    boolean isForeign(String id) {
        if (rc.store.runscState(id) == null) {
            return false;
        }
        String own = ContainerIds.idOfReadable(id);
        if (own != null) {
            Container c = rc.store.load(own);
            return c == null || !c.runscId().equals(id);
        }
        return !ContainerIds.looksLikeRunscId(id) || !rc.store.byRunscId().containsKey(id);
    }

    /** A container runsc knows but gvshim did not create (runsc itself, in a shared --root): today's flags, its own id. */
    Container foreign(String id) throws GvshimException {
        RuntimeConfig c = rc.config();
        Container ct = new Container(id, id, rc.store.root(), rc.rootless, rc.runscPath(c.runsc()).toString(),
                rc.containerFlags(c, rc.rootless), 0, 0);
        try {
            Files.createDirectories(rc.store.dir(id).resolve("logs"));
        } catch (IOException e) {
            throw RuntimeFailures.stateIo("cannot use " + rc.store.root() + ": " + IoError.reason(e));
        }
        return ct;
    }

    /**
     * A container of runsc's whose id and {@code runscId} would match each other by prefix (null:
     * none). gvshim's own runsc ids never do ({@link Containers#runscIdFor}); one runsc or an
     * earlier gvshim named can.
     */
    String clash(String runscId) {
        for (String c : rc.store.runscIds()) {
            if (c.startsWith(runscId) || runscId.startsWith(c)) {
                Container own = rc.store.byRunscId().get(c);
                return own == null ? c : own.id();
            }
        }
        return null;
    }

    /**
     * Whether runsc resolves the container's runsc id to exactly this container (runsc
     * matches a prefix: see {@link Containers}). False if runsc has no container by this id: a
     * runsc call would then reach any other whose id starts with it (a create interrupted before
     * runsc's state was written, then `kill`: another container). Throws when other containers'
     * ids start with it too: only a container gvshim did not name can be in that position
     * (runsc's own, or one an earlier gvshim created under the caller's id).
     */
    boolean addressable(Container ct) throws GvshimException {
        List<String> matches = rc.store.prefixMatches(ct.runscId());
        if (matches.equals(List.of(ct.runscId()))) {
            return true;
        }
        if (!matches.contains(ct.runscId())) {
            return false;
        }
        Map<String, Container> own = rc.store.byRunscId();
        List<String> others = matches.stream().filter(m -> !m.equals(ct.runscId()))
                .map(m -> own.containsKey(m) ? own.get(m).id() : m).toList();
        throw RuntimeFailures.of("RUNSC_ID_AMBIGUOUS",
                "cannot address container " + ct.id() + ": runsc finds containers by id prefix, and the"
                + " ids of " + String.join(", ", others) + " also start with " + ct.runscId() + " (the id runsc knows "
                + ct.id() + " by: it was not created by this gvshim)" + "; delete " + (others.size() == 1 ? "that container"
                : "those containers") + " first, then " + ct.id());
    }

    // ---------------------------------------------------------------- status

    /** Whether the container's sandbox process is alive: not gone, not a zombie, not a reused pid. */
    boolean sandboxAlive(Container ct) {
        Containers.Sandbox sb = rc.store.sandbox(ct.runscId());
        return sb != null && rc.store.sandboxAlive(sb.pid(), sb.id());
    }

    /**
     * runsc's status, or "stopped" for a container whose sandbox is dead: runsc re-checks "created"
     * only by kill(pid, 0), which a zombie passes, and "paused" not at all, so a paused container
     * stays "paused" after its sandbox died; runsc from 2024 says "running" by kill(pid, 0) too
     * (measured: "running" for ~2 s after a checkpoint, while its sandbox was a zombie its parent,
     * this machine's init, had not reaped yet).
     */
    String effective(Container ct, String runscStatus) {
        if (runscStatus.equals("running")) {
            return sandboxZombie(ct) ? "stopped" : runscStatus;
        }
        return (runscStatus.equals("paused") || runscStatus.equals("created")) && !sandboxAlive(ct) ? "stopped"
                : runscStatus;
    }

    /** Whether the container's sandbox process has exited and waits to be reaped (proc(5): state Z). */
    private boolean sandboxZombie(Container ct) {
        Containers.Sandbox sb = rc.store.sandbox(ct.runscId());
        if (sb == null || sb.pid() <= 0) {
            return false;
        }
        try {
            return ProcStat.state(Files.readString(rc.store.proc().resolve(sb.pid() + "/stat"))) == 'Z';
        } catch (IOException | RuntimeException e) {
            return false; // gone (runsc says so itself) or not readable: runsc's status stands
        }
    }

    /**
     * The status runsc's state file records for the container, made effective: read without
     * running runsc (~100 ms a call), so "running" may be out of date (only runsc, asking the
     * sandbox, learns that the container has stopped). Null when runsc has no state for it.
     */
    Status recorded(Container ct) throws GvshimException {
        if (!addressable(ct)) {
            return null;
        }
        String own = rc.store.recordedStatus(ct.runscId());
        return own.isEmpty() ? null : Status.of(effective(ct, own));
    }

    /**
     * The container's status as runc would report it: runsc's, except "stopped" where the
     * sandbox has died (runsc keeps "paused" and "created" for a dead sandbox). Null if runsc
     * has no state for it.
     */
    String status(Container ct) throws GvshimException {
        JsonNode st = runscState(ct);
        return st == null ? null : effective(ct, st.path("status").asText());
    }

    /** runsc's OCI state of the container (null if runsc has none). */
    JsonNode runscState(Container ct) throws GvshimException {
        if (!addressable(ct)) {
            return null;
        }
        Launch.Ran r = rc.runsc(ct, List.of("state", ct.runscId()));
        if (!r.ok()) {
            return null;
        }
        try {
            return JsonTree.read(r.output().getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            return null;
        }
    }
}

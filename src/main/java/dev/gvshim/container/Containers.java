package dev.gvshim.container;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gvshim.linux.ProcStat;
import dev.gvshim.oci.JsonTree;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The state directory ({@code --root}), shared with runc and runsc as Docker passes it. runsc
 * keeps {@code CONTAINER_sandbox:SANDBOX.state} (and {@code .lock}); gvshim keeps, per
 * container, {@code ID.gvshim/}: {@code gvshim.state} (how the container was created: its runsc
 * id, runsc flags, rootless holder), runsc's own log and debug logs (for diagnosis), and a
 * rootless container's rewritten bundle.
 *
 * <p>runsc finds a container by <em>prefix</em> (runsc/container/state_file.go, findContainerID:
 * the glob {@code ID*_sandbox:*.state}, then strings.HasPrefix over every id): with containers
 * {@code web} and {@code web2}, {@code runsc delete web} is "ambiguous", and with only
 * {@code web-1} it deletes {@code web-1}. So gvshim never hands runsc the caller's id: each
 * container gets a runsc id from {@link ContainerIds#runscIdFor} that no other such id can be a prefix of,
 * kept in its record, and every runsc call is checked first to match exactly that container.
 */
public final class Containers {
    private final Path root;
    /** The process file system the sandboxes are looked for in (/proc; a file tree of their own in unit tests). */
    private final Path proc;

    public Containers(Path root) {
        this(root, Path.of("/proc"));
    }

    Containers(Path root, Path proc) {
        this.root = root;
        this.proc = proc;
    }

    /** /proc, where the sandboxes' processes are. */
    Path proc() {
        return proc;
    }

    public Path root() {
        return root;
    }

    /** gvshim's record of a container, in its directory. */
    static final String STATE = "gvshim.state";
    private static final Pattern SANDBOX = Pattern.compile("\"sandbox\":\\{\"id\":\"([^\"]*)\",\"pid\":(\\d+)");
    private static final String STATE_FILE = "_sandbox:";

    public Path dir(String id) {
        return root.resolve(id + ".gvshim");
    }

    public Path debugLogs(String id) {
        return dir(id).resolve("logs");
    }

    /** Whether gvshim holds a directory for this id (its record, or what an interrupted create left). */
    public boolean exists(String id) {
        return Files.exists(dir(id), java.nio.file.LinkOption.NOFOLLOW_LINKS);
    }

    /** runsc's state file of the container runsc knows by exactly {@code runscId} (null: none). */
    Path runscState(String runscId) {
        // CONTAINER_sandbox:SANDBOX.state, and ids have no ':': only runscId's own file matches
        try (DirectoryStream<Path> s = Files.newDirectoryStream(root, runscId + STATE_FILE + "*.state")) {
            for (Path p : s) {
                return p;
            }
        } catch (IOException e) {
            // no root yet
        }
        return null;
    }

    /**
     * Removes runsc's own files of the container runsc knows by exactly {@code runscId} (its
     * state and lock files, CONTAINER_sandbox:SANDBOX.state/.lock): what `runsc delete` would
     * remove, for a container runsc can no longer be run for (a rootless one whose holder died).
     */
    void removeRunscFiles(String runscId) {
        Path state = runscState(runscId);
        if (state == null) {
            return;
        }
        String name = state.getFileName().toString();
        Path lock = state.resolveSibling(name.substring(0, name.length() - ".state".length()) + ".lock");
        for (Path p : List.of(state, lock)) {
            try {
                Files.deleteIfExists(p);
            } catch (IOException e) {
                // best effort: a leftover state file shows in `list`, and `delete --force` retries
            }
        }
    }

    /** The container id of a runsc state file name (null: not one). */
    static String containerOf(String fileName) {
        int end = fileName.indexOf(':') + 1 - STATE_FILE.length();
        if (end <= 0 || !fileName.endsWith(".state") || !fileName.startsWith(STATE_FILE, end)) {
            return null;
        }
        return fileName.substring(0, end);
    }

    /**
     * How runsc resolves {@code runscId}: the ids of its containers that start with it (what
     * findContainerID matches). Exactly {@code [runscId]}: the container itself; empty: runsc
     * has no such container; anything else: a runsc call would reach another container.
     */
    List<String> prefixMatches(String runscId) {
        List<String> out = new ArrayList<>();
        try (DirectoryStream<Path> s = Files.newDirectoryStream(root, runscId + "*" + STATE_FILE + "*.state")) {
            for (Path p : s) {
                String c = containerOf(p.getFileName().toString());
                if (c != null && c.startsWith(runscId)) {
                    out.add(c);
                }
            }
        } catch (IOException e) {
            // no root yet: nothing matches
        }
        java.util.Collections.sort(out);
        return out;
    }

    /** Every runsc container id in the root (runsc's own list, from its state file names). */
    List<String> runscIds() {
        return prefixMatches("");
    }

    /** The sandbox a container runs in, from runsc's state file: its id and host pid. */
    record Sandbox(String id, int pid) {
    }

    /** The container's sandbox (null: runsc has no state for it, or it cannot be read). */
    Sandbox sandbox(String runscId) {
        Path p = runscState(runscId);
        if (p == null) {
            return null;
        }
        try {
            String json = Files.readString(p);
            // runsc writes Go's compact JSON, "sandbox":{"id":"…","pid":N: no Jackson on start's path
            java.util.regex.Matcher m = SANDBOX.matcher(json);
            if (m.find()) {
                return new Sandbox(m.group(1), Integer.parseInt(m.group(2)));
            }
            JsonNode sb = JsonTree.read(json.getBytes(StandardCharsets.UTF_8)).path("sandbox");
            return new Sandbox(sb.path("id").asText(""), sb.path("pid").asInt(0));
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /**
     * The status runsc's state file records for the container ("" if none or unreadable): what
     * runsc itself starts from, read without running runsc (~100 ms a call).
     */
    String recordedStatus(String runscId) {
        Path p = runscState(runscId);
        if (p == null) {
            return "";
        }
        try {
            String json = Files.readString(p);
            // Go's json.Marshal of runsc's Container: ..."consoleSocket":"…","status":"running",... after the spec (whose
            // annotations could hold the same words: the last match is runsc's own); no Jackson on start's path
            java.util.regex.Matcher m = STATUS.matcher(json);
            String status = null;
            while (m.find()) {
                status = m.group(1);
            }
            return status != null ? status : JsonTree.read(json.getBytes(StandardCharsets.UTF_8)).path("status").asText("");
        } catch (IOException | RuntimeException e) {
            return "";
        }
    }

    private static final Pattern STATUS = Pattern.compile("\"consoleSocket\":\"(?:[^\"\\\\]|\\\\.)*\",\"status\":\"(\\w+)\"");

    /** The sandbox's host pid from runsc's state file (0: no sandbox, or unreadable). */
    int sandboxPid(String runscId) {
        Sandbox sb = sandbox(runscId);
        return sb == null ? 0 : sb.pid();
    }

    /**
     * Whether {@code pid} is sandbox {@code sandboxId}'s runsc-sandbox process, alive: its
     * argv is {@code runsc-sandbox --root=ROOT ... boot ... ID} (runsc/sandbox/sandbox.go
     * createSandboxProcess). A zombie has an empty /proc/PID/cmdline (proc(5)), and a pid the
     * kernel has given to another process has another command line: neither is the sandbox.
     */
    boolean sandboxAlive(int pid, String sandboxId) {
        if (pid <= 0) {
            return false;
        }
        try {
            String[] argv = new String(Files.readAllBytes(proc.resolve(pid + "/cmdline")), StandardCharsets.UTF_8)
                    .split("\0");
            return argv.length > 2 && argv[0].equals("runsc-sandbox") && argv[argv.length - 1].equals(sandboxId)
                    && List.of(argv).contains("--root=" + root);
        } catch (java.nio.file.NoSuchFileException e) {
            return false; // gone
        } catch (IOException e) {
            return true; // cannot tell (/proc mounted with hidepid=1, proc(5)): runsc's own status stands
        }
    }

    /**
     * Why this caller cannot see container {@code id} here (null: nothing says it exists): gvshim's
     * directory of it, or runsc's state file of a container runsc alone created (its name as
     * runsc gives a container of its own sandbox), belongs to another user who keeps it from
     * this one (root's --root used without root). Such a container does not exist for this
     * caller, as runc says; but unlike a container that is not there, deleting it must fail.
     */
    String hiddenBecause(String id, int euid) {
        for (Path p : List.of(dir(id), root.resolve(id + STATE_FILE + id + ".state"))) {
            try {
                if (Files.exists(p, java.nio.file.LinkOption.NOFOLLOW_LINKS) && !Files.isReadable(p)) {
                    Object owner = Files.getAttribute(p, "unix:uid", java.nio.file.LinkOption.NOFOLLOW_LINKS);
                    return p + " belongs to uid " + owner + ", not to uid " + euid + ": only that user can manage it";
                }
            } catch (IOException | RuntimeException e) {
                // cannot tell: as if it were not there
            }
        }
        return null;
    }

    public Container load(String id) {
        try {
            java.util.Properties p = new java.util.Properties();
            try (java.io.Reader r = Files.newBufferedReader(dir(id).resolve(STATE))) {
                p.load(r);
            }
            return Container.of(p);
        } catch (IOException e) {
            return null;
        }
    }

    /** runsc id to gvshim's record, for every container gvshim has a record of here (what `list` translates). */
    java.util.Map<String, Container> byRunscId() {
        java.util.Map<String, Container> out = new java.util.HashMap<>();
        try (DirectoryStream<Path> s = Files.newDirectoryStream(root, "*.gvshim")) {
            for (Path d : s) {
                String name = d.getFileName().toString();
                Container c = load(name.substring(0, name.length() - ".gvshim".length()));
                if (c != null) {
                    out.put(c.runscId(), c);
                }
            }
        } catch (IOException e) {
            // no root: no records
        }
        return out;
    }

    /** A signal sent to a paused container, held for its resume ({@link HeldSignals}). */
    record HeldSignal(int signal, boolean all) {
    }

    void holdSignal(String id, HeldSignal s) throws IOException {
        HeldSignals.hold(dir(id), s);
    }

    List<HeldSignal> takeHeldSignals(String id) {
        return HeldSignals.take(dir(id));
    }

    /** Creates the container's directory and state; fails if the id is taken (atomically: mkdir). */
    public void create(Container c) throws IOException {
        create(c, List.of());
    }

    /** In a container's directory while its create runs ({@link CreateMark}). */
    static final String CREATING = CreateMark.FILE;

    /**
     * Creates the container's directory and state, marked as being created by {@code creators}
     * until {@link #created}: a create that never finished (its JVM, or the server that ran it and
     * the caller, killed) leaves a record nobody else would ever delete, and the mark tells the
     * next call ({@link #abandoned}) that it may. The mark is written (atomically: rename) before
     * the record, so no record of an unfinished create is without it.
     */
    public void create(Container c, List<CreateMark.Creator> creators) throws IOException {
        Files.createDirectories(root, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx--x--x")));
        Path d = dir(c.id());
        Files.createDirectory(d, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        Files.createDirectory(d.resolve("logs"));
        CreateMark.write(d, creators);
        save(c);
    }

    /** The container's create has finished: it is an ordinary container from now on. */
    public void created(String id) throws IOException {
        CreateMark.clear(dir(id));
    }

    /**
     * Whether the container is marked as being created ({@link #create(Container, List)}) by
     * processes that are all gone: no one will finish that create nor clean up after it. False
     * while any of them lives, and when it cannot be told (an unreadable mark).
     */
    public boolean abandoned(String id) {
        return CreateMark.abandoned(dir(id));
    }

    /** The ids of the containers here whose create was {@link #abandoned}. */
    public List<String> abandonedIds() {
        List<String> out = new ArrayList<>();
        try (DirectoryStream<Path> s = Files.newDirectoryStream(root, "*.gvshim")) {
            for (Path d : s) {
                String name = d.getFileName().toString();
                String id = name.substring(0, name.length() - ".gvshim".length());
                if (abandoned(id)) {
                    out.add(id);
                }
            }
        } catch (IOException e) {
            // no root: nothing here
        }
        java.util.Collections.sort(out);
        return out;
    }

    public void save(Container c) throws IOException {
        Path tmp = dir(c.id()).resolve(STATE + ".tmp");
        try (java.io.Writer w = Files.newBufferedWriter(tmp)) {
            c.properties().store(w, "gvshim's record of container " + c.id());
        }
        Files.move(tmp, dir(c.id()).resolve(STATE), java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    /** Removes gvshim's directory of the container (runsc removes its own files at delete). */
    public void remove(String id) {
        // best effort: a leftover directory makes the id look taken, so the next create says so
        FileTrees.delete(dir(id));
        Bundle.removeMounts(root, id);
    }
}

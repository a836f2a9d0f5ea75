package dev.gvshim.runtime;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gvshim.oci.JsonTree;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The state directory ({@code --root}), shared with runc and runsc as Docker passes it. runsc
 * keeps {@code SANDBOX_sandbox:ID.state}; gvshim keeps, per container, {@code ID.gvshim/}:
 * {@code gvshim.state} (how the container was created: runsc flags, rootless holder), runsc's
 * own log and debug logs (for diagnosis), and a rootless container's rewritten bundle.
 */
public final class Containers {
    /** runc's rule (`^[\w+-\.]+$`), plus a length that keeps runsc's state file name under 255 bytes. */
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9_+\\-.]+");
    public static final int MAX_ID = 120;

    private final Path root;

    public Containers(Path root) {
        this.root = root;
    }

    public Path root() {
        return root;
    }

    /** Null if {@code id} is usable, else why not (runc's "invalid container id format" plus the rule). */
    public static String invalidId(String id) {
        if (id == null || id.isEmpty()) {
            return "container id cannot be empty";
        }
        if (id.length() > MAX_ID) {
            return "invalid container id format: " + id.substring(0, 16) + "... is " + id.length()
                    + " characters long (at most " + MAX_ID + ")";
        }
        if (!ID.matcher(id).matches() || id.equals(".") || id.equals("..")) {
            return "invalid container id format: \"" + id + "\" (letters, digits, and _ + - . only; not . or ..)";
        }
        return null;
    }

    /** What gvshim recorded at create. */
    public record Container(String id, Path bundle, boolean rootless, String runsc, List<String> flags, int holderPid,
            long holderStart) {
        /** As {@link java.util.Properties}: read on every verb, where Jackson's first use would cost ~20 ms. */
        java.util.Properties properties() {
            java.util.Properties p = new java.util.Properties();
            p.setProperty("id", id);
            p.setProperty("bundle", bundle.toString());
            p.setProperty("rootless", Boolean.toString(rootless));
            p.setProperty("runsc", runsc == null ? "" : runsc);
            p.setProperty("flags", Integer.toString(flags.size()));
            for (int i = 0; i < flags.size(); i++) {
                p.setProperty("flag." + i, flags.get(i));
            }
            if (holderPid > 0) {
                p.setProperty("holderPid", Integer.toString(holderPid));
                p.setProperty("holderStart", Long.toString(holderStart));
            }
            return p;
        }

        static Container of(java.util.Properties p) {
            List<String> flags = new ArrayList<>();
            int n = Integer.parseInt(p.getProperty("flags", "0"));
            for (int i = 0; i < n; i++) {
                flags.add(p.getProperty("flag." + i));
            }
            String runsc = p.getProperty("runsc", "");
            return new Container(p.getProperty("id", ""), Path.of(p.getProperty("bundle", "/")),
                    Boolean.parseBoolean(p.getProperty("rootless")), runsc.isEmpty() ? null : runsc, flags,
                    Integer.parseInt(p.getProperty("holderPid", "0")), Long.parseLong(p.getProperty("holderStart", "0")));
        }

        public Container withHolder(int pid, long start) {
            return new Container(id, bundle, rootless, runsc, flags, pid, start);
        }
    }

    /** gvshim's record of a container, in its directory. */
    static final String STATE = "gvshim.state";
    private static final java.util.regex.Pattern SANDBOX_PID =
            java.util.regex.Pattern.compile("\"sandbox\":\\{\"id\":\"[^\"]*\",\"pid\":(\\d+)");

    public Path dir(String id) {
        return root.resolve(id + ".gvshim");
    }

    public Path debugLogs(String id) {
        return dir(id).resolve("logs");
    }

    /** Whether runsc or gvshim knows a container by this id. */
    public boolean exists(String id) {
        return Files.exists(dir(id).resolve(STATE)) || runscState(id) != null;
    }

    /** runsc's state file for the container, whichever sandbox it belongs to (null: none). */
    Path runscState(String id) {
        try (DirectoryStream<Path> s = Files.newDirectoryStream(root, "*_sandbox:" + id + ".state")) {
            for (Path p : s) {
                return p;
            }
        } catch (IOException e) {
            // no root yet
        }
        return null;
    }

    /** The sandbox's host pid from runsc's state file (0: no sandbox, or unreadable). */
    int sandboxPid(String id) {
        Path p = runscState(id);
        if (p == null) {
            return 0;
        }
        try {
            String json = Files.readString(p);
            // runsc writes Go's compact JSON, "sandbox":{"id":"…","pid":N: no Jackson on start's path
            java.util.regex.Matcher m = SANDBOX_PID.matcher(json);
            return m.find() ? Integer.parseInt(m.group(1))
                    : JsonTree.read(json.getBytes(java.nio.charset.StandardCharsets.UTF_8)).path("sandbox").path("pid").asInt(0);
        } catch (IOException | RuntimeException e) {
            return 0;
        }
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

    /** Creates the container's directory and state; fails if the id is taken (atomically: mkdir). */
    public void create(Container c) throws IOException {
        Files.createDirectories(root, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx--x--x")));
        Path d = dir(c.id());
        Files.createDirectory(d, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        Files.createDirectory(d.resolve("logs"));
        save(c);
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
        Path d = dir(id);
        if (!Files.exists(d)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(d)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            // best effort: a leftover directory makes the id look taken, so say so on the next create
        }
    }
}

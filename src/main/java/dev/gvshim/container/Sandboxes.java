package dev.gvshim.container;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gvshim.diagnose.IoError;
import dev.gvshim.failure.Failure;
import dev.gvshim.failure.GvshimException;
import dev.gvshim.oci.JsonTree;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The detached sandboxes of `gvshim run -d`: containers of the runtime verbs' own state
 * directory (the default {@code --root}: per user when rootless, /run/gvshim for root), so
 * `gvshim exec`, runc's verbs and these ones all find them. What `create` does not keep is in
 * {@code ROOT/detached/} (0700, like the root): per sandbox {@code ID.json} (name, command,
 * creation time, --rm), {@code ID.log} (its stdout and stderr, 0600, written by gvshim-nsexec's
 * relay), {@code ID.bundle/} (the spec runsc read), {@code ID.then} (--rm's on-exit argv); and
 * per name {@code name.NAME} holding the id, created with O_EXCL, so that a name is taken once
 * even by two runs at the same time.
 */
public final class Sandboxes {
    /** A sandbox's name: docker's rule ([a-zA-Z0-9][a-zA-Z0-9_.-]+), at most 64 characters. */
    private static final Pattern NAME = Pattern.compile("[a-zA-Z0-9][a-zA-Z0-9_.-]{0,63}");
    private static final String[] ADJECTIVES = {"brave", "calm", "eager", "fond", "gentle", "happy", "keen", "lucid",
        "merry", "nimble", "quiet", "sharp", "swift", "tidy", "vivid", "wise"};
    private static final String[] NOUNS = {"badger", "crane", "dingo", "falcon", "gecko", "heron", "ibis", "lynx", "marten",
        "newt", "otter", "puffin", "raven", "stoat", "tapir", "wren"};

    private final Path dir;

    public Sandboxes(Path runtimeRoot) {
        this.dir = runtimeRoot.resolve("detached");
    }

    /** One detached sandbox as `run -d` recorded it. */
    public record Record(String id, String name, List<String> command, String created, boolean rm) {
    }

    public Path dir() {
        return dir;
    }

    public Path log(String id) {
        return dir.resolve(id + ".log");
    }

    public Path bundle(String id) {
        return dir.resolve(id + ".bundle");
    }

    Path then(String id) {
        return dir.resolve(id + ".then");
    }

    private Path record(String id) {
        return dir.resolve(id + ".json");
    }

    private Path nameFile(String name) {
        return dir.resolve("name." + name);
    }

    /** Why {@code name} cannot name a sandbox (null: it can). */
    public static String invalidName(String name) {
        return NAME.matcher(name).matches() ? null : "invalid sandbox name \"" + name
                + "\" (a letter or digit, then letters, digits, and _ . -; at most 64 characters)";
    }

    /** A new id: 12 hex digits, like docker's short ones. */
    static String newId() {
        byte[] b = new byte[6];
        new SecureRandom().nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    /** A generated name, docker's way (adjective_noun), with a number when that one is taken. */
    static String generatedName(java.util.random.RandomGenerator r, int attempt) {
        String n = ADJECTIVES[r.nextInt(ADJECTIVES.length)] + "_" + NOUNS[r.nextInt(NOUNS.length)];
        return attempt == 0 ? n : n + attempt;
    }

    /** Creates the directory (0700) if missing. */
    void prepare() throws IOException {
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            try {
                Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            } catch (FileAlreadyExistsException e) {
                // made meanwhile by another run
            }
        }
    }

    /**
     * Takes {@code name} for {@code id} (null: a generated one); the name taken. A name in use is
     * refused with one line.
     */
    String reserve(String name, String id) throws GvshimException, IOException {
        if (name != null) {
            if (!take(name, id)) {
                throw new GvshimException(Failure.of("SANDBOX_NAME_IN_USE", "cannot start sandbox " + name, null,
                        "the name is in use by sandbox " + resolveName(name) + " (names are unique per user, exited sandboxes"
                                + " included)", "choose another --name, or remove that one: gvshim rm -f " + name));
            }
            return name;
        }
        SecureRandom r = new SecureRandom();
        for (int attempt = 0;; attempt++) {
            String n = generatedName(r, attempt / 4);
            if (take(n, id)) {
                return n;
            }
        }
    }

    private boolean take(String name, String id) throws IOException {
        try {
            Files.writeString(nameFile(name), id, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
            return true;
        } catch (FileAlreadyExistsException e) {
            return false;
        }
    }

    void save(Record r) throws IOException {
        ObjectNode o = JsonTree.nodes().objectNode();
        o.put("id", r.id()).put("name", r.name()).put("created", r.created()).put("rm", r.rm());
        var cmd = o.putArray("command");
        r.command().forEach(cmd::add);
        Files.write(record(r.id()), JsonTree.compact(o).getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    /** The sandbox recorded under {@code id} (null: none). */
    public Record load(String id) {
        try {
            JsonNode j = JsonTree.read(Files.readAllBytes(record(id)));
            List<String> cmd = new ArrayList<>();
            j.path("command").forEach(c -> cmd.add(c.asText()));
            return new Record(j.path("id").asText(id), j.path("name").asText(), cmd, j.path("created").asText(),
                    j.path("rm").asBoolean());
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    private String resolveName(String name) {
        try {
            return Files.readString(nameFile(name)).strip();
        } catch (IOException e) {
            return null;
        }
    }

    /**
     * The sandbox a user means by {@code word}: its name, else its id, else the one id that starts
     * with it (as docker takes a short id). Null: none.
     */
    public Record find(String word) {
        if (invalidName(word) != null) {
            return null;
        }
        String id = resolveName(word);
        if (id != null && load(id) != null) {
            return load(id);
        }
        Record exact = load(word);
        if (exact != null) {
            return exact;
        }
        List<Record> prefixed = all().stream().filter(r -> r.id().startsWith(word)).toList();
        return prefixed.size() == 1 ? prefixed.getFirst() : null;
    }

    /** Every recorded sandbox, oldest first. */
    public List<Record> all() {
        List<Record> out = new ArrayList<>();
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir, "*.json")) {
            for (Path p : s) {
                String f = p.getFileName().toString();
                Record r = load(f.substring(0, f.length() - ".json".length()));
                if (r != null) {
                    out.add(r);
                }
            }
        } catch (IOException e) {
            // no directory yet: no sandboxes
        }
        out.sort(Comparator.comparing(Record::created).thenComparing(Record::id));
        return out;
    }

    /** Removes everything kept for {@code id} (and its name, if it is still this sandbox's). */
    void remove(String id, String name) throws GvshimException {
        try {
            if (name != null && id.equals(resolveName(name))) {
                Files.deleteIfExists(nameFile(name));
            }
            Files.deleteIfExists(then(id));
            Files.deleteIfExists(log(id));
            Path b = bundle(id);
            Files.deleteIfExists(b.resolve("config.json"));
            Files.deleteIfExists(b);
            Files.deleteIfExists(record(id)); // last: a sandbox half removed is still listed
        } catch (IOException e) {
            throw new GvshimException(Failure.of("SANDBOX_STATE_IO", "cannot remove the state of sandbox " + id + " in " + dir,
                    null, IoError.reason(e, dir), "check free space and permissions of " + dir));
        }
    }
}

package dev.gvshim.container;

import dev.gvshim.failure.Failure;
import dev.gvshim.failure.GvshimException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * {@code gvshim run -u USER[:GROUP]}: names and ids, resolved as docker (runc's
 * libcontainer/user GetExecUser) does, in the sandbox's own /etc/passwd and /etc/group, never
 * the host's (unless the root file system is the host's /):
 * <ul>
 * <li>USER is a name of /etc/passwd, or a number (a uid that need not be listed there);</li>
 * <li>without GROUP, the group is the user's primary group from /etc/passwd (a number not
 * listed there: the same number as the uid, gvshim's rule before names were known);</li>
 * <li>GROUP is a name of /etc/group, or a number;</li>
 * <li>the supplementary groups are those of /etc/group that list the user's name.</li>
 * </ul>
 *
 * @param user  a name or a number
 * @param group a name, a number, or null
 */
public record RunUser(String user, String group) {
    /** The largest /etc/passwd or /etc/group read (a FIFO or /dev/zero there would be read until memory runs out). */
    static final long FILE_MAX = 4 * 1024 * 1024;

    /** What the sandbox's process runs as: its ids, supplementary groups, and home directory (null: none listed). */
    public record Ids(long uid, long gid, List<Long> additionalGids, String home) {
    }

    /** Parses USER[:GROUP]; IllegalArgumentException carries the one-line complaint. */
    public static RunUser parse(String s) {
        String[] f = s.split(":", -1);
        if (f.length > 2 || f[0].isEmpty() || (f.length == 2 && f[1].isEmpty())) {
            throw new IllegalArgumentException("--user " + s + ": expected USER[:GROUP] (names or numeric ids)");
        }
        for (String x : f) {
            if (isNumber(x) ? !fitsId(x) : x.contains("/") || x.contains("\n")) {
                throw new IllegalArgumentException("--user " + s + ": " + x + " is neither a numeric id below 2^32-1 nor a name");
            }
        }
        return new RunUser(f[0], f.length == 2 ? f[1] : null);
    }

    /** Whether only numbers were given (nothing to look up, apart from the supplementary groups). */
    public boolean numeric() {
        return isNumber(user) && (group == null || isNumber(group));
    }

    /** The uid when given as a number (to decide before the files are read), else null. */
    public Long numericUid() {
        return isNumber(user) ? Long.parseLong(user) : null;
    }

    /**
     * Resolves against the sandbox's files: {@code etc} maps "/etc/passwd" and "/etc/group" to
     * the host path that holds them in the sandbox (a bind mount's source, or the root file
     * system's file), {@code shown} to how the message names it.
     */
    public Ids resolve(Function<String, Path> etc) throws GvshimException {
        Path passwdFile = etc.apply("/etc/passwd");
        // a number needs no entry (only its group and groups if it has one), a name does
        List<String[]> passwd = isNumber(user) ? readQuietly(passwdFile, 7) : read(passwdFile, 7, "user " + user);
        String[] entry = null;
        for (String[] p : passwd) {
            if (isNumber(user) ? p[2].equals(String.valueOf(Long.parseLong(user))) : p[0].equals(user)) {
                entry = p;
                break;
            }
        }
        if (entry == null && !isNumber(user)) {
            throw new GvshimException(Failure.of("USER_UNKNOWN", "cannot run as user " + user, null,
                    "no such user in " + passwdFile + " (the sandbox's /etc/passwd; -u names are looked up there, not on"
                            + " this host, unless the root file system is /)",
                    "use a name listed there, or a numeric id: -u UID[:GID]"));
        }
        long uid = isNumber(user) ? Long.parseLong(user) : parseId(entry[2], passwdFile);
        long gid = entry != null ? parseId(entry[3], passwdFile) : uid;
        Path groupFile = etc.apply("/etc/group");
        List<String[]> groups = group != null && !isNumber(group) ? read(groupFile, 4, "group " + group)
                : readQuietly(groupFile, 4);
        if (group != null) {
            if (isNumber(group)) {
                gid = Long.parseLong(group);
            } else {
                Long found = null;
                for (String[] g : groups) {
                    if (g[0].equals(group)) {
                        found = parseId(g[2], groupFile);
                        break;
                    }
                }
                if (found == null) {
                    throw new GvshimException(Failure.of("GROUP_UNKNOWN", "cannot run as group " + group, null,
                            "no such group in " + groupFile + " (the sandbox's /etc/group; -u names are looked up there,"
                                    + " not on this host, unless the root file system is /)",
                            "use a group listed there, or a numeric id: -u USER:GID"));
                }
                gid = found;
            }
        }
        List<Long> extra = new ArrayList<>();
        if (entry != null) {
            for (String[] g : groups) {
                for (String member : g[3].split(",")) {
                    if (member.strip().equals(entry[0]) && isNumber(g[2])) {
                        long id = Long.parseLong(g[2]);
                        if (id != gid && !extra.contains(id)) {
                            extra.add(id);
                        }
                    }
                }
            }
        }
        return new Ids(uid, gid, List.copyOf(extra), entry == null || entry[5].isEmpty() ? null : entry[5]);
    }

    private static boolean isNumber(String s) {
        return !s.isEmpty() && s.chars().allMatch(Character::isDigit);
    }

    private static boolean fitsId(String s) {
        // 4294967295 is (uid_t) -1, "no id" to chown(2) and setresuid(2)
        return s.length() <= 10 && Long.parseLong(s) < 4294967295L;
    }

    private static long parseId(String s, Path file) throws GvshimException {
        if (!isNumber(s) || !fitsId(s)) {
            throw new GvshimException(Failure.of("USER_FILE_UNREADABLE", "cannot read " + file, null,
                    "an entry has the id \"" + s + "\", which is not a number", "fix the file"));
        }
        return Long.parseLong(s);
    }

    /** A file that may be absent: numeric ids need no file, only its entry if there is one. */
    private static List<String[]> readQuietly(Path file, int fields) {
        try {
            return file == null || !Files.exists(file) ? List.of() : read(file, fields, "");
        } catch (GvshimException e) {
            return List.of();
        }
    }

    /** The colon-separated lines of {@code file} with at least {@code fields} fields; {@code need} says what was looked up. */
    private static List<String[]> read(Path file, int fields, String need) throws GvshimException {
        String why;
        try {
            if (file == null) {
                why = "the sandbox has no such file";
            } else if (!Files.isRegularFile(file)) {
                why = Files.exists(file, LinkOption.NOFOLLOW_LINKS) ? "not a regular file" : "no such file";
            } else if (Files.size(file) > FILE_MAX) {
                why = "larger than " + FILE_MAX / 1024 / 1024 + " MiB";
            } else {
                List<String[]> out = new ArrayList<>();
                for (String line : new String(Files.readAllBytes(file), StandardCharsets.UTF_8).split("\n")) {
                    if (line.isBlank() || line.startsWith("#") || line.startsWith("+") || line.startsWith("-")) {
                        continue; // NIS compat lines (+/-) name other sources: nothing a sandbox can ask
                    }
                    String[] f = line.split(":", -1);
                    if (f.length >= fields) {
                        out.add(f);
                    }
                }
                return out;
            }
        } catch (IOException e) {
            why = dev.gvshim.diagnose.IoError.reason(e);
        }
        throw new GvshimException(Failure.of("USER_FILE_UNREADABLE", "cannot look up " + need, null,
                (file == null ? "/etc/" : file + ": ") + why + " (-u names are looked up in the sandbox's own files)",
                "use numeric ids: -u UID[:GID]"));
    }

    /**
     * The host path of {@code path} (absolute, inside the sandbox) in {@code root}, symbolic links
     * resolved inside the root as the sandbox would resolve them (an absolute target starts again
     * at {@code root}, ".." stops there), so that a root file system's /etc/passwd that is a link
     * never reads a host file. Null when a link loops or goes more than 40 deep (ELOOP).
     */
    public static Path inRoot(Path root, String path) {
        List<String> todo = new ArrayList<>(List.of(path.split("/")));
        List<String> done = new ArrayList<>();
        int links = 0;
        while (!todo.isEmpty()) {
            String c = todo.removeFirst();
            if (c.isEmpty() || c.equals(".")) {
                continue;
            }
            if (c.equals("..")) {
                if (!done.isEmpty()) {
                    done.removeLast();
                }
                continue;
            }
            done.add(c);
            Path host = root.resolve(String.join("/", done));
            if (Files.isSymbolicLink(host)) {
                if (++links > 40) {
                    return null;
                }
                String target;
                try {
                    target = Files.readSymbolicLink(host).toString();
                } catch (IOException e) {
                    return host;
                }
                done.removeLast();
                if (target.startsWith("/")) {
                    done.clear();
                }
                todo.addAll(0, List.of(target.split("/")));
            }
        }
        return root.resolve(String.join("/", done));
    }
}

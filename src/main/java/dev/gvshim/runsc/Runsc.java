package dev.gvshim.runsc;

import dev.gvshim.failure.Failure;
import dev.gvshim.failure.GvshimException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Finds the runsc binary. */
public final class Runsc {
    private Runsc() {
    }

    /** {@code --runsc PATH} if given, else the first runsc in $PATH, else the usual install dirs. */
    public static Path locate(String explicit, String pathEnv) throws GvshimException {
        return locate(explicit, pathEnv, Path.of("/"));
    }

    /** As {@link #locate(String, String)}, searching a file tree rooted at {@code root} (tests). */
    public static Path locate(String explicit, String pathEnv, Path root) throws GvshimException {
        return locate(explicit, pathEnv, root, Path.of("").toAbsolutePath());
    }

    /** As {@link #locate(String, String)}, for a caller whose working directory is {@code cwd} (a relative --runsc). */
    public static Path locateFrom(Path cwd, String explicit, String pathEnv) throws GvshimException {
        return locate(explicit, pathEnv, Path.of("/"), cwd);
    }

    private static Path locate(String explicit, String pathEnv, Path root, Path cwd) throws GvshimException {
        if (explicit != null) {
            Path p = cwd.resolve(explicit);
            if (Files.isRegularFile(p) && Files.isExecutable(p)) {
                return p;
            }
            // the runc verbs print this line; gvshim run and doctor explain RUNSC_MISSING at length (Explain.runscMissing)
            throw new GvshimException(Failure.of("RUNSC_MISSING", "cannot use runsc", null, "--runsc " + explicit + " "
                    + (Files.exists(p) ? "is not an executable file" : "does not exist"), null));
        }
        for (String dir : searchPath(pathEnv)) {
            Path p = root.resolve(dir.substring(1)).resolve("runsc");
            if (Files.isRegularFile(p) && Files.isExecutable(p)) {
                return Path.of(dir, "runsc");
            }
        }
        return null;
    }

    /** The directories searched, in order: $PATH's absolute ones, then the usual install directories, each once. */
    public static java.util.List<String> searchPath(String pathEnv) {
        java.util.LinkedHashSet<String> dirs = new java.util.LinkedHashSet<>();
        for (String dir : ((pathEnv == null ? "" : pathEnv) + ":/usr/local/bin:/usr/bin:/usr/sbin:/bin").split(":")) {
            if (dir.startsWith("/")) {
                dirs.add(dir.length() > 1 && dir.endsWith("/") ? dir.substring(0, dir.length() - 1) : dir);
            }
        }
        return java.util.List.copyOf(dirs);
    }
}

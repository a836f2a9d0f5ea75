package dev.gvshim.install;

import dev.gvshim.failure.Exit;
import dev.gvshim.failure.Failure;
import dev.gvshim.failure.GvshimException;

/**
 * gvshim install's and uninstall's refusals, one id each: INSTALL_ARGS (the runtime entry asked for cannot be
 * written: its name, path or arguments) and INSTALL_CONFIG (a configuration file gvshim install
 * will not touch, or cannot read or write). The line names the file or option, what is wrong and
 * the fix; nothing was changed.
 */
public final class InstallFailure {
    private InstallFailure() {
    }

    /** The runtime entry's name, path or arguments: a usage error (exit 2) unless {@code status} says otherwise. */
    public static GvshimException args(String line, int status) {
        return new GvshimException(new Failure("INSTALL_ARGS", line, null, null, null, status));
    }

    public static GvshimException args(String line) {
        return args(line, Exit.USAGE);
    }

    /** The file is root's and the caller is not: said before anything is tried (exit 1). */
    public static GvshimException needsRoot(java.nio.file.Path file, String verb) {
        return new GvshimException(new Failure("INSTALL_NEEDS_ROOT", "writing " + file + " needs root: run `gvshim " + verb
                + "` as root (sudo), or add --dry-run to see what it would write", null, null, null, Exit.RUNTIME));
    }

    /** A configuration file that cannot be changed safely (exit 1). */
    public static GvshimException config(String line) {
        return new GvshimException(new Failure("INSTALL_CONFIG", line, null, null, null, Exit.RUNTIME));
    }
}

package dev.gvshim.install;

import dev.gvshim.failure.GvshimException;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The runtime to register: its name, the absolute path Docker or containerd executes, and
 * the arguments Docker puts before its own (daemon.json {@code runtimeArgs}).
 *
 * @param name runtime name ({@code docker run --runtime=NAME}, the containerd runtime and RuntimeClass handler)
 * @param path absolute path of the gvshim launcher
 * @param args runtime arguments, empty for none
 */
public record RuntimeEntry(String name, String path, List<String> args) {
    /**
     * A name that is a valid containerd table key without quoting and, lower-cased, a
     * RuntimeClass handler (a DNS label). Docker itself accepts more, but reserves "runc".
     */
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_-]{0,62}");
    /**
     * Characters that survive dockerd 20.10's runtimeArgs wrapper: it writes
     * {@code #!/bin/sh\n<path> <args joined by spaces> $@} into /var/lib/docker/runtimes/NAME,
     * unquoted (moby's daemon/runtime_unix.go), so a space or a shell
     * character in an argument or the path would be re-parsed by sh.
     */
    private static final Pattern SHELL_SAFE = Pattern.compile("[A-Za-z0-9_@%+=:,./-]+");
    /** Global options Docker and containerd pass themselves: given twice, the runtime refuses every call. */
    private static final List<String> OWNED = List.of("--root", "--log", "--log-format", "-root", "-log", "-log-format");

    public RuntimeEntry {
        args = List.copyOf(args);
    }

    /** Checks what Docker or containerd would otherwise reject only when the first container starts. */
    public RuntimeEntry validated() throws GvshimException {
        if (!NAME.matcher(name).matches()) {
            throw InstallFailure.args("runtime name \"" + name + "\" is not usable: use letters, digits, '-' and '_'"
                    + " (at most 63), starting with a letter or digit");
        }
        if (name.equals("runc")) {
            throw InstallFailure.args("runtime name \"runc\" is reserved by Docker; choose another --name");
        }
        if (!path.startsWith("/")) {
            throw InstallFailure.args("--path " + path + " is not absolute; Docker and containerd need the launcher's"
                    + " absolute path");
        }
        if (!args.isEmpty() && !SHELL_SAFE.matcher(path).matches()) {
            throw InstallFailure.args("--path " + path + " has a space or shell character; dockerd writes the path"
                    + " unquoted into a shell script when there are runtime arguments; use a symlink without them");
        }
        for (String a : args) {
            if (!SHELL_SAFE.matcher(a).matches()) {
                throw InstallFailure.args("--runtime-arg '" + a + "' has a space or shell character; dockerd writes"
                        + " runtime arguments unquoted into a shell script; use NAME=VALUE forms without them");
            }
            String option = a.contains("=") ? a.substring(0, a.indexOf('=')) : a;
            if (OWNED.contains(option)) {
                throw InstallFailure.args("--runtime-arg " + a + ": Docker and containerd pass " + option
                        + " themselves; remove it");
            }
        }
        return this;
    }
}

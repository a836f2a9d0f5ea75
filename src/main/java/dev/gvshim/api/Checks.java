package dev.gvshim.api;

import dev.gvshim.container.RunRequest;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** The checks `gvshim run` makes of its options, made of a {@link SandboxBuilder}'s settings. */
final class Checks {
    private Checks() {
    }

    /**
     * The root file system ({@code root}; null with a bundle, which names its own) and the mount
     * sources exist, and a mount point the root lacks is not on a root gvshim must not modify.
     * IllegalArgumentException: the one-line complaint, naming the builder's methods.
     */
    static void paths(Path root, List<RunRequest.BindMount> mounts) {
        try {
            boolean rootVisible = root != null && RunRequest.checkRootfs(root);
            for (RunRequest.BindMount m : mounts) {
                RunRequest.checkMount(m.source() + ":" + m.destination(), m, rootVisible ? root : null);
            }
        } catch (IllegalArgumentException e) {
            // the CLI's checks name its options: here they are the builder's methods
            throw new IllegalArgumentException(e.getMessage().replaceFirst("^--rootfs ", "rootfs ").replaceFirst("^--mount ", "mount "), e);
        }
    }

    /** {@code path} if absolute; else IllegalArgumentException naming {@code what}. */
    static String absolute(String what, String path) {
        if (!path.startsWith("/")) {
            throw new IllegalArgumentException(what + ": must be an absolute path" + (what.startsWith("directory")
                    ? " inside the sandbox" : ""));
        }
        return path;
    }

    /** A gVisor platform's name, or null (runsc's default). */
    static String platform(String name) {
        if (name != null && !List.of("ptrace", "systrap", "kvm").contains(name)) {
            throw new IllegalArgumentException("platform " + name + ": expected ptrace, systrap or kvm");
        }
        return name;
    }

    /** {@code d} if positive (or zero, when {@code zero} is allowed); null passes. */
    static java.time.Duration duration(String what, java.time.Duration d, boolean zero) {
        if (d != null && (d.isNegative() || d.isZero() && !zero)) {
            throw new IllegalArgumentException(what + (zero ? " must be zero or more" : " must be positive"));
        }
        return d;
    }

    /** {@code r}, if it can be the command's stdin ({@code input}) or its stdout or stderr. */
    static java.lang.ProcessBuilder.Redirect redirect(java.lang.ProcessBuilder.Redirect r, boolean input) {
        java.lang.ProcessBuilder.Redirect.Type t = r.type();
        if (input && (t == java.lang.ProcessBuilder.Redirect.Type.WRITE || t == java.lang.ProcessBuilder.Redirect.Type.APPEND)) {
            throw new IllegalArgumentException("redirect to write to: " + r);
        }
        if (!input && t == java.lang.ProcessBuilder.Redirect.Type.READ) {
            throw new IllegalArgumentException("redirect to read from: " + r);
        }
        return r;
    }

    /** {@code KEY=VALUE} of each variable; IllegalArgumentException for a name or value execve(2) cannot pass. */
    static List<String> environment(Map<String, String> environment) {
        List<String> env = new ArrayList<>();
        environment.forEach((k, v) -> {
            if (k.isEmpty() || k.indexOf('=') >= 0 || k.indexOf('\0') >= 0 || v.indexOf('\0') >= 0) {
                throw new IllegalArgumentException("environment variable " + k + ": not a valid name or value");
            }
            env.add(k + "=" + v);
        });
        return env;
    }
}

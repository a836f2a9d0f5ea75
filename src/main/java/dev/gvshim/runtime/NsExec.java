package dev.gvshim.runtime;

import dev.gvshim.diagnose.IoError;
import dev.gvshim.linux.Trace;
import dev.gvshim.runtime.Containers.Container;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Runs one runsc call of a runtime verb through the native {@code gvshim-nsexec}: with stdio of
 * its own, relayed to the caller's (see {@link Stdio}), into a rootless container's user
 * namespace (setns to its holder's), with /proc/sys/net hidden for the calls that start a
 * sandbox network (see {@link Networks}), and in a mount namespace of runsc's own holding nodev
 * copies of the root file system and bind sources (see {@link dev.gvshim.runsc.SpecPolicy}). Started with the JDK's
 * process API, not an FFM clone: each runtime verb is a fresh JVM, where linking FFM downcalls
 * (~45 ms of generated stubs, which the AOT cache cannot keep) would cost twice what
 * `runsc state` itself takes. No Java runs in the child either way.
 */
final class NsExec {
    /** gvshim-nsexec's exit status when its own preparation failed (the error file names the step). */
    static final int FAILED = 125;

    private NsExec() {
    }

    /**
     * What runsc gets as stdin, stdout and stderr. Never the caller's own descriptors: without
     * --rootless runsc fchowns every stdio file it is given to the sandbox's user (the host's
     * /dev/null under Docker, a root terminal, the caller's files: runsc/sandbox/sandbox.go,
     * configureStdios), and gVisor writes a regular file it is given at offset 0. The relay
     * modes give runsc pipes (or a pty) that gvshim-nsexec copies to and from the caller's
     * descriptors; see native/gvshim_nsexec.c.
     */
    enum Stdio {
        /** stdout and stderr merged into {@link Ran#output()}, stdin an empty pipe: for runsc's answers (state, list). */
        CAPTURE("capture"),
        /** relayed until runsc and the container's stdio are done (a second at most after runsc's exit). */
        WAIT("wait"),
        /** relayed; when runsc exits, the rest is relayed in the background for as long as the container holds its stdio. */
        DETACH("detach"),
        /** runsc gets a new pty, relayed to the caller's terminal in raw mode (a terminal without --console-socket). */
        TERMINAL("terminal");

        final String mode;

        Stdio(String mode) {
            this.mode = mode;
        }
    }

    /** How a runsc call ended: its exit status (128+N for signal N) and, when captured, its output. */
    record Ran(int exitCode, String output) {
        boolean ok() {
            return exitCode == 0;
        }
    }

    static Path binary() {
        return Path.of(System.getProperty("gvshim.home", "."), "libexec", "gvshim-nsexec");
    }

    /**
     * Runs {@code runsc argv...} (argv without argv[0]) with {@code stdio}; {@code relayLog}: the
     * relay's options for the runtime's --log (where it says that output was lost).
     */
    static Ran run(Container ct, String runsc, List<String> args, Map<String, String> env, Stdio stdio,
            List<String> relayLog, boolean hideProcNet, Path nodevFile, Path errorFile) throws RuntimeError {
        return run(ct, runsc, args, env, stdio, relayLog, hideProcNet, nodevFile, errorFile, null);
    }

    /**
     * {@link #run}, or with {@code lines}: each line of runsc's stdout handed over as it comes
     * (a stream such as `events`), its stderr discarded (its errors are in its --log).
     * {@code nodevFile}: gvshim-nsexec's --nodev-file (the nodev copies runsc's spec names), or null.
     */
    static Ran run(Container ct, String runsc, List<String> args, Map<String, String> env, Stdio stdio,
            List<String> relayLog, boolean hideProcNet, Path nodevFile, Path errorFile,
            java.util.function.Consumer<String> lines) throws RuntimeError {
        boolean capture = stdio == Stdio.CAPTURE || lines != null;
        List<String> cmd = new ArrayList<>();
        if (ct.rootless() || hideProcNet || nodevFile != null || !capture) {
            cmd.add(binary().toString());
            if (!capture) {
                cmd.add("--relay");
                cmd.add(stdio.mode);
                cmd.addAll(relayLog);
            }
            if (ct.rootless() && ct.holderPid() > 0) {
                if (Rootless.startTime(ct.holderPid()) != ct.holderStart()) {
                    throw new RuntimeError("the user namespace of container " + ct.id() + " is gone (its holder process "
                            + ct.holderPid() + " was killed): delete the container with `delete --force " + ct.id() + "`");
                }
                cmd.add("--userns");
                cmd.add("/proc/" + ct.holderPid() + "/ns/user");
            }
            if (hideProcNet) {
                cmd.add("--hide-proc-net");
            }
            if (nodevFile != null) {
                cmd.add("--nodev-file");
                cmd.add(nodevFile.toString());
            }
            cmd.add("--error-file");
            cmd.add(errorFile.toString());
            cmd.add("--");
        }
        cmd.add(runsc);
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().clear();
        pb.environment().putAll(env);
        if (lines != null) {
            // stdin: an empty pipe (closed below), not /dev/null: runsc gets no file of the host's
            pb.redirectError(ProcessBuilder.Redirect.DISCARD);
        } else if (capture) {
            pb.redirectErrorStream(true);
        } else {
            pb.inheritIO(); // gvshim-nsexec keeps them and gives runsc pipes
        }
        try {
            Trace.mark("runsc: spawning");
            Process p = pb.start();
            Trace.mark("runsc: spawned");
            String out = "";
            if (capture) {
                p.getOutputStream().close();
            }
            if (lines != null) {
                try (java.io.BufferedReader in = new java.io.BufferedReader(new java.io.InputStreamReader(
                        p.getInputStream(), StandardCharsets.UTF_8))) {
                    for (String line = in.readLine(); line != null; line = in.readLine()) {
                        lines.accept(line);
                    }
                }
            } else if (capture) {
                try (InputStream in = p.getInputStream()) {
                    out = new String(in.readAllBytes(), StandardCharsets.UTF_8).strip();
                }
            }
            int code = waitFor(p);
            Trace.mark("runsc: exited");
            if (code == FAILED && cmd.getFirst().equals(binary().toString()) && Files.exists(errorFile)) {
                throw new RuntimeError(failure(ct, Files.readString(errorFile).strip()));
            }
            return new Ran(code, out);
        } catch (IOException e) {
            throw new RuntimeError("cannot run " + cmd.getFirst() + ": " + IoError.reason(e));
        } finally {
            try {
                Files.deleteIfExists(errorFile);
            } catch (IOException e) {
                // removed with the container
            }
        }
    }

    private static int waitFor(Process p) throws RuntimeError {
        while (true) {
            try {
                return p.waitFor();
            } catch (InterruptedException e) {
                // a runtime call is never interrupted on purpose: keep waiting for runsc
            }
        }
    }

    /** "STEP ERRNO" from gvshim-nsexec as a user's one line. */
    static String failure(Container ct, String line) {
        int sp = line.lastIndexOf(' ');
        String step = sp > 0 ? line.substring(0, sp) : line;
        int errno;
        try {
            errno = Integer.parseInt(line.substring(sp + 1));
        } catch (NumberFormatException e) {
            errno = 0;
        }
        String name = dev.gvshim.linux.Errno.name(errno);
        String what = "cannot run runsc for container " + ct.id() + ": " + step + " failed with " + name;
        if (step.startsWith("open(userns)") || step.startsWith("setns")) {
            return what + ": the container's user namespace is gone or not ours; delete it with `delete --force " + ct.id()
                    + "` and create it again";
        }
        if (step.startsWith("mount(MS_BIND") || step.startsWith("read(nodev") || step.startsWith("open(/proc/self/mountinfo")) {
            return what + ": gvshim gives runsc nodev copies of the root file system and bind mounts, so that no host"
                    + " device node in them can be opened from the sandbox (the spec's device rules); check that the"
                    + " root file system and every bind source exist";
        }
        if (step.startsWith("unshare") || step.startsWith("mount")) {
            return what + ": gvshim runs runsc in a private mount namespace (to hide /proc/sys/net from runsc start, and"
                    + " for the nodev copies of the root file system and bind mounts), which needs CAP_SYS_ADMIN; run the"
                    + " runtime as root, or choose --network=none (runtimeArgs) so nothing is hidden";
        }
        if (step.startsWith("pipe2") || step.startsWith("posix_openpt") || step.startsWith("signalfd")
                || step.startsWith("fork")) {
            return what + ": gvshim gives runsc pipes (or a terminal) of its own in place of the caller's stdio and relays"
                    + " them, and could not make them; check the limits on open files and processes (ulimit -n, ulimit -u)"
                    + " [STDIO_RELAY]";
        }
        return what;
    }
}

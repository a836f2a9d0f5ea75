package dev.gvshim.runsc;

import dev.gvshim.call.Launch;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The one place runsc's command lines are built: a runtime verb's call to runsc
 * ({@link #launch}: a {@link Launch} for the call's {@link dev.gvshim.call.Processes}) and the
 * runsc that {@code gvshim run} clones into its user namespace ({@link #forRun}). Either goes
 * through the native {@code gvshim-nsexec} where runsc must not get the caller's stdio, must
 * enter a rootless container's user namespace (setns to its holder's), must not see
 * /proc/sys/net (the calls that start a sandbox network), or must see nodev copies of the root
 * file system and bind sources (see {@link SpecPolicy}); see native/gvshim_nsexec.c.
 */
public final class RunscCommand {
    /** gvshim-nsexec's exit status when its own preparation failed (its --error-file names the step): gvshim's own. */
    public static final int NSEXEC_FAILED = dev.gvshim.failure.Exit.GVSHIM;

    /**
     * What runsc gets as stdin, stdout and stderr. Never the caller's own descriptors: without
     * --rootless runsc fchowns every stdio file it is given to the sandbox's user (the host's
     * /dev/null under Docker, a root terminal, the caller's files: runsc/sandbox/sandbox.go,
     * configureStdios), and gVisor writes a regular file it is given at offset 0. The relay
     * modes give runsc pipes (or a pty) that gvshim-nsexec copies to and from the caller's
     * descriptors.
     */
    public enum Stdio {
        /** stdout and stderr merged into the output, stdin an empty pipe: for runsc's answers (state, list). */
        CAPTURE(null),
        /** relayed until runsc and the container's stdio are done (a second at most after runsc's exit). */
        WAIT("wait"),
        /** relayed; when runsc exits, the rest is relayed in the background for as long as the container holds its stdio. */
        DETACH("detach"),
        /** runsc gets a new pty, relayed to the caller's terminal in raw mode (a terminal without --console-socket). */
        TERMINAL("terminal");

        private final String relay;

        Stdio(String relay) {
            this.relay = relay;
        }
    }

    private final Path runsc;
    private final Path root;
    private Path log;
    private Path debugLog;
    private List<String> flags = List.of();
    private List<String> verb = List.of();
    private Stdio stdio = Stdio.CAPTURE;
    private Consumer<String> lines;
    private List<String> relayLog = List.of();
    private boolean rootless;
    private Path userns;
    private boolean hideProcNet;
    private Path nodevFile;
    private Path errorFile;
    private Path output;
    private Path then;
    private Path signalArgv;
    private Path signalPidFile;
    private int rows;
    private int cols;

    private RunscCommand(Path runsc, Path root) {
        this.runsc = runsc;
        this.root = root;
    }

    /** runsc at {@code runsc} with the state directory {@code root}. */
    public static RunscCommand of(Path runsc, Path root) {
        return new RunscCommand(runsc, root);
    }

    /** runsc's --log for this call (JSON), and its --debug-log directory (null: none). */
    public RunscCommand log(Path log, Path debugLog) {
        this.log = log;
        this.debugLog = debugLog;
        return this;
    }

    /** The flags the container keeps for its lifetime. */
    public RunscCommand flags(List<String> flags) {
        this.flags = List.copyOf(flags);
        return this;
    }

    /** The verb and its arguments. */
    public RunscCommand verb(List<String> verbArgs) {
        this.verb = List.copyOf(verbArgs);
        return this;
    }

    /** stdio, and with {@link Stdio#CAPTURE} optionally each line of runsc's stdout as it comes (its stderr discarded). */
    public RunscCommand stdio(Stdio stdio, Consumer<String> lines) {
        this.stdio = stdio;
        this.lines = lines;
        return this;
    }

    /** The relay's options for the runtime's --log (where it says that output was lost). */
    public RunscCommand relayLog(List<String> options) {
        this.relayLog = List.copyOf(options);
        return this;
    }

    /** A rootless container's call: through gvshim-nsexec, into the user namespace at {@code userns} (null: its holder is not known). */
    public RunscCommand rootless(boolean rootless, Path userns) {
        this.rootless = rootless;
        this.userns = userns;
        return this;
    }

    /** /proc/sys/net hidden from runsc (see the runtime's Networks). */
    public RunscCommand hideProcNet(boolean hide) {
        this.hideProcNet = hide;
        return this;
    }

    /** gvshim-nsexec's --nodev-file: the nodev copies runsc's spec names (null: none). */
    public RunscCommand nodev(Path file) {
        this.nodevFile = file;
        return this;
    }

    /**
     * A detached sandbox's (`gvshim run -d`): with {@link Stdio#DETACH}, gvshim-nsexec's --output
     * (stdin /dev/null, stdout and stderr appended to {@code output}) and --then (the argv the
     * background relay execs when the container's stdio has closed; null: none).
     */
    public RunscCommand output(Path output, Path then) {
        this.output = output;
        this.then = then;
        return this;
    }

    /**
     * A foreground run or exec ({@link Stdio#WAIT}, {@link Stdio#TERMINAL}): the signals the caller's
     * process receives reach the container's process, as runc forwards them: gvshim-nsexec's
     * --signal-argv ({@code argv}: NUL-separated, `runsc ... kill ID`, see {@link #nulSeparated})
     * and --signal-pid-file ({@code pidFile}: runsc exec's --internal-pid-file; null for run). The
     * launch is {@link Launch.Stdio#FOREGROUND}: the caller's process sends them on to gvshim-nsexec.
     */
    public RunscCommand signals(Path argv, Path pidFile) {
        this.signalArgv = argv;
        this.signalPidFile = pidFile;
        return this;
    }

    /** With {@link Stdio#TERMINAL}: the size the new terminal starts with (the spec's process.consoleSize; 0: none). */
    public RunscCommand consoleSize(int rows, int cols) {
        this.rows = rows;
        this.cols = cols;
        return this;
    }

    /** An argv as --signal-argv and --then read it: each argument followed by a NUL. */
    public static byte[] nulSeparated(List<String> argv) {
        StringBuilder b = new StringBuilder();
        argv.forEach(a -> b.append(a).append('\0'));
        return b.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }

    /** Where gvshim-nsexec writes "STEP ERRNO" when its own preparation fails. */
    public RunscCommand errorFile(Path file) {
        this.errorFile = file;
        return this;
    }

    /** runsc's arguments after argv[0]: its state directory, log, the container's flags, the verb. */
    public List<String> runscArgs() {
        List<String> a = new ArrayList<>();
        a.add("--root=" + root);
        if (log != null) {
            a.add("--log=" + log);
            a.add("--log-format=json");
            if (debugLog != null) {
                a.add("--debug-log=" + debugLog + "/");
            }
        }
        a.addAll(flags);
        a.addAll(verb);
        return a;
    }

    /** Whether gvshim-nsexec starts runsc (else runsc is started directly: a captured answer, nothing to enter). */
    public boolean wrapped() {
        return rootless || hideProcNet || nodevFile != null || stdio != Stdio.CAPTURE;
    }

    /** The call, with runsc's environment {@code env}; {@code nsexec}: the installed gvshim-nsexec. */
    public Launch launch(Path nsexec, Map<String, String> env) {
        List<String> argv = new ArrayList<>();
        if (wrapped()) {
            argv.add(nsexec.toString());
            if (stdio != Stdio.CAPTURE) {
                argv.add("--relay");
                argv.add(stdio.relay);
                argv.addAll(relayLog);
                if (output != null && stdio == Stdio.DETACH) {
                    argv.addAll(List.of("--output", output.toString()));
                    if (then != null) {
                        argv.addAll(List.of("--then", then.toString()));
                    }
                }
                if (stdio == Stdio.DETACH && log != null && "create".equals(verb.isEmpty() ? "" : verb.getFirst())) {
                    // until `start` nothing on runsc create's stderr is the container's: its error line, which
                    // gvshim's one line already says from the --log, is held and dropped on failure
                    argv.addAll(List.of("--hold-stderr", log.toString()));
                }
                if (stdio == Stdio.TERMINAL && rows > 0 && cols > 0) {
                    argv.addAll(List.of("--console-size", rows + "x" + cols));
                }
                if (forwards()) {
                    argv.addAll(List.of("--signal-argv", signalArgv.toString()));
                    if (signalPidFile != null) {
                        argv.addAll(List.of("--signal-pid-file", signalPidFile.toString()));
                    }
                }
            }
            if (userns != null) {
                argv.add("--userns");
                argv.add(userns.toString());
            }
            if (hideProcNet) {
                argv.add("--hide-proc-net");
            }
            if (nodevFile != null) {
                argv.add("--nodev-file");
                argv.add(nodevFile.toString());
            }
            argv.add("--error-file");
            argv.add(errorFile.toString());
            argv.add("--");
        }
        argv.add(runsc.toString());
        argv.addAll(runscArgs());
        Launch.Stdio s = lines != null ? Launch.Stdio.LINES : stdio == Stdio.CAPTURE ? Launch.Stdio.CAPTURE
                : forwards() ? Launch.Stdio.FOREGROUND
                : Launch.Stdio.INHERIT; // gvshim-nsexec keeps the caller's and gives runsc pipes
        return new Launch(argv, env, s, lines);
    }

    /** Whether signals are forwarded: only a relay that waits for runsc (the foreground modes) has a process to reach. */
    private boolean forwards() {
        return signalArgv != null && (stdio == Stdio.WAIT || stdio == Stdio.TERMINAL);
    }

    /**
     * {@code gvshim run}'s runsc, cloned into the user namespace: gvshim-nsexec mounts the nodev
     * copies the spec names (the list is written before the release; no list, nothing done) in
     * a mount namespace of its own, and on failure writes runsc's kind of error line to
     * {@code runscLog}, which the waiter hands to `gvshim __explain`; then runsc run.
     *
     * @param consoleSocket runsc's --console-socket for a terminal, or null
     * @param slirp4netns   --network sandbox: the user-mode network that serves runsc's own network namespace
     *                      (/proc/sys/net hidden from runsc: see container/Networks), or null
     * @param netLog        slirp4netns's output
     */
    public static List<String> forRun(Path nsexec, Path runsc, RunscConfig config, Path nodevList, Path runscLog, Path bundle,
            Path consoleSocket, String id, Path slirp4netns, Path netLog) {
        // BUNDLE/mountpoints: the mount points missing from a generated spec's root (container/MountPoints); none: no file
        List<String> argv = new ArrayList<>(List.of(nsexec.toString(), "--own-mountns", "--nodev-file", nodevList.toString(),
                "--mountpoints-file", bundle.resolve("mountpoints").toString(),
                "--runsc-log", runscLog.toString(), "--argv0", "runsc"));
        if (slirp4netns != null) {
            argv.addAll(List.of("--hide-proc-net", "--slirp4netns", slirp4netns.toString(), "--net-log", netLog.toString()));
        }
        argv.add("--");
        argv.add(runsc.toString());
        argv.addAll(config.toFlags());
        argv.add("run");
        argv.add("--bundle=" + bundle);
        if (consoleSocket != null) {
            argv.add("--console-socket=" + consoleSocket);
        }
        argv.add(id);
        return argv;
    }
}

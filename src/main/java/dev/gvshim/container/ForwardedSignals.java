package dev.gvshim.container;

import dev.gvshim.diagnose.IoError;
import dev.gvshim.failure.GvshimException;
import dev.gvshim.runsc.RunscCommand;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The signals of a foreground `run` or `exec`: runc forwards every signal its process receives
 * (but SIGCHLD and SIGWINCH) to the container's init or the exec'd process and exits with that
 * process's status (runc's signals.go). gvshim's process is the native client or, with the server
 * off, the one-shot JVM; either sends what it receives on to gvshim-nsexec's relay
 * ({@link dev.gvshim.call.Launch.Stdio#FOREGROUND}), which runs `runsc kill` for each
 * (native/nsexec_signals.c): the process lives in gVisor's sandbox, where only runsc reaches it,
 * and `runsc run` forwards nothing itself (`runsc exec` only with a pty).
 *
 * <p>This writes the relay's --signal-argv: the container's runsc call `kill ID` as every other
 * runsc call of the container is made (its flags, a rootless container's user namespace entered
 * through gvshim-nsexec, a --log of its own), to which the relay adds --pid=N (exec) and the
 * signal's number.
 */
final class ForwardedSignals {
    private ForwardedSignals() {
    }

    /** The file, in the container's directory; {@code userns}: a rootless container's holder's namespace, or null. */
    static Path argvFile(RuntimeCall rc, Container ct, Path userns) throws GvshimException {
        Path dir = rc.store.dir(ct.id());
        String call = rc.call.id();
        RunscCommand kill = RunscCommand.of(Path.of(ct.runsc()), rc.store.root()).flags(ct.flags())
                .verb(List.of("kill", ct.runscId())).log(dir.resolve("runsc-" + call + "-signal.log"), null)
                .rootless(ct.rootless(), userns).errorFile(dir.resolve("nsexec-" + call + "-signal.err"));
        Path file = dir.resolve("signal-" + call + ".argv");
        try {
            Files.write(file, RunscCommand.nulSeparated(kill.launch(rc.call.libexec("gvshim-nsexec"), rc.call.env()).argv()));
        } catch (IOException e) {
            throw RuntimeFailures.stateIo("cannot write the state of " + ct.id() + " in " + rc.store.root() + ": "
                    + IoError.reason(e, dir));
        }
        return file;
    }

    /** What a call's forwarding leaves in the container's directory (removed when the call ends). */
    static List<Path> files(RuntimeCall rc, String id) {
        Path dir = rc.store.dir(id);
        String call = rc.call.id();
        return List.of(dir.resolve("signal-" + call + ".argv"), dir.resolve("runsc-" + call + "-signal.log"),
                dir.resolve("nsexec-" + call + "-signal.err"), execPidFile(rc, id));
    }

    /** runsc exec's --internal-pid-file: the exec'd process's pid in the sandbox, for `runsc kill --pid`. */
    static Path execPidFile(RuntimeCall rc, String id) {
        return rc.store.dir(id).resolve("exec-" + rc.call.id() + ".pid");
    }
}

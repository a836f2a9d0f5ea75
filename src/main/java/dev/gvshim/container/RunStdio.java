package dev.gvshim.container;

import dev.gvshim.linux.Linux;
import dev.gvshim.linux.Step;
import dev.gvshim.linux.SyscallException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;

/**
 * The descriptors of one `gvshim run`: the namespace child's ends (dup2'd onto runsc's 0-2) and
 * gvshim-waiter's. runsc never gets the caller's own descriptors: without --rootless it chowns
 * its stdio to the sandbox's nobody (a terminal included), and gVisor writes a regular file at
 * offset 0. Pipes (or a pty over the console socket) relayed by the waiter avoid both.
 */
final class RunStdio {
    int childIn = -1;
    int childOut = -1;
    int childErr = -1;
    int waiterIn = -1;
    int waiterOut = -1;
    int waiterErr = -1;
    int started = -1;
    int console = -1;

    /** runsc's state and debug-log directories, and the FIFO of the poststart hook. */
    static void prepareRunDir(RunDir run) throws IOException, SyscallException {
        var dirMode = PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------"));
        Files.createDirectory(run.runscRoot(), dirMode);
        Files.createDirectory(run.debugLogDir(), dirMode);
        try {
            Linux.mkfifo(run.startedFifo().toString(), 0600);
        } catch (SyscallException e) {
            throw e.in(Step.STDIO);
        }
    }

    /** Opens the started FIFO and makes the pipes (or the console socket, for a terminal). */
    void open(RunDir run, boolean terminal) throws SyscallException {
        try {
            started = Linux.open(run.startedFifo().toString(), Linux.O_RDONLY | Linux.O_NONBLOCK | Linux.O_CLOEXEC, 0);
            int[] errPipe = Linux.pipe2(Linux.O_CLOEXEC);
            waiterErr = errPipe[0];
            childErr = errPipe[1];
            if (terminal) {
                console = Linux.listenUnix(run.consoleSocket().toString());
                childIn = Linux.open("/dev/null", Linux.O_RDONLY | Linux.O_CLOEXEC, 0);
                childOut = errPipe[1];
            } else {
                int[] in = Linux.pipe2(Linux.O_CLOEXEC);
                childIn = in[0];
                waiterIn = in[1];
                int[] out = Linux.pipe2(Linux.O_CLOEXEC);
                waiterOut = out[0];
                childOut = out[1];
            }
        } catch (SyscallException e) {
            throw e.in(Step.STDIO);
        }
    }

    /** The waiter's descriptors, which it inherits at the hand-over. */
    List<Integer> waiterFds() {
        List<Integer> fds = new ArrayList<>();
        for (int fd : new int[] {waiterIn, waiterOut, waiterErr, started, console}) {
            if (fd >= 0) {
                fds.add(fd);
            }
        }
        return fds;
    }

    /** Clears close-on-exec on the waiter's descriptors. */
    void inheritWaiterEnds() throws SyscallException {
        for (int fd : waiterFds()) {
            Linux.inheritable(fd);
        }
    }

    void closeChildEnds() {
        // in terminal mode runsc's stdout and stderr are the same pipe
        Linux.closeQuietly(childIn, childOut, childErr == childOut ? -1 : childErr);
        childIn = childOut = childErr = -1;
    }

    void closeAll() {
        closeChildEnds();
        Linux.closeQuietly(waiterIn, waiterOut, waiterErr, started, console);
    }
}

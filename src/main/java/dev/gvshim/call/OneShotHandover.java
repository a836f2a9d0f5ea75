package dev.gvshim.call;

import dev.gvshim.linux.Linux;
import dev.gvshim.linux.SyscallException;
import java.io.PrintStream;

/** {@link Handover} of a one-shot gvshim: execve(2) in this process (same pid), after flushing gvshim's own output. */
public final class OneShotHandover implements Handover {
    private final PrintStream out;
    private final PrintStream err;

    public OneShotHandover(PrintStream out, PrintStream err) {
        this.out = out;
        this.err = err;
    }

    @Override
    public void exec(Exec e) throws SyscallException {
        out.flush();
        err.flush();
        for (int fd : e.fds()) {
            Linux.inheritable(fd);
        }
        if (e.cwd() != null) {
            Linux.chdir(e.cwd());
        }
        Linux.execve(e.program(), e.argv(), e.env());
    }
}

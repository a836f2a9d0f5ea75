package dev.gvshim.call;

import dev.gvshim.linux.Linux;
import dev.gvshim.linux.SyscallException;

/**
 * GVSHIM_TRACE=wait: instead of handing over, wait for the child the program would take over
 * (runsc), so that a profiler attached to the JVM (async-profiler, JFR) writes its output at a
 * normal exit. Nothing is cleaned up as the waiter would.
 */
public final class WaitingHandover implements Handover {
    @Override
    public void exec(Exec e) throws SyscallException {
        if (e.child() > 0) {
            Linux.waitpid(e.child(), 0);
        }
    }
}

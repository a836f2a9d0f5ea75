package dev.gvshim.server;

import dev.gvshim.call.Handover;
import dev.gvshim.linux.Errno;
import dev.gvshim.linux.SyscallException;
import java.io.IOException;

/**
 * {@link Handover} of a server call: the client takes the call over. `gvshim run`'s runsc is
 * forked by the client into the namespaces the server made (USERNS_SPAWN), and the client then
 * execs gvshim-waiter (EXEC) with the run's descriptors on the numbers the waiter's arguments
 * name (the server's own numbers: the client moves them there). The taker is the client's pid.
 * A client that is gone is EPIPE: the core cleans up as for any failed hand-over.
 */
final class ServerHandover implements Handover {
    private final Session session;

    ServerHandover(Session session) {
        this.session = session;
    }

    @Override
    public long taker() {
        return session.peerPid();
    }

    @Override
    public boolean forksIntoNamespaces() {
        return true;
    }

    @Override
    public int spawnInto(Spawn s) throws SyscallException {
        Session.Forked f;
        try {
            f = session.spawnInto(s.argv(), s.env(), s.userns(), s.mntns(), s.stdio());
        } catch (IOException e) {
            throw new SyscallException("sendmsg", Errno.EPIPE, "the client: " + e.getMessage());
        }
        if (f.pid() <= 0) {
            throw new SyscallException(f.call(), f.errno(), s.program());
        }
        return f.pid();
    }

    @Override
    public void exec(Exec e) throws SyscallException {
        int[] fds = e.fds().stream().mapToInt(Integer::intValue).toArray();
        try {
            // the waiter's descriptors are named by number in its arguments: the same numbers in the client
            session.exec(e.program(), e.argv(), e.env(), e.cwd(), fds, fds.clone(), -1);
        } catch (IOException x) {
            throw new SyscallException("sendmsg", Errno.EPIPE, "the client: " + x.getMessage());
        }
    }
}

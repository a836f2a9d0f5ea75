package dev.gvshim.server;

import dev.gvshim.linux.Errno;
import dev.gvshim.linux.Linux;
import dev.gvshim.linux.ProcStat;
import dev.gvshim.linux.SyscallException;
import dev.gvshim.linux.UnixSockets;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;

/** A server's files in its directory ({@link ServerDir}): the lock, the socket, the pid file, and those of dead servers. */
final class ServerFiles {
    private ServerFiles() {
    }

    /** NAME.lock, flock'ed (LOCK_EX | LOCK_NB): its descriptor, held for the server's life; -1 when another server holds it. */
    static int lock(ServerDir w) throws SyscallException {
        int lock = Linux.open(w.lock().toString(), Linux.O_RDWR | Linux.O_CREAT | Linux.O_CLOEXEC, 0600);
        try {
            Linux.flock(lock, 2 | 4);
            return lock;
        } catch (SyscallException e) {
            Linux.closeQuietly(lock);
            if (e.errno() == Errno.EAGAIN) {
                return -1;
            }
            throw e;
        }
    }

    /**
     * Binds NAME.sock (0600) and writes NAME.pid (pid and /proc start time, so that a pid reused
     * is told apart); returns the listening socket. Bound under a temporary name and renamed over
     * NAME.sock: rename(2) is atomic, so a client finds the dead server's socket (ECONNREFUSED) or
     * this one, never none. Bound through /proc/self/fd/DIRFD/NAME: no 108-byte limit on the
     * directory's path (unix(7)). Only the lock holder calls this.
     */
    static int listen(ServerDir w, long pid) throws IOException, SyscallException {
        int dirfd = Linux.open(w.dir().toString(), 0x200000 | 0x10000 | 0x20000 | Linux.O_CLOEXEC, 0); // O_PATH|O_DIRECTORY|O_NOFOLLOW
        int listener;
        try {
            String tmp = w.name() + ".sock." + pid;
            listener = UnixSockets.listen("/proc/self/fd/" + dirfd + "/" + tmp, 128);
            Files.setPosixFilePermissions(w.dir().resolve(tmp), PosixFilePermissions.fromString("rw-------"));
            Files.move(w.dir().resolve(tmp), w.socket(), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Linux.closeQuietly(dirfd);
        }
        Files.writeString(w.pidFile(), pid + " " + ProcStat.startTime(pid) + "\n", StandardCharsets.US_ASCII);
        return listener;
    }

    /**
     * Files of servers that died: this name's temporary sockets (the lock holder binds only its
     * own), and the socket and pid file of any name whose lock is free (a server killed without
     * leaving, of another build or of a namespace that is gone). Lock files stay: removing one
     * while a server of that name opens it could make two locks of one name.
     */
    static void removeStale(ServerDir w) throws IOException {
        try (var names = Files.list(w.dir())) {
            for (Path p : (Iterable<Path>) names::iterator) {
                String n = p.getFileName().toString();
                if (n.startsWith(w.name() + ".sock.")) {
                    Files.deleteIfExists(p);
                } else if (n.endsWith(".lock") && !n.equals(w.lock().getFileName().toString()) && free(p)) {
                    String stem = n.substring(0, n.length() - ".lock".length());
                    Files.deleteIfExists(p.resolveSibling(stem + ".sock"));
                    Files.deleteIfExists(p.resolveSibling(stem + ".pid"));
                }
            }
        }
    }

    /** The inode of {@code p} (not following a symbolic link), or -1 when it is gone. */
    static long inode(Path p) {
        try {
            return ((Number) Files.getAttribute(p, "unix:ino", java.nio.file.LinkOption.NOFOLLOW_LINKS)).longValue();
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /** Whether no process holds the flock of {@code lock} (taken and released at once). */
    private static boolean free(Path lock) {
        int fd = -1;
        try {
            fd = Linux.open(lock.toString(), Linux.O_RDWR | Linux.O_CLOEXEC, 0);
            Linux.flock(fd, 2 | 4); // LOCK_EX | LOCK_NB
            return true;
        } catch (SyscallException e) {
            return false;
        } finally {
            Linux.closeQuietly(fd);
        }
    }

    /** Whether lib/build-id of {@code home} still says {@code buildId} (always, without an installation). */
    static boolean ownBuild(Path home, String buildId) {
        if (home == null) {
            return true;
        }
        try {
            return java.nio.file.Files.readString(home.resolve("lib/build-id")).strip().equals(buildId);
        } catch (IOException e) {
            return false; // uninstalled
        }
    }
}

package dev.gvshim.container;

import dev.gvshim.linux.ProcStat;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.ThreadLocalRandom;

/**
 * One run's private directory inside the state directory: the generated bundle
 * (config.json), runsc's --root, its logs, the `started` fifo and the console socket.
 * gvshim-waiter removes it when the run ends; {@link #collectGarbage} removes those whose
 * owner was killed before it could (SIGKILL, OOM, power loss).
 */
public final class RunDir {
    public static final String OWNER_FILE = "owner";
    /** Present in a run directory kept for the user (--debug): garbage collection leaves it alone. */
    public static final String KEEP_FILE = "kept-for-debug";
    /** Written by whoever destroys a sandbox under its running command (a pool's removal), before the kill. */
    public static final String DESTROYED_FILE = "destroyed";
    private final Path dir;
    private final String id;

    private RunDir(Path dir, String id) {
        this.dir = dir;
        this.id = id;
    }

    /** A fresh run directory (mode 0700) with a new unique id, owned by this process (pid and start time). */
    public static RunDir create(Path stateDir) throws IOException {
        return create(stateDir, ProcessHandle.current().pid());
    }

    /**
     * A fresh run directory owned by process {@code pid}: the one that takes the run over (the
     * waiter: this process in a one-shot gvshim, the client in a server's call, whose death
     * makes the directory garbage for {@link #collectGarbage}; a server outlives its runs).
     */
    public static RunDir create(Path stateDir, long pid) throws IOException {
        long start = ProcStat.startTime(pid);
        if (start < 0) {
            throw new IOException("cannot read /proc/" + pid + "/stat (is /proc mounted?)");
        }
        for (int attempt = 0;; attempt++) {
            String id = newId();
            Path d = stateDir.resolve(id);
            try {
                Files.createDirectory(d, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
                RunDir run = new RunDir(d, id);
                run.writeOwner(pid, start);
                return run;
            } catch (FileAlreadyExistsException e) {
                if (attempt > 16) {
                    throw e;
                }
            }
        }
    }

    /**
     * Makes process {@code pid} its owner (a pooled sandbox handed to the client that runs a
     * command in it): {@link #collectGarbage} leaves it while that process lives.
     */
    public void handTo(long pid) throws IOException {
        writeOwner(pid, ProcStat.startTime(pid));
    }

    /**
     * Written whole or not at all (rename(2)): {@link #collectGarbage} of a concurrent run must never
     * read a half-written owner file, which it takes for none of ours (a pool boots several at once).
     */
    private void writeOwner(long pid, long start) throws IOException {
        Path tmp = dir.resolve(OWNER_FILE + ".new");
        Files.writeString(tmp, pid + " " + start + "\n");
        Files.move(tmp, dir.resolve(OWNER_FILE), java.nio.file.StandardCopyOption.ATOMIC_MOVE,
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }

    /** runsc accepts [A-Za-z0-9_+.-]; the id is also the directory name. */
    static String newId() {
        return "gv" + Long.toHexString(ThreadLocalRandom.current().nextLong() & 0xffff_ffff_ffffL);
    }

    public String id() {
        return id;
    }

    public Path dir() {
        return dir;
    }

    public Path config() {
        return dir.resolve("config.json");
    }

    public Path runscRoot() {
        return dir.resolve("runsc");
    }

    public Path runscLog() {
        return dir.resolve("runsc.log");
    }

    public Path debugLogDir() {
        return dir.resolve("debug");
    }

    public Path startedFifo() {
        return dir.resolve("started");
    }

    public Path consoleSocket() {
        return dir.resolve("console.sock");
    }

    public Path meta() {
        return dir.resolve("run.json");
    }

    /** slirp4netns's output (--network sandbox). */
    public Path netLog() {
        return dir.resolve("slirp4netns.log");
    }

    public Path runscStderr() {
        return dir.resolve("runsc.stderr");
    }

    /** Mount points of the nodev copies gvshim-nsexec makes, and the empty file masked files get. */
    public Path mounts() {
        return dir.resolve("mounts");
    }

    /** gvshim-nsexec's --nodev-file: pairs of NUL-terminated source and mount point. */
    public Path nodevList() {
        return dir.resolve("nodev.list");
    }

    public static RunDir existing(Path dir) {
        return new RunDir(dir, dir.getFileName().toString());
    }

    /** Removes the directory tree; best effort, never follows symlinks. */
    public void delete() {
        FileTrees.delete(dir);
    }

    /** Marks the directory as kept for the user (--debug): it outlives its run until the user removes it. */
    public void keep() throws IOException {
        Files.writeString(dir.resolve(KEEP_FILE), "gvshim run --debug keeps this directory; remove it when done\n");
    }

    /**
     * Removes run directories whose owning process is gone (its pid no longer exists or was
     * reused by a process with a different start time), except those kept for the user
     * (--debug: a later run would otherwise delete what the debug run said it kept). Returns how
     * many were removed.
     */
    public static int collectGarbage(Path stateDir) {
        int removed = 0;
        try (DirectoryStream<Path> runs = Files.newDirectoryStream(stateDir, "gv*")) {
            for (Path run : runs) {
                if (Files.isDirectory(run) && !Files.exists(run.resolve(KEEP_FILE)) && !alive(run.resolve(OWNER_FILE))) {
                    FileTrees.delete(run); // best effort: a later collectGarbage retries
                    removed++;
                }
            }
        } catch (IOException e) {
            // nothing to collect
        }
        return removed;
    }

    static boolean alive(Path ownerFile) {
        String[] f;
        try {
            f = Files.readString(ownerFile).trim().split(" ");
        } catch (IOException e) {
            // being created right now by another gvshim, or half-removed: leave it unless old
            return recent(ownerFile.getParent());
        }
        try {
            long start = ProcStat.liveStartTime(Long.parseLong(f[0])); // -1: no such process, or a zombie
            return f.length == 2 && start >= 0 && Long.parseLong(f[1]) == start; // pid reuse changes the start time
        } catch (RuntimeException e) {
            // empty or partial: created an instant ago and being written (Files.writeString creates, then
            // writes; 16 runs starting at once in one JVM met it), else not an owner file of ours
            return recent(ownerFile.getParent());
        }
    }

    private static boolean recent(Path dir) {
        try {
            return Files.getLastModifiedTime(dir).toMillis() > System.currentTimeMillis() - 60_000;
        } catch (IOException e) {
            return false;
        }
    }
}

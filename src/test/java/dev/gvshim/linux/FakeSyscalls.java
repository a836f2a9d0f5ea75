package dev.gvshim.linux;

import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * A recording fake of {@link Syscalls} for unit tests: every call is logged as a line
 * ({@link #calls()}), an errno can be injected into the next call of a name ({@link #failNext}),
 * and cloned children "run" scripted programs ({@link #program}, {@link #execFails}). Pipes keep
 * what is written to them for their read end, descriptors and children are tracked, so a test
 * can assert that nothing leaked ({@link #openFds()}, {@link #unreaped()}).
 *
 * <p>A child cloned with a sync pipe execs only if a byte was written to that pipe before it was
 * reaped (as gvshim_child: EOF on the sync pipe means exit 126 without exec); a child that was
 * sent SIGKILL is reaped as killed. Reads never block: an empty pipe reads as EOF.
 */
public final class FakeSyscalls implements Syscalls {
    /** What a program does when a child execs it: its exit code and what it writes to stdout (and stderr). */
    public record Program(int exitCode, String output) {
    }

    /** Thrown by {@link #execve}: in a real process the image is gone. */
    public static final class Exec extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Exec(String path) {
            super("execve " + path);
        }
    }

    private static final class Pipe {
        final StringBuilder data = new StringBuilder();
        int readFd;
        int writeFd;
        boolean wrote;
    }

    private static final class Proc {
        final Spawner.Request request;
        final Pipe sync;
        int signal;
        boolean reaped;

        Proc(Spawner.Request request, Pipe sync) {
            this.request = request;
            this.sync = sync;
        }
    }

    private final List<String> calls = new ArrayList<>();
    private final Map<String, Deque<Integer>> failures = new HashMap<>();
    private final Map<String, Program> programs = new HashMap<>();
    private final Map<String, Integer> execErrnos = new HashMap<>();
    private final Map<Integer, Pipe> readEnds = new HashMap<>();
    private final Map<Integer, Pipe> writeEnds = new HashMap<>();
    private final Set<Integer> open = new TreeSet<>();
    private final Map<Integer, Proc> children = new LinkedHashMap<>();
    private final Map<String, byte[]> xattrs = new HashMap<>();
    private final Set<Integer> ttys = new HashSet<>();
    private int nextFd = 100;
    private int nextPid = 1000;
    private int uid = 1000;
    private int gid = 1000;

    /** The calls made so far, one line each: "pipe2 -> 100,101", "clone /bin/x CLONE_NEWUSER|CLONE_VM -> 1000", ... */
    public List<String> calls() {
        return List.copyOf(calls);
    }

    /** The next call of {@code call} ("clone", "write", "open", ...) fails with {@code errno}; queued per call. */
    public FakeSyscalls failNext(String call, int errno) {
        failures.computeIfAbsent(call, k -> new ArrayDeque<>()).add(errno);
        return this;
    }

    /** The {@code n}-th next call of {@code call} (1: the next) fails with {@code errno}; the ones before it work. */
    public FakeSyscalls failNth(String call, int n, int errno) {
        Deque<Integer> q = failures.computeIfAbsent(call, k -> new ArrayDeque<>());
        for (int i = 1; i < n; i++) {
            q.add(0);
        }
        q.add(errno);
        return this;
    }

    /** What {@code path} does when a child execs it (default: exits 0, prints nothing). */
    public FakeSyscalls program(String path, int exitCode, String output) {
        programs.put(path, new Program(exitCode, output));
        return this;
    }

    /** A child's execve of {@code path} fails with {@code errno} (reported on the status pipe, as gvshim_child does). */
    public FakeSyscalls execFails(String path, int errno) {
        execErrnos.put(path, errno);
        return this;
    }

    public FakeSyscalls xattr(String path, String name, byte[] value) {
        xattrs.put(path + "\0" + name, value);
        return this;
    }

    public FakeSyscalls tty(int fd) {
        ttys.add(fd);
        return this;
    }

    public FakeSyscalls ids(int uid, int gid) {
        this.uid = uid;
        this.gid = gid;
        return this;
    }

    /** Descriptors opened and not closed. */
    public Set<Integer> openFds() {
        return Set.copyOf(open);
    }

    /** Children cloned and not reaped. */
    public List<Integer> unreaped() {
        return children.entrySet().stream().filter(e -> !e.getValue().reaped).map(Map.Entry::getKey).toList();
    }

    /** The request a child was cloned with. */
    public Spawner.Request request(int pid) {
        return children.get(pid).request;
    }

    /** What was written to a pipe's write end and not read yet (by its write-end descriptor). */
    public String written(int writeFd) {
        Pipe p = writeEnds.get(writeFd);
        return p == null ? null : p.data.toString();
    }

    private void log(String line) {
        calls.add(line);
    }

    private void maybeFail(String call, String detail) throws SyscallException {
        Deque<Integer> q = failures.get(call);
        if (q != null && !q.isEmpty()) {
            int errno = q.poll();
            if (errno == 0) {
                return; // a call failNth lets through
            }
            log(call + " " + detail + " -> " + Errno.name(errno));
            throw new SyscallException(call, errno, detail);
        }
    }

    private int fd() {
        int fd = nextFd++;
        open.add(fd);
        return fd;
    }

    private int[] newPipe() {
        Pipe p = new Pipe();
        p.readFd = fd();
        p.writeFd = fd();
        readEnds.put(p.readFd, p);
        writeEnds.put(p.writeFd, p);
        return new int[] {p.readFd, p.writeFd};
    }

    @Override
    public int[] pipe2(int flags) throws SyscallException {
        maybeFail("pipe2", "");
        int[] p = newPipe();
        log("pipe2 -> " + p[0] + "," + p[1]);
        return p;
    }

    @Override
    public void close(int fd) throws SyscallException {
        maybeFail("close", "fd " + fd);
        if (!open.remove(fd)) {
            log("close " + fd + " -> EBADF");
            throw new SyscallException("close", Errno.EBADF, "fd " + fd);
        }
        log("close " + fd);
    }

    @Override
    public int read(int fd, byte[] buf, int off, int len) throws SyscallException {
        maybeFail("read", "fd " + fd);
        Pipe p = readEnds.get(fd);
        if (!open.contains(fd) || p == null) {
            throw new SyscallException("read", Errno.EBADF, "fd " + fd);
        }
        byte[] all = p.data.toString().getBytes(StandardCharsets.ISO_8859_1);
        int n = Math.min(len, all.length);
        System.arraycopy(all, 0, buf, off, n);
        p.data.delete(0, n);
        return n;
    }

    @Override
    public void write(int fd, byte[] data, String what) throws SyscallException {
        String text = new String(data, StandardCharsets.ISO_8859_1);
        maybeFail("write", what);
        if (!open.contains(fd)) {
            throw new SyscallException("write", Errno.EBADF, what);
        }
        log("write " + fd + " " + (text.length() <= 40 ? "\"" + text.replace("\n", "\\n") + "\"" : data.length + " bytes")
                + " (" + what + ")");
        Pipe p = writeEnds.get(fd);
        if (p != null) {
            p.data.append(text);
            p.wrote = true;
        }
    }

    @Override
    public int open(String path, int flags, int mode) throws SyscallException {
        maybeFail("open", path);
        int fd = fd();
        log("open " + path + " -> " + fd);
        return fd;
    }

    @Override
    public void flock(int fd, int operation) throws SyscallException {
        maybeFail("flock", "fd " + fd);
        log("flock " + fd + " " + operation);
    }

    @Override
    public void inheritable(int fd) throws SyscallException {
        maybeFail("fcntl", "F_SETFD fd " + fd);
        log("inheritable " + fd);
    }

    @Override
    public void mkfifo(String path, int mode) throws SyscallException {
        maybeFail("mkfifo", path);
        log("mkfifo " + path);
    }

    @Override
    public void rmdir(String path) throws SyscallException {
        maybeFail("rmdir", path);
        log("rmdir " + path);
    }

    @Override
    public int listenUnix(String path) throws SyscallException {
        maybeFail("bind", path);
        int fd = fd();
        log("listenUnix " + path + " -> " + fd);
        return fd;
    }

    @Override
    public boolean isatty(int fd) {
        return ttys.contains(fd);
    }

    @Override
    public Linux.WaitStatus waitpid(int pid, int options) throws SyscallException {
        maybeFail("waitpid", "pid " + pid);
        Proc c = children.get(pid);
        if (c == null || c.reaped) {
            log("waitpid " + pid + " -> ECHILD");
            throw new SyscallException("waitpid", Errno.ECHILD, "pid " + pid);
        }
        c.reaped = true;
        int raw;
        if (c.signal != 0) {
            raw = c.signal;
        } else if (c.sync != null && !c.sync.wrote) {
            raw = 126 << 8; // gvshim_child: EOF on the sync pipe, never exec'd
        } else if (execErrnos.containsKey(c.request.path())) {
            raw = 127 << 8;
        } else {
            raw = programs.getOrDefault(c.request.path(), new Program(0, "")).exitCode() << 8;
        }
        Linux.WaitStatus st = new Linux.WaitStatus(pid, raw);
        log("waitpid " + pid + " -> " + st);
        return st;
    }

    @Override
    public void chdir(String path) throws SyscallException {
        maybeFail("chdir", path);
        log("chdir " + path);
    }

    @Override
    public void kill(int pid, int sig) throws SyscallException {
        maybeFail("kill", "pid " + pid);
        Proc c = children.get(pid);
        if (c == null || c.reaped) {
            log("kill " + pid + " " + sig + " -> ESRCH");
            throw new SyscallException("kill", Errno.ESRCH, "pid " + pid + " signal " + sig);
        }
        log("kill " + pid + " " + sig);
        if (sig == Linux.SIGKILL || sig == Linux.SIGTERM) {
            c.signal = sig;
        }
    }

    @Override
    public long prctl(int op, long arg2, long arg3, long arg4, long arg5) throws SyscallException {
        maybeFail("prctl", "op " + op);
        log("prctl " + op);
        return 0;
    }

    @Override
    public int getuid() {
        return uid;
    }

    @Override
    public int geteuid() {
        return uid;
    }

    @Override
    public int getgid() {
        return gid;
    }

    @Override
    public int getegid() {
        return gid;
    }

    @Override
    public int getpid() {
        return 1;
    }

    @Override
    public Optional<byte[]> getxattr(String path, String name) throws SyscallException {
        maybeFail("getxattr", path + " " + name);
        return Optional.ofNullable(xattrs.get(path + "\0" + name));
    }

    @Override
    public void unshare(int flags) throws SyscallException {
        maybeFail("unshare", "0x" + Integer.toHexString(flags));
        log("unshare 0x" + Integer.toHexString(flags));
    }

    @Override
    public void setns(int fd, int nstype) throws SyscallException {
        maybeFail("setns", "fd " + fd);
        log("setns " + fd);
    }

    @Override
    public void execve(String path, List<String> argv, List<String> envp) throws SyscallException {
        maybeFail("execve", path);
        log("execve " + path + " " + argv);
        throw new Exec(path);
    }

    @Override
    public Spawner.Child clone(Spawner.Request r, int cloneFlags, Step step) throws SyscallException {
        int[] status = newPipe();
        String flags = Spawner.describe(cloneFlags);
        try {
            maybeFail("clone", flags);
        } catch (SyscallException e) {
            open.remove(status[0]);
            open.remove(status[1]);
            throw e.in(step);
        }
        int pid = nextPid++;
        Proc c = new Proc(r, r.syncFd() >= 0 ? readEnds.get(r.syncFd()) : null);
        children.put(pid, c);
        log("clone " + r.path() + " " + flags + " -> " + pid);
        Integer execErrno = execErrnos.get(r.path());
        Pipe st = readEnds.get(status[0]);
        if (execErrno != null) {
            byte[] report = new byte[8];
            report[0] = 8; // GVSHIM_STEP_EXEC
            report[4] = (byte) (int) execErrno;
            st.data.append(new String(report, StandardCharsets.ISO_8859_1));
        } else {
            Program p = programs.get(r.path());
            Pipe out = writeEnds.get(r.stdout());
            if (p != null && out != null) {
                out.data.append(p.output());
            }
        }
        open.remove(status[1]); // the child's end: close-on-exec
        return new Spawner.Child(this, pid, status[0], r.path(), null);
    }
}

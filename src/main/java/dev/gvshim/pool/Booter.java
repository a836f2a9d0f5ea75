package dev.gvshim.pool;

import dev.gvshim.call.Call;
import dev.gvshim.container.PooledRun;
import dev.gvshim.container.RunFailed;
import dev.gvshim.container.RunForeground;
import dev.gvshim.failure.Failure;
import dev.gvshim.failure.GvshimException;
import dev.gvshim.linux.Linux;
import dev.gvshim.linux.SyscallException;
import dev.gvshim.linux.UnixSockets;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Boots one sandbox of a pool's profile ({@link SandboxPool.Maker}) with `gvshim run`'s own
 * core ({@link RunForeground#boot}), on the calling thread (a filler thread that lives as long
 * as the server: runsc's PR_SET_PDEATHSIG is that thread's), and waits until its init runs
 * (the poststart hook opened the `started` FIFO). A runsc that fails is explained as `gvshim
 * run` explains it, with the same ids as doctor.
 */
final class Booter implements SandboxPool.Maker {
    private static final int WNOHANG = 1;
    private static final long READY_WITHIN_NANOS = 60_000_000_000L;
    private final Call call;
    private final PoolSpec spec;

    private volatile java.util.Set<String> mountPoints;

    Booter(Call call, PoolSpec spec) {
        this.call = call;
        this.spec = spec;
    }

    @Override
    public java.util.Set<String> mountPoints() {
        java.util.Set<String> m = mountPoints;
        if (m == null) {
            try {
                m = PooledRun.mountPoints(call, spec.template());
            } catch (GvshimException e) {
                m = java.util.Set.of(); // the bundle cannot be read: no sandbox boots either, and the run gets why
            }
            mountPoints = m;
        }
        return m;
    }

    @Override
    public Sandbox make() throws GvshimException {
        AtomicReference<RunForeground.Booted> got = new AtomicReference<>();
        new RunForeground(call, spec.template()).boot(got::set);
        RunForeground.Booted b = got.get();
        int pid = b.runscPid();
        boolean ok = false;
        boolean reaped = false;
        int user = -1;
        int mnt = -1;
        try {
            long end = System.nanoTime() + READY_WITHIN_NANOS;
            while (true) {
                short[] rev = UnixSockets.poll(new int[] {b.started()}, UnixSockets.POLLIN, 50);
                if ((rev[0] & (UnixSockets.POLLIN | UnixSockets.POLLHUP)) != 0) {
                    break;
                }
                Linux.WaitStatus w = Linux.waitpid(pid, WNOHANG);
                if (w.pid() == pid) {
                    reaped = true;
                    throw new GvshimException(failed(b, w));
                }
                if (System.nanoTime() > end) {
                    throw new GvshimException(Failure.of("POOL_FILL_TIMEOUT", "cannot fill the pool " + spec.name(), null,
                            "its sandbox (runsc pid " + pid + ") did not start its init within 60 s",
                            "see `gvshim doctor`, and try the profile with `gvshim run --debug` and the same options"));
                }
            }
            user = Linux.open("/proc/" + pid + "/ns/user", Linux.O_RDONLY | Linux.O_CLOEXEC, 0);
            mnt = Linux.open("/proc/" + pid + "/ns/mnt", Linux.O_RDONLY | Linux.O_CLOEXEC, 0);
            PooledSandbox s = new PooledSandbox(b, user, mnt, globals(pid), false);
            ok = true;
            return s;
        } catch (SyscallException e) {
            throw new GvshimException(Failure.of("POOL_FILL_FAILED", "cannot fill the pool " + spec.name(), e.callAndErrno(),
                    "a system call on its sandbox (runsc pid " + pid + ") was refused", "see the server's log"));
        } catch (IOException e) {
            throw new GvshimException(Failure.of("POOL_FILL_FAILED", "cannot fill the pool " + spec.name(), null,
                    "cannot read runsc's command line: " + e.getMessage(), "see the server's log"));
        } finally {
            if (!ok) {
                Linux.closeQuietly(user, mnt);
                new PooledSandbox(b, -1, -1, List.of(), reaped).destroy();
            }
        }
    }

    /** runsc exited before the init ran: why, as the waiter's `gvshim __explain` says it for a run. */
    private Failure failed(RunForeground.Booted b, Linux.WaitStatus w) {
        try {
            Files.write(b.run().runscStderr(), drain(b.stderr()));
        } catch (IOException e) {
            // explained without runsc's own text
        }
        Failure f = RunFailed.explain(call, b.run().dir(), true).failure();
        boolean init = f.id().equals("COMMAND_NOT_FOUND"); // the command runsc could not find is the pool's own init
        return Failure.of(f.id(), "cannot fill the pool " + spec.name() + ": " + f.what(), f.evidence(),
                f.why() == null ? "runsc exited with status " + w.exitCode() : f.why(),
                init ? "a pool's sandboxes wait in `" + String.join(" ", PoolSpec.INIT) + "`: give the pool a root file system"
                        + " that has sleep(1)" : f.fix());
    }

    private static byte[] drain(int fd) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buf = new byte[8192];
        try {
            while (out.size() < 1 << 20) {
                short[] rev = UnixSockets.poll(new int[] {fd}, UnixSockets.POLLIN, 200);
                if ((rev[0] & (UnixSockets.POLLIN | UnixSockets.POLLHUP)) == 0) {
                    break;
                }
                int n = Linux.read(fd, buf, 0, buf.length);
                if (n <= 0) {
                    break;
                }
                out.write(buf, 0, n);
            }
        } catch (SyscallException e) {
            // what was read is what there is
        }
        return out.toByteArray();
    }

    /** runsc's global flags: its argv between argv[0] and the verb `run` (/proc/PID/cmdline, NUL-separated). */
    static List<String> globals(int pid) throws IOException {
        String[] argv = new String(Files.readAllBytes(Path.of("/proc", Integer.toString(pid), "cmdline")), StandardCharsets.UTF_8)
                .split("\0");
        List<String> g = new ArrayList<>();
        for (int i = 1; i < argv.length && !argv[i].equals("run"); i++) {
            g.add(argv[i]);
        }
        return g;
    }
}

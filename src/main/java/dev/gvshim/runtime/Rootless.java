package dev.gvshim.runtime;

import dev.gvshim.container.StateDir;
import dev.gvshim.diagnose.Explain;
import dev.gvshim.diagnose.Facts;
import dev.gvshim.diagnose.Failure;
import dev.gvshim.linux.Linux;
import dev.gvshim.linux.Spawner;
import dev.gvshim.linux.Step;
import dev.gvshim.linux.SyscallException;
import dev.gvshim.oci.Spec;
import dev.gvshim.oci.Specs;
import dev.gvshim.runtime.Containers.Container;
import dev.gvshim.userns.HostFacts;
import dev.gvshim.userns.MappingFailed;
import dev.gvshim.userns.MappingPlan;
import dev.gvshim.userns.Mapper;
import dev.gvshim.userns.Mode;
import dev.gvshim.userns.Planner;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * A container created by a caller without root. runsc's own --rootless refuses `create`
 * (gVisor 2022-12), and a sandbox that outlives the runtime call needs a user namespace that
 * does too. So gvshim clones a holder (the native {@code gvshim-waiter --hold}: no Java runs in
 * the child) into a new user namespace, maps the caller's subordinate ids into it with
 * newuidmap/newgidmap (full mode: runsc needs more than one id without --rootless), and runs
 * every runsc call for the container inside that namespace: a native child (not CLONE_VM: the
 * kernel refuses setns into a user namespace for a shared mm) joins it as 0:0 and execs runsc.
 * The holder is killed at delete.
 */
final class Rootless {
    private Rootless() {
    }

    /** runc uses $XDG_RUNTIME_DIR/runc; gvshim the per-user state directory's "runtime". */
    static Path defaultRoot(Map<String, String> env, int uid) {
        return StateDir.defaultFor(env, uid).resolve("runtime");
    }

    /** Starts the holder, maps it, and writes the spec runsc gets; returns the container with its holder. */
    static Container prepare(Container ct, Spec spec, Containers store, Map<String, String> env, RuntimeLog log)
            throws RuntimeError {
        Planner.Host host;
        try {
            host = HostFacts.read(Path.of("/"), env.get("PATH"));
        } catch (IOException e) {
            throw new RuntimeError("cannot read this process's credentials: " + e.getMessage());
        }
        Explain explain = new Explain(() -> Facts.read(Path.of("/"), env, host, ct.runsc()));
        MappingPlan plan;
        try {
            plan = Planner.plan(Mode.FULL, host);
        } catch (Planner.Impossible e) {
            throw new RuntimeError(Failure.of(e.id(), "cannot create rootless container " + ct.id(), null,
                    "runsc needs a user namespace with your subordinate ids (full mode): " + e.why(), e.fix()).oneLine());
        }
        String holder = System.getProperty("gvshim.home", ".") + "/libexec/gvshim-waiter";
        int devnull = -1;
        int[] sync = null;
        Spawner.Child c = null;
        try {
            devnull = Linux.open("/dev/null", Linux.O_RDWR | Linux.O_CLOEXEC, 0);
            sync = Linux.pipe2(Linux.O_CLOEXEC);
            c = Spawner.clone(new Spawner.Request(holder, List.of("gvshim-holder", "--hold"), List.of(),
                    devnull, devnull, devnull, sync[0], sync[1], Spawner.SETPGID),
                    Linux.CLONE_NEWUSER | Linux.CLONE_VM, Step.CREATE_USERNS);
            Linux.closeQuietly(sync[0]);
            sync[0] = -1;
            Mapper.apply(plan, c.pid(), host.newuidmap(), host.newgidmap());
            Linux.write(sync[1], new byte[] {'G'}, "sync pipe");
            c.awaitExec(Step.EXEC_RUNSC);
            Container held = ct.withHolder(c.pid(), startTime(c.pid()));
            store.save(held);
            log.debug("rootless: holder " + c.pid() + ", " + plan.describe());
            writeBundle(spec, ct.bundle(), store.dir(ct.id()).resolve("bundle"));
            c = null;
            return held;
        } catch (MappingFailed m) {
            Failure f = explain.mapping(m, m.helper().equals("newuidmap") ? host.newuidmap() : host.newgidmap(),
                    host.userName());
            throw new RuntimeError(f.oneLine());
        } catch (SyscallException e) {
            throw new RuntimeError(explain.syscall(e).oneLine());
        } catch (IOException e) {
            throw new RuntimeError("cannot write the state of " + ct.id() + ": " + e.getMessage());
        } finally {
            if (sync != null) {
                Linux.closeQuietly(sync);
            }
            Linux.closeQuietly(devnull);
            if (c != null) { // never released into the holder program: discard it
                try {
                    Linux.kill(c.pid(), Linux.SIGKILL);
                    Linux.waitpid(c.pid(), 0);
                } catch (SyscallException ignored) {
                    // gone
                }
                c.release();
            }
        }
    }

    /** The spec runsc gets inside the holder's namespace, in the container's own directory (the bundle is not modified). */
    static void writeBundle(Spec spec, Path bundle, Path dir) throws IOException {
        Spec s = Specs.toRootlessInUserns(spec.copy(), bundle);
        Files.createDirectories(dir);
        Files.write(dir.resolve("config.json"), s.toJson());
    }

    /** Runs runsc (in the holder's user namespace for a rootless container), waits, returns status and output. */
    static Spawner.Completed spawn(Container ct, String runsc, List<String> argv, List<String> envp, boolean capture,
            int nativeFlags) throws SyscallException, RuntimeError {
        int nsFd = -1;
        int[] outPipe = null;
        try {
            int flags = nativeFlags;
            int cloneFlags = Linux.CLONE_VM | Linux.CLONE_VFORK;
            if (ct.rootless() && ct.holderPid() > 0) {
                if (startTime(ct.holderPid()) != ct.holderStart()) {
                    throw new RuntimeError("the user namespace of container " + ct.id() + " is gone (its holder process "
                            + ct.holderPid() + " was killed): delete the container with `delete --force " + ct.id() + "`");
                }
                nsFd = Linux.open("/proc/" + ct.holderPid() + "/ns/user", Linux.O_RDONLY | Linux.O_CLOEXEC, 0);
                flags |= Spawner.SETNS;
                cloneFlags = 0; // setns(CLONE_NEWUSER) refuses a shared mm
            }
            if (capture) {
                outPipe = Linux.pipe2(Linux.O_CLOEXEC);
            }
            int o = outPipe == null ? -1 : outPipe[1];
            Spawner.Child c = Spawner.clone(new Spawner.Request(runsc, argv, envp, -1, o, o, -1, -1, flags, -1, -1, nsFd),
                    cloneFlags, Step.EXEC_RUNSC);
            if (outPipe != null) {
                Linux.closeQuietly(outPipe[1]);
                outPipe[1] = -1;
            }
            try {
                c.awaitExec(Step.EXEC_RUNSC);
            } catch (SyscallException e) {
                Linux.waitpid(c.pid(), 0);
                throw e;
            }
            byte[] output = outPipe == null ? new byte[0] : Linux.readAll(outPipe[0], 1 << 20);
            Linux.WaitStatus st = Linux.waitpid(c.pid(), 0);
            return new Spawner.Completed(st, new String(output, StandardCharsets.UTF_8).strip());
        } finally {
            if (outPipe != null) {
                Linux.closeQuietly(outPipe);
            }
            Linux.closeQuietly(nsFd);
        }
    }

    /** Kills the holder (if it is still the same process): the namespace ends with the sandbox. */
    static void release(Container ct) {
        if (!ct.rootless() || ct.holderPid() <= 0 || startTime(ct.holderPid()) != ct.holderStart()) {
            return;
        }
        try {
            Linux.kill(ct.holderPid(), Linux.SIGKILL);
        } catch (SyscallException e) {
            // gone
        }
    }

    /** Field 22 of /proc/PID/stat (start time in clock ticks): tells a reused pid apart; -1 if gone. */
    static long startTime(int pid) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return Long.parseLong(f[19]);
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }
}

package dev.gvshim.diagnose;

import dev.gvshim.failure.Failure;
import dev.gvshim.linux.Linux;
import dev.gvshim.userns.Caller;
import dev.gvshim.userns.Helper;
import dev.gvshim.userns.Mode;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Stream;

/**
 * A file tree of another machine (src/test/resources/fixtures/NAME: /proc, /sys and /etc files
 * as read there), copied to a temporary directory so that a test can change it, and what the
 * static probes read from it. fixture.properties completes what git cannot keep: how
 * newuidmap/newgidmap are privileged (setuid, fcaps, plain, missing) and environment variables.
 */
final class Fixture {
    final Path root;
    final Map<String, String> env = new HashMap<>();
    String helpers;

    private Fixture(Path root) {
        this.root = root;
    }

    static Fixture load(String name, Path tmp) {
        try {
            Path src = Path.of(Fixture.class.getResource("/fixtures/" + name).toURI());
            Path root = tmp.resolve(name);
            try (Stream<Path> walk = Files.walk(src)) {
                for (Path p : (Iterable<Path>) walk::iterator) {
                    Path to = root.resolve(src.relativize(p).toString());
                    if (Files.isDirectory(p)) {
                        Files.createDirectories(to);
                    } else {
                        Files.copy(p, to);
                    }
                }
            }
            try (Stream<Path> bins = Files.list(root.resolve("usr/bin"))) {
                for (Path p : (Iterable<Path>) bins::iterator) {
                    Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
                }
            }
            Fixture f = new Fixture(root);
            Properties props = new Properties();
            try (InputStream in = Files.newInputStream(root.resolve("fixture.properties"))) {
                props.load(in);
            }
            f.helpers = props.getProperty("helpers", "setuid");
            for (String k : props.stringPropertyNames()) {
                if (k.startsWith("env.")) {
                    f.env.put(k.substring(4), props.getProperty(k));
                }
            }
            f.env.putIfAbsent("PATH", "/usr/bin:/bin");
            return f;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    Fixture write(String rel, String content) {
        try {
            Path p = root.resolve(rel);
            Files.createDirectories(p.getParent());
            Files.writeString(p, content);
            return this;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    Fixture delete(String rel) {
        try {
            Files.deleteIfExists(root.resolve(rel));
            return this;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Replaces one /proc/self/status line ("NoNewPrivs:\t1"). */
    Fixture status(String key, String value) {
        try {
            String s = Files.readString(root.resolve("proc/self/status"));
            return write("proc/self/status", s.replaceAll("(?m)^" + key + ":.*$", key + ":\t" + value));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    Fixture helpers(String how) {
        this.helpers = how;
        return this;
    }

    Facts facts() {
        try {
            Facts f = Facts.read(root, env, null);
            Caller h = f.caller();
            Helper u = helper("newuidmap");
            Helper g = helper("newgidmap");
            Caller host = new Caller(h.status(), h.userName(), h.subuid(), h.subgid(), u, g, h.ownUidMap(),
                    h.ownGidMap());
            return new Facts(f.root(), f.env(), host, f.kernel(), f.lsm(), f.mounts(), f.cgroup(), f.kvm(), f.runsc(),
                    f.runscGiven(), f.pathEnv());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private Helper helper(String name) {
        String path = "/usr/bin/" + name;
        return switch (helpers) {
            case "setuid" -> new Helper(name, path, true, true, true, false);
            case "fcaps" -> new Helper(name, path, true, true, false, true);
            case "plain" -> new Helper(name, path, true, true, false, false);
            case "missing" -> Helper.missing(name);
            default -> throw new IllegalArgumentException(helpers);
        };
    }

    /**
     * A live probe's result as it would come out on that machine, written as steps:
     * "clone EPERM", "map-full newuidmap: write to uid_map failed: Operation not permitted",
     * "map-single", "mount-proc EPERM", "nest 30". A step without errno worked; the usual
     * successful steps after a successful mapping are filled in unless given.
     */
    static LiveProbe.Result live(Facts facts, String... steps) {
        Explain explain = new Explain(facts);
        List<LiveProbe.Outcome> out = new ArrayList<>();
        Mode mode = null;
        List<String> given = new ArrayList<>(List.of(steps));
        boolean mapped = given.stream().anyMatch(s -> s.equals("map-full") || s.equals("map-single"));
        if (mapped) {
            for (String step : List.of("unshare-mnt", "unshare-pid", "unshare-net", "unshare-ipc", "unshare-uts",
                    "mount-private", "mount-tmpfs", "mount-proc", "mount-sysfs", "pivot-root", "ptrace", "nest 20")) {
                String name = step.split(" ")[0];
                if (given.stream().noneMatch(s -> s.split(" ")[0].equals(name))) {
                    given.add(step);
                }
            }
        }
        for (String s : given) {
            String[] f = s.split(" ", 2);
            String step = f[0];
            String arg = f.length > 1 ? f[1] : null;
            switch (step) {
                case "clone" -> {
                    if (arg == null) {
                        out.add(new LiveProbe.Outcome("clone", 0, "clone(CLONE_NEWUSER)", null, 0));
                    } else {
                        int errno = errno(arg);
                        out.add(new LiveProbe.Outcome("clone", errno, "clone(CLONE_NEWUSER)",
                                explain.createUserns("clone(CLONE_NEWUSER): " + arg, errno), 0));
                    }
                }
                case "map-full", "map-single" -> {
                    if (arg == null) {
                        out.add(new LiveProbe.Outcome(step, 0, "mapped", null, 0));
                        mode = step.equals("map-full") ? Mode.FULL : Mode.SINGLE;
                    } else if (arg.matches("E[A-Z]+")) { // a direct write of mode single
                        dev.gvshim.linux.SyscallException e = new dev.gvshim.linux.SyscallException("write(/proc/4242/uid_map)",
                                errno(arg), "0 1000 1").in(dev.gvshim.linux.Step.WRITE_UID_MAP);
                        out.add(new LiveProbe.Outcome(step, e.errno(), e.callAndErrno(), explain.syscall(e), 0));
                    } else {
                        String helper = arg.startsWith("newgidmap") ? "newgidmap" : "newuidmap";
                        Failure m = dev.gvshim.userns.Mapper.failed(helper, List.of(helper, "4242", "0", "1000", "1", "1", "100000",
                                "65536"), new Linux.WaitStatus(4242, 1 << 8), arg).failure();
                        Failure fail = explain.mapping(m, helper.equals("newuidmap") ? facts.caller().newuidmap()
                                : facts.caller().newgidmap(), facts.caller().userName());
                        out.add(new LiveProbe.Outcome(step, 1, fail.evidence(), fail, 0));
                    }
                }
                case "nest" -> { // "nest 20", or "nest 0 wide 1": stopped by ENOSPC, then 1 namespace side by side
                    String[] n = arg.split(" ");
                    int wide = n.length > 2 ? Integer.parseInt(n[2]) : LiveProbe.NOT_RUN;
                    out.add(new LiveProbe.Outcome("nest", 0, "clone(CLONE_NEWUSER) nested " + n[0] + " times, then ENOSPC", null,
                            Integer.parseInt(n[0]), 28, wide));
                }
                default -> out.addAll(LiveProbe.parse(step + " " + (arg == null ? "0" : Integer.toString(errno(arg))), explain));
            }
        }
        return new LiveProbe.Result(List.copyOf(out), mode);
    }

    private static int errno(String name) {
        return switch (name) {
            case "EPERM" -> 1;
            case "EACCES" -> 13;
            case "EINVAL" -> 22;
            case "ENOSPC" -> 28;
            default -> throw new IllegalArgumentException(name);
        };
    }
}

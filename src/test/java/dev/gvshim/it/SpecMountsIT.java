package dev.gvshim.it;

import static dev.gvshim.it.RuncFixture.lastErrorOf;
import static dev.gvshim.it.RuncFixture.sleep;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The spec's mounts as runc places them (runc's tests/integration/mounts.bats, mask.bats and
 * mounts_recursive.bats), with the real runsc, through the runc verbs, as root and as the test
 * user (its own --root): each container reports from inside what its writes did, or gvshim
 * refuses the spec with one line and its id where gVisor cannot do what runc does.
 */
class SpecMountsIT {
    private static final Duration T = Duration.ofSeconds(90);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String EROFS = "Read-only file system";
    private Host host;
    /** Root's state directories (a --root's parents must not belong to another user: the test user owns the bundles). */
    @TempDir
    Path tmp;
    /** The bundles of this test: their --root, --log and stdio are checked after it. */
    private final List<Path> bundles = new ArrayList<>();

    @BeforeEach
    void setUp() {
        host = Host.get();
    }

    @AfterEach
    void nothingLeft() throws IOException {
        for (Path b : bundles) {
            for (int i = 0; i < 50 && !sandboxes(b).isEmpty(); i++) {
                sleep(100);
            }
            assertThat(sandboxes(b)).as("runsc processes of " + b).isEmpty();
            for (String f : List.of("log.json", "out", "err")) {
                dev.gvshim.Messages.checkFile(b.resolve(f));
            }
        }
        for (Path b : bundles) {
            Host.sh("rm", "-rf", b.toString());
        }
        bundles.clear();
        assertThat(Host.sh("stat", "-c", "%U:%G", "/dev/null").out().strip()).as("/dev/null").isEqualTo("root:root");
    }

    private List<String> sandboxes(Path b) {
        List<String> left = new ArrayList<>();
        for (boolean user : new boolean[] {false, true}) {
            Host.sh("pgrep", "-af", "--", "--root=" + state(user, b)).out().lines().filter(l -> l.contains("runsc")).forEach(left::add);
        }
        return left;
    }

    /** The --root of a bundle's containers: the test user's in the bundle, root's in root's temporary directory. */
    private Path state(boolean user, Path b) {
        return user ? b.resolve("state") : tmp.resolve(b.getFileName().toString());
    }

    // ------------------------------------------------------------------ helpers

    /**
     * The hello bundle (busybox, read-only root as runc's `spec`) in the test user's work
     * directory, owned by it, running {@code sh -c script}, its spec changed by {@code edit}.
     */
    private Path bundle(String name, Consumer<ObjectNode> edit, String script) throws IOException {
        Path b = host.work.resolve(name + "-" + System.nanoTime());
        bundles.add(b);
        Host.check(Host.sh("cp", "-a", host.work.resolve("hello").toString(), b.toString()));
        ObjectNode spec = (ObjectNode) JSON.readTree(b.resolve("config.json").toFile());
        ((ObjectNode) spec.get("process")).putArray("args").add("/bin/sh").add("-c").add(script);
        edit.accept(spec);
        Files.writeString(b.resolve("config.json"), JSON.writeValueAsString(spec));
        Files.writeString(b.resolve("in"), "");
        Host.check(Host.sh("chown", "-R", host.uid + ":" + host.gid, b.toString()));
        return b;
    }

    private static ObjectNode mount(ObjectNode spec, String destination, String type, String source, String... options) {
        ObjectNode m = spec.withArray("mounts").addObject().put("destination", destination).put("type", type).put("source", source);
        for (String o : options) {
            m.withArray("options").add(o);
        }
        return m;
    }

    /** `gvshim --root STATE --log B/log.json --log-format json ARGS` (a shell line) as root or as the test user. */
    private Host.Result gvshim(boolean user, Path b, String args) {
        String g = " --root " + state(user, b) + " --log " + b.resolve("log.json") + " --log-format json ";
        return user ? host.userShell("cd " + b + " && $G" + g + args, T)
                : Host.run(List.of("/bin/sh", "-c", host.gvshim + g + args), null, T, b);
    }

    /** runc's `run`: `run --bundle B ID`, stdio files of the bundle; the result's out and err are the container's and gvshim's. */
    private Host.Result run(boolean user, Path b, String id) {
        Host.Result r = gvshim(user, b, "run --bundle " + b + " " + id + " <" + b.resolve("in") + " >" + b.resolve("out") + " 2>"
                + b.resolve("err"));
        return new Host.Result(r.code(), read(b.resolve("out")), read(b.resolve("err")) + r.err());
    }

    /** create, start, state until stopped, delete: the container's stdio are files of the bundle. Returns the last `state`. */
    private JsonNode lifecycle(boolean user, Path b, String id) throws IOException {
        Host.Result c = gvshim(user, b, "create --bundle " + b + " " + id + " <in >out 2>err");
        assertThat(c.code()).as(c + "\nerr: " + read(b.resolve("err")) + "\nlog: " + read(b.resolve("log.json"))).isZero();
        Host.Result s = gvshim(user, b, "start " + id);
        assertThat(s.code()).as(s.toString()).isZero();
        JsonNode state = null;
        for (int i = 0; i < 100; i++) {
            Host.Result st = gvshim(user, b, "state " + id);
            assertThat(st.code()).as(st.toString()).isZero();
            assertThat(st.err()).isEmpty();
            state = JSON.readTree(st.out());
            if (state.path("status").asText().equals("stopped")) {
                break;
            }
            sleep(100);
        }
        Host.Result d = gvshim(user, b, "delete " + id);
        assertThat(d.code()).as(d.toString()).isZero();
        return state;
    }

    private static String who(boolean user) {
        return user ? "rootless: " : "root: ";
    }

    private static String read(Path p) {
        try {
            return Files.exists(p) ? Files.readString(p) : "";
        } catch (IOException e) {
            return "<" + e + ">";
        }
    }

    // ------------------------------------------------------------------ tests

    /**
     * runc's "runc run [/proc is a symlink]" and mask.bats "prohibit symlink /proc", "/sys": runc
     * refuses with "must be mounted on ordinary directory". runsc 2022-12 mounted its own proc
     * over the link and ran the container.
     */
    @Test
    void procOrSysThatIsASymbolicLinkIsRefusedWithRuncsText() throws Exception {
        for (boolean user : new boolean[] {false, true}) {
            for (String fs : List.of("proc", "sys")) {
                Path b = bundle("sym" + fs, s -> { }, "echo ran");
                Host.check(Host.sh("rm", "-rf", b.resolve("rootfs/" + fs).toString()));
                Host.check(Host.sh("mkdir", b.resolve("rootfs/bad-" + fs).toString()));
                Host.check(Host.sh("ln", "-s", "/bad-" + fs, b.resolve("rootfs/" + fs).toString()));
                String id = "sym-" + fs + (user ? "-u" : "-r");
                Host.Result r = run(user, b, id);
                String type = fs.equals("proc") ? "proc" : "sysfs";
                assertThat(r.code()).as(who(user) + r).isEqualTo(1);
                assertThat(r.out()).doesNotContain("ran");
                assertThat(lastErrorOf(b)).as(who(user) + fs).contains("filesystem \"" + type + "\" must be mounted on ordinary"
                        + " directory").contains("is a symbolic link to /bad-" + fs).endsWith("[SPEC_MOUNT_POINT]");
                assertThat(r.err().lines()).as("one line on stderr").hasSize(1);
                Host.Result st = gvshim(user, b, "state " + id);
                assertThat(st.err()).contains("container does not exist");
            }
        }
    }

    /** runc's "runc run [ro tmpfs mount]": a tmpfs with "ro" is read-only inside (create, start, state, delete). */
    @Test
    void readOnlyTmpfsRefusesWrites() throws Exception {
        for (boolean user : new boolean[] {false, true}) {
            Path b = bundle("rotmpfs", s -> {
                mount(s, "/mnt", "tmpfs", "tmpfs", "ro", "nodev", "nosuid", "mode=755");
                mount(s, "/tmp", "tmpfs", "tmpfs", "nodev", "nosuid");
            }, "grep ' /mnt ' /proc/mounts; touch /mnt/x; echo mnt=$?; touch /tmp/x; echo tmp=$?");
            JsonNode state = lifecycle(user, b, "rotmpfs" + (user ? "-u" : "-r"));
            assertThat(state.path("status").asText()).as(who(user) + state).isEqualTo("stopped");
            String out = read(b.resolve("out"));
            assertThat(out).as(who(user) + out + read(b.resolve("err"))).contains("mnt=1\ntmp=0\n");
            assertThat(out.lines().findFirst().orElse("")).as("/proc/mounts").matches("\\S+ /mnt tmpfs ro[, ].*");
            assertThat(read(b.resolve("err"))).contains("/mnt/x: " + EROFS);
        }
    }

    /**
     * runc's "runc run [ro /dev mount]": runc's container runs with a read-only /dev whose
     * device files still take writes. gVisor before 2026-07 answers EROFS to a write of
     * /dev/null there: gvshim refuses the spec with its reason; a later runsc runs it as runc.
     */
    @Test
    void readOnlyDevIsRefusedWhereGvisorCannotWriteItsDevices() throws Exception {
        boolean fixed = Host.runscRelease().writesDevicesOnReadOnlyMounts();
        for (boolean user : new boolean[] {false, true}) {
            Path b = bundle("rodev", s -> {
                for (var m : s.withArray("mounts")) {
                    if (m.path("destination").asText().equals("/dev")) {
                        ((ObjectNode) m).withArray("options").add("ro");
                    }
                }
            }, "touch /dev/x; echo dev=$?; echo data >/dev/null; echo null=$?");
            Host.Result r = run(user, b, "rodev" + (user ? "-u" : "-r"));
            if (fixed) {
                assertThat(r.code()).as(who(user) + r).isZero();
                assertThat(r.out()).isEqualTo("dev=1\nnull=0\n");
            } else {
                assertThat(r.code()).as(who(user) + r).isEqualTo(1);
                assertThat(r.out()).as("not run").isEmpty();
                assertThat(lastErrorOf(b)).as(who(user)).contains("cannot honour mounts /dev (ro)")
                        .contains("runsc " + Host.runscRelease().label() + " refuses to open the device files of a read-only"
                                + " mount for writing").endsWith("[SPEC_READONLY_DEV]");
                assertThat(r.err().lines()).as("one line on stderr").hasSize(1);
            }
        }
    }

    /**
     * runc's "runc run [tmpfs mount with absolute symlink]" (runc issue 2683): /conf is a link to
     * an absolute path that exists on the host too. runc resolves it inside the root file system;
     * so must gvshim, for a tmpfs and a bind mount alike, and nothing may be created or mounted at
     * the host's directory. runsc 2022-12 refused the tmpfs ("failed to create parent directory
     * of mountpoint: not a directory").
     */
    @Test
    void mountsThroughAnAbsoluteLinkLandInsideTheRootNeverOnTheHost() throws Exception {
        for (boolean user : new boolean[] {false, true}) {
            Path[] hostSide = new Path[1];
            Path b = bundle("symtmpfs", s -> {
                mount(s, "/conf/stack", "tmpfs", "tmpfs", "ro", "nodev", "nosuid");
                mount(s, "/conf/bound", "bind", "PLACEHOLDER", "rbind", "ro");
            }, "grep /stack /proc/mounts | cut -d' ' -f2,4 | cut -d, -f1; touch /conf/stack/x; echo stack=$?;"
                    + " cat /conf/bound/f; ls /conf/");
            hostSide[0] = b.resolve("hostside");
            Files.createDirectories(hostSide[0]);
            Files.createDirectories(b.resolve("src"));
            Files.writeString(b.resolve("src/f"), "bound\n");
            ObjectNode spec = (ObjectNode) JSON.readTree(b.resolve("config.json").toFile());
            for (var m : spec.withArray("mounts")) {
                if (m.path("source").asText().equals("PLACEHOLDER")) {
                    ((ObjectNode) m).put("source", b.resolve("src").toString());
                }
            }
            Files.writeString(b.resolve("config.json"), JSON.writeValueAsString(spec));
            // in the container, /conf -> B/hostside: an absolute path that is also a host directory
            Host.check(Host.sh("ln", "-s", hostSide[0].toString(), b.resolve("rootfs/conf").toString()));
            Host.check(Host.sh("chown", "-R", host.uid + ":" + host.gid, b.toString()));
            Host.Result r = run(user, b, "symtmpfs" + (user ? "-u" : "-r"));
            assertThat(r.code()).as(who(user) + r + read(b.resolve("log.json"))).isZero();
            assertThat(r.out()).as(who(user)).isEqualTo(hostSide[0] + "/stack ro\nstack=1\nbound\nbound\nstack\n");
            assertThat(r.err()).contains("/conf/stack/x: " + EROFS);
            try (var s = Files.list(hostSide[0])) {
                assertThat(s.toList()).as("the host's directory the link names").isEmpty();
            }
            assertThat(Files.readString(Path.of("/proc/self/mountinfo"))).doesNotContain(hostSide[0].toString());
            assertThat(b.resolve("rootfs" + hostSide[0])).as("created in the root file system instead").isDirectory();
        }
    }

    /**
     * runc's mounts_recursive.bats: a volume with a submount, bound with "rbind" and "ro", "rro" or
     * both. runc's "rbind,ro" leaves the submount writable; gVisor's "ro" covers the whole tree
     * (its gofer serves it as one mount), so gvshim is stricter there and the same as runc with
     * "rro". Without "ro" both stay writable.
     */
    @Test
    void recursiveBindsAreReadOnlyWithRoAndRro() throws Exception {
        for (boolean user : new boolean[] {false, true}) {
            for (List<String> opts : List.of(List.of("rbind", "ro"), List.of("rbind", "rro"), List.of("rbind", "ro", "rro"),
                    List.of("rbind"))) {
                Path b = bundle("rbind", s -> mount(s, "/mnt", "bind", "VOLUME", opts.toArray(String[]::new)),
                        "touch /mnt/foo; echo top=$?; touch /mnt/subvol/bar; echo sub=$?");
                Path vol = b.resolve("vol");
                Files.createDirectories(vol);
                ObjectNode spec = (ObjectNode) JSON.readTree(b.resolve("config.json").toFile());
                for (var m : spec.withArray("mounts")) {
                    if (m.path("source").asText().equals("VOLUME")) {
                        ((ObjectNode) m).put("source", vol.toString());
                    }
                }
                Files.writeString(b.resolve("config.json"), JSON.writeValueAsString(spec));
                Host.check(Host.sh("mount", "-t", "tmpfs", "-o", "mode=777", "none", vol.toString()));
                try {
                    Files.writeString(vol.resolve("foo"), "foo\n");
                    Files.createDirectories(vol.resolve("subvol"));
                    Host.check(Host.sh("mount", "-t", "tmpfs", "-o", "mode=777", "none", vol.resolve("subvol").toString()));
                    Files.writeString(vol.resolve("subvol/bar"), "bar\n");
                    Host.check(Host.sh("chmod", "666", vol.resolve("foo").toString(), vol.resolve("subvol/bar").toString()));
                    Host.Result r = run(user, b, "rbind" + (user ? "-u" : "-r"));
                    assertThat(r.code()).as(who(user) + opts + r + read(b.resolve("log.json"))).isZero();
                    boolean ro = opts.size() > 1;
                    assertThat(r.out()).as(who(user) + opts + r).isEqualTo(ro ? "top=1\nsub=1\n" : "top=0\nsub=0\n");
                    if (ro) {
                        assertThat(r.err()).contains("/mnt/foo: " + EROFS).contains("/mnt/subvol/bar: " + EROFS);
                    }
                } finally {
                    Host.sh("umount", "-R", vol.toString());
                }
            }
        }
    }

    /**
     * runc's "runc run [ro /sys/fs/cgroup mounts]": writes to a read-only cgroup mount fail.
     * runsc 2022-12 mounts no cgroup file system for it (it drops cgroup mounts): the container
     * finds an empty directory of gVisor's read-only /sys, which gvshim says in --log.
     */
    @Test
    void readOnlyCgroupMountRefusesWrites() throws Exception {
        for (boolean user : new boolean[] {false, true}) {
            Path b = bundle("rocg", s -> mount(s, "/sys/fs/cgroup", "cgroup", "cgroup", "nosuid", "noexec", "nodev", "relatime",
                    "ro"), "mkdir /sys/fs/cgroup/x; echo mkdir=$?; echo $$ >/sys/fs/cgroup/cgroup.procs; echo write=$?");
            Host.Result r = run(user, b, "rocg" + (user ? "-u" : "-r"));
            assertThat(r.code()).as(who(user) + r).isZero();
            assertThat(r.out()).as(who(user) + r).isEqualTo("mkdir=1\nwrite=1\n");
            assertThat(read(b.resolve("log.json"))).contains("\"level\":\"info\"").contains("mounts /sys/fs/cgroup (cgroup:"
                    + " runsc mounts no cgroup file system there");
        }
    }
}

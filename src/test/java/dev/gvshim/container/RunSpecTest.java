package dev.gvshim.container;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gvshim.failure.GvshimException;
import dev.gvshim.oci.Mount;
import dev.gvshim.oci.Spec;
import dev.gvshim.oci.Specs;
import dev.gvshim.runsc.RunscConfig.Network;
import dev.gvshim.userns.Mode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RunSpecTest {
    static final Map<String, String> CALLER = Map.of("PATH", "/opt/bin:/usr/bin:/bin", "TERM", "xterm-256color",
            "LANG", "C.UTF-8", "LC_TIME", "de_DE.UTF-8", "SECRET_TOKEN", "s3cr3t", "USER", "alice");

    /** --read-only (the tests below that predate the writable root use it). */
    static RunRequest req(List<String> cmd, Path rootfs, List<RunRequest.BindMount> mounts, List<String> tmpfs, String cwd,
            List<String> env, boolean envAll, Network net) {
        return req(cmd, rootfs, mounts, tmpfs, cwd, env, envAll, net, true);
    }

    static RunRequest req(List<String> cmd, Path rootfs, List<RunRequest.BindMount> mounts, List<String> tmpfs, String cwd,
            List<String> env, boolean envAll, Network net, boolean readOnly) {
        return new RunRequest(cmd, null, rootfs, mounts, tmpfs, cwd, env, envAll, net, null, 2, null, null, null, Mode.AUTO,
                RunRequest.Tty.AUTO, null, null, null, false, false, false, readOnly);
    }

    @Test
    void theRootIsWritableByDefaultBehindTheOverlayAndReadOnlyWithReadOnly() {
        RunRequest writable = req(List.of("sh"), Path.of("/"), List.of(), List.of(), null, List.of(), false, Network.NONE, false);
        Spec s = RunSpec.generate(writable, ctx(Path.of("/tmp")));
        assertThat(s.root().readonly()).as("writable: runsc gets --overlay2=root:memory (RunscChoices)").isFalse();
        // /tmp and HOME keep their own tmpfs either way: the same places are writable with --read-only
        assertThat(s.mounts()).extracting(Mount::destination).contains("/root");
        assertThat(RunSpec.mountNotes(writable, s, true)).first().asString().isEqualTo("root: /, writable through an overlay in"
                + " memory: the host's files are never written, the writes are gone after the run (--read-only: none)");
        assertThat(RunSpec.mountNotes(writable, s, true)).contains("/tmp is the host's behind the root's overlay: the working"
                + " directory is /tmp itself (writes are gone after the run)");
        RunRequest ro = req(List.of("sh"), Path.of("/"), List.of(), List.of(), null, List.of(), false, Network.NONE, true);
        Spec r = RunSpec.generate(ro, ctx(Path.of("/app")));
        assertThat(r.root().readonly()).isTrue();
        assertThat(RunSpec.mountNotes(ro, r, false)).first().asString().isEqualTo("root: /, read-only (--read-only)");
    }

    static RunSpec.Context ctx(Path cwd) {
        return new RunSpec.Context(CALLER, cwd, Path.of("/run/user/1000/gvshim"), "/opt/gvshim/libexec/gvshim-hook",
                List.of("gvshim-hook", "--started", "/run/user/1000/gvshim/gv1/started"), 1024, 4096);
    }

    @Test
    void wrapsTheCallersOwnRootReadOnly() {
        Spec s = RunSpec.generate(req(List.of("python3", "main.py", "spec"), Path.of("/"), List.of(), List.of(), null, List.of(),
                false, Network.NONE), ctx(Path.of("/app")));
        assertThat(s.problems()).isEmpty();
        assertThat(s.process().args()).containsExactly("python3", "main.py", "spec");
        assertThat(s.process().cwd()).as("the caller's directory").isEqualTo("/app");
        assertThat(s.root().path()).isEqualTo("/");
        assertThat(s.root().readonly()).isTrue();
        assertThat(s.process().env()).containsExactly("PATH=/opt/bin:/usr/bin:/bin", "HOME=/root", "TERM=xterm-256color",
                "LANG=C.UTF-8", "LC_TIME=de_DE.UTF-8");
        assertThat(s.mounts()).extracting(Mount::destination).containsExactly("/proc", "/dev", "/sys", "/tmp",
                "/run/user/1000/gvshim", "/root");
        assertThat(s.linux().namespaces()).containsExactly("pid", "ipc", "uts", "mount", "network");
        assertThat(s.hookPaths("poststart")).containsExactly("/opt/gvshim/libexec/gvshim-hook");
        assertThat(s.json().at("/process/rlimits/0/soft").asLong()).isEqualTo(1024);
        assertThat(s.json().at("/process/noNewPrivileges").asBoolean()).isTrue();
    }

    @Test
    void envOptionsSetPassOrInheritEverything() {
        Spec s = RunSpec.generate(req(List.of("env"), Path.of("/"), List.of(), List.of(), null,
                List.of("FOO=bar=baz", "USER", "ABSENT", "LANG=fr_FR.UTF-8"), false, Network.NONE), ctx(Path.of("/")));
        assertThat(s.process().env()).contains("FOO=bar=baz", "USER=alice", "LANG=fr_FR.UTF-8").doesNotContain("LANG=C.UTF-8")
                .noneMatch(e -> e.startsWith("ABSENT") || e.startsWith("SECRET_TOKEN"));
        Spec all = RunSpec.generate(req(List.of("env"), Path.of("/"), List.of(), List.of(), null, List.of(), true, Network.NONE),
                ctx(Path.of("/")));
        assertThat(all.process().env()).contains("SECRET_TOKEN=s3cr3t", "USER=alice");
    }

    @Test
    void anotherRootStartsInItsRootWithTheDefaultPath(@TempDir Path rootfs) {
        Spec s = RunSpec.generate(req(List.of("/bin/echo"), rootfs, List.of(), List.of(), null, List.of(), false, Network.HOST),
                ctx(Path.of("/home/alice")));
        assertThat(s.process().cwd()).isEqualTo("/");
        assertThat(s.process().env()).first().isEqualTo("PATH=" + Specs.DEFAULT_PATH);
        assertThat(s.linux().namespaces()).as("host network: no network namespace").doesNotContain("network");
        assertThat(s.mounts()).extracting(Mount::destination).as("no state-dir mask off the host root").doesNotContain("/run/user/1000/gvshim");
    }

    @Test
    void aWorkingDirectoryUnderTmpIsBoundOntoAWritableTmp() {
        RunRequest r = req(List.of("./build.sh"), Path.of("/"), List.of(), List.of(), null, List.of(), false, Network.NONE);
        Spec s = RunSpec.generate(r, ctx(Path.of("/tmp/job/src")));
        assertThat(s.process().cwd()).isEqualTo("/tmp/job/src");
        assertThat(s.mounts()).extracting(m -> m.destination() + " " + m.type() + " " + m.options()).containsSequence(
                "/tmp tmpfs [nosuid, nodev, mode=1777]", "/tmp/job bind [rbind, ro]");
        assertThat(RunSpec.mountNotes(r, s, false)).containsExactly("root: /, read-only (--read-only)",
                "mounted /tmp: an empty writable tmpfs, gone after the run",
                "mounted /tmp/job: the working directory's tree, read-only, on the sandbox's own /tmp",
                "mounted /root: an empty writable tmpfs for HOME (the host's is not the caller's)");
        Spec atTmp = RunSpec.generate(r, ctx(Path.of("/tmp")));
        assertThat(atTmp.mounts()).extracting(Mount::destination).as("/tmp itself: the host's, read-only").doesNotContain("/tmp");
        assertThat(RunSpec.mountNotes(r, atTmp, false)).contains("/tmp is the host's, read-only: the working directory is /tmp"
                + " itself (work in a directory below it for a writable /tmp)");
        assertThat(RunSpec.defaultTmp(r, "/tmpfoo")).isTrue();
        assertThat(RunSpec.tmpTop("/tmp/a/b/c")).isEqualTo("/tmp/a");
        assertThat(RunSpec.tmpTop("/tmpfoo")).isNull();
    }

    @Test
    void homeIsAWritableRootUnlessTheCallerWorksOrMountsThere() {
        RunRequest r = req(List.of("sh"), Path.of("/"), List.of(), List.of(), null, List.of(), false, Network.NONE);
        assertThat(RunSpec.generate(r, ctx(Path.of("/root/proj"))).mounts()).extracting(Mount::destination)
                .as("the working directory would vanish").doesNotContain("/root");
        RunRequest own = req(List.of("sh"), Path.of("/"), List.of(RunRequest.BindMount.parse("/srv/h:/root", Path.of("/"))),
                List.of(), null, List.of(), false, Network.NONE);
        assertThat(RunSpec.generate(own, ctx(Path.of("/"))).mounts()).filteredOn(m -> m.destination().equals("/root"))
                .singleElement().extracting(Mount::type).isEqualTo("bind");
    }

    @Test
    void mountsAndTmpfsReplaceWhatIsAtTheirDestination() {
        List<RunRequest.BindMount> m = List.of(RunRequest.BindMount.parse("data:/mnt:ro", Path.of("/home/alice")),
                RunRequest.BindMount.parse("/srv/out:/tmp", Path.of("/")));
        Spec s = RunSpec.generate(req(List.of("true"), Path.of("/"), m, List.of("/var/cache"), "/", List.of(), false, Network.NONE),
                ctx(Path.of("/")));
        assertThat(s.mounts()).extracting(Mount::destination).containsExactly("/proc", "/dev", "/sys", "/run/user/1000/gvshim",
                "/root", "/mnt", "/tmp", "/var/cache");
        assertThat(s.mounts().get(5).source()).isEqualTo("/home/alice/data");
        assertThat(s.mounts().get(5).options()).containsExactly("rbind", "ro");
        assertThat(s.mounts().get(6).options()).containsExactly("rbind", "rw");
        assertThat(s.mounts().get(7).type()).isEqualTo("tmpfs");
    }

    @Test
    void bindMountSyntax() {
        assertThat(RunRequest.BindMount.parse("a:/b", Path.of("/w"))).isEqualTo(new RunRequest.BindMount(Path.of("/w/a"), "/b", false));
        assertThat(RunRequest.BindMount.parse("/a/../c:/b:ro", Path.of("/w")).source()).isEqualTo(Path.of("/c"));
        for (String bad : List.of("a", ":/b", "a:", "a:b", "a:/b:rx", "a:/b:ro:x")) {
            assertThatThrownBy(() -> RunRequest.BindMount.parse(bad, Path.of("/"))).as(bad).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageStartingWith("--mount " + bad);
        }
    }

    @Test
    void aBundleIsAdaptedNotModified(@TempDir Path bundle) throws Exception {
        Files.createDirectories(bundle.resolve("rootfs"));
        Spec original = Specs.toRootless(Specs.example(List.of("sh"), "b"), 1000, 1000);
        String before = original.toString();
        RunRequest r = new RunRequest(List.of("/bin/echo", "x"), bundle, null, List.of(), List.of(), "/work", List.of("A=1"),
                false, Network.NONE, null, 2, null, null, null, Mode.AUTO, RunRequest.Tty.AUTO, 7L, 8L, "h", false, false, false, false);
        Spec s = RunSpec.fromBundle(original, bundle, r, ctx(Path.of("/")));
        assertThat(original.toString()).isEqualTo(before);
        assertThat(s.root().path()).isEqualTo(bundle.resolve("rootfs").toString());
        assertThat(s.process().args()).containsExactly("/bin/echo", "x");
        assertThat(s.process().cwd()).isEqualTo("/work");
        assertThat(s.process().uid()).isEqualTo(7);
        assertThat(s.process().gid()).isEqualTo(8);
        assertThat(s.process().env()).contains("A=1", "TERM=xterm");
        assertThat(s.process().terminal()).as("runc spec's default is a terminal; decided per run").isFalse();
        assertThat(s.linux().namespaces()).contains("network").doesNotContain("user");
        assertThat(s.linux().has("uidMappings")).isFalse();
        assertThat(s.hostname()).isEqualTo("h");
        assertThat(s.hookPaths("poststart")).hasSize(1);
    }

    @Test
    void aBundleWithoutRootOrCommandIsRefused(@TempDir Path bundle) {
        Spec noRootfs = Specs.example(List.of("sh"), "b");
        RunRequest r = req(List.of(), null, List.of(), List.of(), null, List.of(), false, Network.NONE);
        assertThatThrownBy(() -> RunSpec.fromBundle(noRootfs, bundle, r, ctx(Path.of("/")))).isInstanceOf(GvshimException.class)
                .hasMessageContaining("no root file system");
        Spec noArgs = Specs.example(List.of(), "b");
        assertThatThrownBy(() -> RunSpec.fromBundle(noArgs, bundle, r, ctx(Path.of("/")))).isInstanceOf(GvshimException.class)
                .hasMessageContaining("nothing to run");
    }

    @Test
    void theWorkingDirectoryIsLookedForWhereTheSandboxWillFindIt(@TempDir Path tmp) {
        Path data = tmp.resolve("data");
        Spec onRoot = RunSpec.generate(req(List.of("pwd"), tmp, List.of(new RunRequest.BindMount(data, "/work", false)),
                List.of("/scratch"), "/srv/app", List.of(), false, Network.NONE), ctx(Path.of("/")));
        assertThat(RunSpec.workdirOnHost(onRoot)).as("in the root file system").isEqualTo(tmp.resolve("srv/app"));
        assertThat(RunSpec.workdirInTmpfs(onRoot)).isNull();
        Spec inBind = RunSpec.generate(req(List.of("pwd"), tmp, List.of(new RunRequest.BindMount(data, "/work", false)),
                List.of(), "/work/sub/dir", List.of(), false, Network.NONE), ctx(Path.of("/")));
        assertThat(RunSpec.workdirOnHost(inBind)).as("in the bind mount's source").isEqualTo(data.resolve("sub/dir"));
        Spec inTmpfs = RunSpec.generate(req(List.of("pwd"), tmp, List.of(), List.of("/scratch"), "/scratch/x", List.of(), false,
                Network.NONE), ctx(Path.of("/")));
        assertThat(RunSpec.workdirInTmpfs(inTmpfs)).as("below a tmpfs: empty at the start").isEqualTo("/scratch");
        Spec atTmpfs = RunSpec.generate(req(List.of("pwd"), tmp, List.of(), List.of("/scratch"), "/scratch", List.of(), false,
                Network.NONE), ctx(Path.of("/")));
        assertThat(RunSpec.workdirInTmpfs(atTmpfs)).as("a mount point exists").isNull();
        assertThat(RunSpec.workdirOnHost(atTmpfs)).isNull();
        Spec proc = RunSpec.generate(req(List.of("pwd"), tmp, List.of(), List.of(), "/proc/self", List.of(), false, Network.NONE),
                ctx(Path.of("/")));
        assertThat(RunSpec.workdirOnHost(proc)).as("the sandbox's own procfs").isNull();
    }
}

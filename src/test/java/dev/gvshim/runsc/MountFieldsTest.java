package dev.gvshim.runsc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gvshim.oci.Mount;
import dev.gvshim.oci.Spec;
import dev.gvshim.runsc.SpecPolicy.HostFile;
import dev.gvshim.runsc.SpecPolicy.HostFile.Kind;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Where the spec's mounts land (runc's rules): links in the root file system, proc and sysfs, a read-only /dev, cgroup mounts. */
class MountFieldsTest {
    static final RunscRelease R2022 = SpecPolicyTest.R2022;
    static final RunscRelease R202607 = RunscRelease.parse("runsc version release-20260706.0");
    /** Host files: everything not listed is a directory; links are not followed. */
    final Map<Path, HostFile> files = new HashMap<>();
    final Map<Path, String> links = new HashMap<>();
    /** Every host path gvshim asked readlink about. */
    final List<Path> looked = new ArrayList<>();

    SpecPolicy.Context ctx(RunscRelease release) {
        return new SpecPolicy.Context(SpecPolicy.Mode.RUNTIME, "container ct", Path.of("/bundle"), true, null,
                () -> release, SpecPolicyTest.NODEV, p -> files.getOrDefault(p, new HostFile(Kind.DIRECTORY, 0, 0)), p -> {
                    looked.add(p);
                    return links.get(p);
                });
    }

    /** A spec whose mounts are {@code mounts} (JSON objects, ' for "). */
    static Spec spec(String mounts) throws Exception {
        return Spec.parse(("{'ociVersion':'1.0.2','process':{'args':['true'],'cwd':'/'},'root':{'path':'rootfs'},"
                + "'mounts':[" + mounts + "]}").replace('\'', '"').getBytes(StandardCharsets.UTF_8));
    }

    static final String PROC = "{'destination':'/proc','type':'proc','source':'proc'}";
    static final String SYS = "{'destination':'/sys','type':'sysfs','source':'sysfs','options':['ro']}";

    List<String> destinations(SpecPolicy.Result r) {
        return r.spec().mounts().stream().map(Mount::destination).toList();
    }

    @Test
    void procOrSysfsOnASymbolicLinkIsRefusedWithRuncsWords() throws Exception {
        links.put(Path.of("/bundle/rootfs/proc"), "/bad-proc");
        assertThatThrownBy(() -> SpecPolicy.check(spec(PROC + "," + SYS), ctx(R2022)))
                .hasMessageContaining("cannot honour mounts /proc (proc) of container ct: error mounting \"proc\" to rootfs"
                        + " at \"/proc\": filesystem \"proc\" must be mounted on ordinary directory")
                .hasMessageContaining("/bundle/rootfs/proc is a symbolic link to /bad-proc")
                .hasMessageContaining("Fix: make /proc a directory in the root file system").hasMessageEndingWith("[SPEC_MOUNT_POINT]");
        links.clear();
        links.put(Path.of("/bundle/rootfs/sys"), "/symlink");
        assertThatThrownBy(() -> SpecPolicy.check(spec(PROC + "," + SYS), ctx(R2022)))
                .hasMessageContaining("filesystem \"sysfs\" must be mounted on ordinary directory")
                .hasMessageEndingWith("[SPEC_MOUNT_POINT]");
        links.clear();
        files.put(Path.of("/bundle/rootfs/proc"), new HostFile(Kind.FILE, 0, 0));
        assertThatThrownBy(() -> SpecPolicy.check(spec(PROC), ctx(R2022)))
                .hasMessageContaining("/bundle/rootfs/proc is not a directory");
    }

    @Test
    void procOnADirectoryOrNothingIsMountedAsSpecified() throws Exception {
        files.put(Path.of("/bundle/rootfs/sys"), new HostFile(Kind.MISSING, 0, 0));
        SpecPolicy.Result r = SpecPolicy.check(spec(PROC + "," + SYS), ctx(R2022));
        assertThat(r.changed()).isFalse();
        // a bind mount at /sys (runc's rootless spec has one) is not a sysfs: not refused, but placed as runc's
        // securejoin places it, at the link's target
        links.put(Path.of("/bundle/rootfs/sys"), "/elsewhere");
        assertThat(destinations(SpecPolicy.check(spec("{'destination':'/sys','type':'bind','source':'/sys','options':['rbind',"
                + "'ro']}"), ctx(R2022)))).containsExactly("/elsewhere");
    }

    @Test
    void aTmpfsThroughAnAbsoluteLinkIsMountedAtItsTargetInsideTheRoot() throws Exception {
        // runc's mounts.bats "tmpfs mount with absolute symlink": /conf -> /real/conf
        links.put(Path.of("/bundle/rootfs/conf"), "/real/conf");
        SpecPolicy.Result r = SpecPolicy.check(spec(PROC
                + ",{'destination':'/conf/stack','type':'tmpfs','source':'tmpfs','options':['ro','nodev','nosuid']}"), ctx(R2022));
        assertThat(destinations(r)).containsExactly("/proc", "/real/conf/stack");
        assertThat(r.changed()).isTrue();
        assertThat(r.rewrites()).anyMatch(l -> l.startsWith("mount /conf/stack at /real/conf/stack"));
        assertThat(looked).allMatch(p -> p.startsWith("/bundle/rootfs"));
    }

    @Test
    void aLinkOutOfTheRootNeverLeadsToTheHost() throws Exception {
        // both an absolute target naming a host directory and a relative one climbing out stay in the container's tree
        links.put(Path.of("/bundle/rootfs/abs"), "/tmp/hostside");
        links.put(Path.of("/bundle/rootfs/etc/rel"), "../../../../../../etc/x");
        SpecPolicy.Result r = SpecPolicy.check(spec("{'destination':'/abs/m','type':'tmpfs','source':'tmpfs'},"
                + "{'destination':'/etc/rel/m','type':'bind','source':'/srv/d','options':['rbind']}"), ctx(R2022));
        assertThat(destinations(r)).containsExactly("/tmp/hostside/m", "/etc/x/m");
        assertThat(looked).as("lstat/readlink only inside the root file system").allMatch(p -> p.startsWith("/bundle/rootfs/"));
    }

    @Test
    void linksAreResolvedThroughTheMountsPlacedBefore() throws Exception {
        // /run -> /var/run in the image: the tmpfs lands on /var/run, and /run/lock after it inside that tmpfs
        links.put(Path.of("/bundle/rootfs/run"), "/var/run");
        // a link inside a bind source leads on in the container; the source itself is the host's path to follow
        links.put(Path.of("/srv/data/cur"), "v2");
        links.put(Path.of("/srv/link"), "/srv/data");
        SpecPolicy.Result r = SpecPolicy.check(spec("{'destination':'/run','type':'tmpfs','source':'tmpfs'},"
                + "{'destination':'/run/lock','type':'tmpfs','source':'tmpfs'},"
                + "{'destination':'/data','type':'bind','source':'/srv/data','options':['rbind']},"
                + "{'destination':'/data/cur/x','type':'tmpfs','source':'tmpfs'},"
                + "{'destination':'/l','type':'bind','source':'/srv/link','options':['rbind']},"
                + "{'destination':'/l/y','type':'tmpfs','source':'tmpfs'}"), ctx(R2022));
        assertThat(destinations(r)).containsExactly("/var/run", "/var/run/lock", "/data", "/data/v2/x", "/l", "/l/y");
        assertThat(looked).doesNotContain(Path.of("/srv/link"));
    }

    @Test
    void aLinkLoopIsRefused() throws Exception {
        links.put(Path.of("/bundle/rootfs/a"), "/b");
        links.put(Path.of("/bundle/rootfs/b"), "a");
        assertThatThrownBy(() -> SpecPolicy.check(spec("{'destination':'/a/m','type':'tmpfs','source':'tmpfs'}"), ctx(R2022)))
                .hasMessageContaining("more than 255 symbolic links").hasMessageEndingWith("[SPEC_MOUNT_POINT]");
    }

    @Test
    void withoutLinksNothingChanges() throws Exception {
        SpecPolicy.Result r = SpecPolicy.check(spec(PROC + ",{'destination':'/dev','type':'tmpfs','source':'tmpfs'},"
                + "{'destination':'/mnt/./a/../b','type':'tmpfs','source':'tmpfs'}," + SYS), ctx(R2022));
        assertThat(r.changed()).isFalse();
        assertThat(r.rewrites()).isEmpty();
    }

    @Test
    void aReadOnlyDevIsRefusedWhereGvisorCannotWriteItsDevices() throws Exception {
        String ro = "{'destination':'/dev','type':'tmpfs','source':'tmpfs','options':['nosuid','mode=755','ro']}";
        assertThatThrownBy(() -> SpecPolicy.check(spec(ro), ctx(R2022)))
                .hasMessageContaining("cannot honour mounts /dev (ro) of container ct: runsc 2022-12-19 refuses to open the"
                        + " device files of a read-only mount for writing")
                .hasMessageContaining("remove \"ro\" from the /dev mount").hasMessageEndingWith("[SPEC_READONLY_DEV]");
        assertThat(SpecPolicy.check(spec(ro), ctx(R202607)).changed()).isFalse();
        assertThat(SpecPolicy.check(spec(ro.replace("'ro'", "'ro','rw'")), ctx(R2022)).changed()).isFalse();
        assertThatThrownBy(() -> SpecPolicy.check(spec(ro), ctx(RunscRelease.UNKNOWN)))
                .hasMessageEndingWith("[SPEC_READONLY_DEV]");
    }

    @Test
    void cgroupMountsAreSaidToBeMoot() throws Exception {
        SpecPolicy.Result r = SpecPolicy.check(spec(SYS + ",{'destination':'/sys/fs/cgroup','type':'cgroup','source':'cgroup',"
                + "'options':['nosuid','noexec','nodev','relatime','ro']}"), ctx(R2022));
        assertThat(r.moot()).anyMatch(l -> l.startsWith("mounts /sys/fs/cgroup (cgroup: runsc mounts no cgroup file system"));
    }
}

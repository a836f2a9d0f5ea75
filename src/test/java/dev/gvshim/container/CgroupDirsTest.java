package dev.gvshim.container;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gvshim.linux.Errno;
import dev.gvshim.linux.SyscallException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/** The container's own cgroup directories: where runsc makes them, and runc's removal of them with their sub-cgroups (fake trees). */
class CgroupDirsTest {
    static final String V1_MOUNTS = """
            31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
            32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct
            33 31 0:30 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer
            35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
            37 31 0:34 / /sys/fs/cgroup/misc rw,relatime - cgroup cgroup rw,misc
            40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd
            41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
            """;
    static final String V1_SELF = "9:name=systemd:/\n8:misc:/\n7:freezer:/\n4:memory:/process_api/abc\n2:cpu,cpuacct:/\n0::/\n";
    static final String V2_MOUNTS = "30 23 0:27 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n";
    static final String V2_SELF = "0::/system.slice/containerd.service\n";

    @Test
    void runscsDirectoriesInEveryHierarchyOfItsControllers() {
        assertThat(CgroupDirs.of("/docker/abc", true, "2-c1", V1_SELF, V1_MOUNTS)).as("absolute: from each hierarchy's root;"
                + " not misc (no controller of runsc's), not the hybrid host's unified hierarchy").containsExactly(
                        "/sys/fs/cgroup/systemd/docker/abc", "/sys/fs/cgroup/freezer/docker/abc", "/sys/fs/cgroup/memory/docker/abc",
                        "/sys/fs/cgroup/cpu,cpuacct/docker/abc");
        assertThat(CgroupDirs.of("", true, "2-c1", V1_SELF, V1_MOUNTS)).as("no cgroupsPath: runsc's /RUNSC_ID")
                .contains("/sys/fs/cgroup/memory/2-c1", "/sys/fs/cgroup/freezer/2-c1").hasSize(4);
        assertThat(CgroupDirs.of("", false, "2-c1", V1_SELF, V1_MOUNTS)).as("a pod's container without one: none").isEmpty();
        assertThat(CgroupDirs.of("k/c1", true, "2-c1", V1_SELF, V1_MOUNTS)).as("relative on v1: below runsc's own cgroup")
                .contains("/sys/fs/cgroup/memory/process_api/abc/k/c1", "/sys/fs/cgroup/freezer/k/c1");
        assertThat(CgroupDirs.of("/docker/abc", true, "2-c1", V2_SELF, V2_MOUNTS)).containsExactly("/sys/fs/cgroup/docker/abc");
        assertThat(CgroupDirs.of("c1", true, "2-c1", V2_SELF, V2_MOUNTS)).as("relative on v2: below the parent of runsc's cgroup")
                .containsExactly("/sys/fs/cgroup/system.slice/c1");
    }

    @Test
    void neverAHierarchysRootNorTheRuntimesOwnCgroupOrItsAncestors() {
        assertThat(CgroupDirs.of("/", true, "2-c1", V1_SELF, V1_MOUNTS)).isEmpty();
        assertThat(CgroupDirs.of("/../..", true, "2-c1", V2_SELF, V2_MOUNTS)).isEmpty();
        assertThat(CgroupDirs.of("/process_api", true, "2-c1", V1_SELF, V1_MOUNTS)).as("memory: holds the runtime's own cgroup")
                .doesNotContain("/sys/fs/cgroup/memory/process_api").contains("/sys/fs/cgroup/freezer/process_api");
        assertThat(CgroupDirs.of("..", true, "2-c1", V2_SELF, V2_MOUNTS)).isEmpty();
        assertThat(CgroupDirs.of("/system.slice", true, "2-c1", V2_SELF, V2_MOUNTS)).isEmpty();
    }

    /** A cgroup tree: rmdir(2) as cgroupfs does it (EBUSY while it has children or processes). */
    static final class Tree implements CgroupDirs.Fs {
        final TreeSet<String> dirs = new TreeSet<>();
        final Map<String, Integer> busyFor = new HashMap<>(); // dir -> rmdir calls that still see processes (-1: forever)
        final Map<String, Integer> errno = new HashMap<>();
        final List<String> calls = new ArrayList<>();
        long paused;

        Tree(String... ds) {
            dirs.addAll(List.of(ds));
        }

        @Override
        public void rmdir(String path) throws SyscallException {
            calls.add(path);
            if (errno.containsKey(path)) {
                throw new SyscallException("rmdir", errno.get(path), path);
            }
            if (!dirs.contains(path)) {
                throw new SyscallException("rmdir", Errno.ENOENT, path);
            }
            Integer busy = busyFor.get(path);
            if (!subdirs(path).isEmpty() || busy != null && busy != 0) {
                if (busy != null && busy > 0) {
                    busyFor.put(path, busy - 1);
                }
                throw new SyscallException("rmdir", Errno.EBUSY, path);
            }
            dirs.remove(path);
        }

        @Override
        public List<String> subdirs(String path) {
            return dirs.contains(path) ? dirs.stream().filter(d -> d.startsWith(path + "/") && d.indexOf('/', path.length() + 1) < 0)
                    .toList() : null;
        }

        @Override
        public void pause(long millis) {
            paused += millis;
        }
    }

    @Test
    void subCgroupsGoFirstDeepestFirst() {
        String c = "/sys/fs/cgroup/memory/c1";
        Tree t = new Tree("/sys/fs/cgroup/memory", c, c + "/sub", c + "/sub/deeper", c + "/other", "/sys/fs/cgroup/memory/sibling");
        assertThat(CgroupDirs.remove(c, t)).isNull();
        assertThat(t.dirs).containsExactly("/sys/fs/cgroup/memory", "/sys/fs/cgroup/memory/sibling");
        assertThat(t.calls.indexOf(c + "/sub/deeper")).isLessThan(t.calls.lastIndexOf(c + "/sub"));
        assertThat(t.calls.getLast()).isEqualTo(c);
        assertThat(CgroupDirs.remove(c, t)).as("already gone: ENOENT is success").isNull();
    }

    @Test
    void busyIsRetriedBrieflyThenSaid() {
        String c = "/sys/fs/cgroup/pids/c1";
        Tree exiting = new Tree(c, c + "/sub");
        exiting.busyFor.put(c, 3); // its last processes still exiting
        assertThat(CgroupDirs.remove(c, exiting)).isNull();
        assertThat(exiting.dirs).isEmpty();

        Tree held = new Tree(c, c + "/sub", c + "/busy");
        held.busyFor.put(c + "/busy", -1); // a process of someone else's in it
        assertThat(CgroupDirs.remove(c, held)).isEqualTo(c + "/busy: EBUSY (Device or resource busy)");
        assertThat(held.paused).as("runc's 10 tries from 1 ms, doubling").isEqualTo(1023);
        assertThat(held.dirs).contains(c, c + "/busy");
    }

    @Test
    void beforeRunscOnlyTheSubCgroupsWithoutProcessesGoAndNothingWaits() {
        String c = "/sys/fs/cgroup/memory/c1";
        Tree t = new Tree(c, c + "/sub", c + "/sub/deeper", c + "/held");
        t.busyFor.put(c, -1); // the sandbox
        t.busyFor.put(c + "/held", -1);
        CgroupDirs.removeBelow(c, t);
        assertThat(t.dirs).containsExactly(c, c + "/held");
        assertThat(t.paused).isZero();
        CgroupDirs.removeBelow("/sys/fs/cgroup/memory/gone", t);
    }

    @Test
    void otherErrorsAreNotRetried() {
        String c = "/sys/fs/cgroup/memory/c1";
        Tree ro = new Tree(c);
        ro.errno.put(c, Errno.EROFS);
        assertThat(CgroupDirs.remove(c, ro)).startsWith(c + ": EROFS");
        assertThat(ro.paused).isZero();
    }
}

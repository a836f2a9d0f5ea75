package dev.gvshim.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A root runtime's container's cgroup against the real runsc, as runc handles it: `create` refuses
 * a frozen linux.cgroupsPath and warns about one with processes, `delete` removes it in every
 * hierarchy with the sub-cgroups made in it on the host. Root only: a rootless container has no
 * cgroup of its own (its spec's resources are refused, SPEC_RESOURCES). `events` is {@link EventsIT}.
 */
class CgroupsIT extends RuncFixture {
    private final List<String> names = new ArrayList<>();

    /** Runs before the fixture's check that nothing is left: once the sandboxes are gone, their cgroups can go. */
    @AfterEach
    void removeLeftCgroups() throws IOException {
        awaitNoSandboxes();
        for (String n : names) { // whatever a failed test left
            for (Path d : cgroups(n)) {
                Host.sh("sh", "-c", "find " + d + " -depth -type d -exec rmdir {} + 2>/dev/null");
            }
        }
    }

    /** The directories named {@code name} directly below each hierarchy's root (v1: /sys/fs/cgroup/H/name). */
    private static List<Path> cgroups(String name) throws IOException {
        if (V2) {
            Path d = Path.of("/sys/fs/cgroup", name);
            return Files.isDirectory(d) ? List.of(d) : List.of();
        }
        try (Stream<Path> s = Files.list(Path.of("/sys/fs/cgroup"))) {
            return s.filter(h -> !Files.isSymbolicLink(h)).map(h -> h.resolve(name)).filter(Files::isDirectory).sorted().toList();
        }
    }

    private static Path memoryHierarchy() {
        return V2 ? Path.of("/sys/fs/cgroup") : Path.of("/sys/fs/cgroup/memory");
    }

    /** The id runsc knows the container by: its state file's name, RUNSC_ID_sandbox:RUNSC_ID.state. */
    private String runscId() throws IOException {
        try (Stream<Path> s = Files.list(root)) {
            return s.map(p -> p.getFileName().toString()).filter(f -> f.endsWith(".state")).map(f -> f.substring(0, f.indexOf('_')))
                    .findFirst().orElseThrow();
        }
    }

    /**
     * runc's delete removes the container's cgroup with its sub-cgroups (RemovePath), also one that
     * existed before create; runsc removed only the directories it made, and none that a host made a
     * sub-cgroup in. A sub-cgroup with a process of its own stays, said in --log, and the delete
     * still succeeds (runc logs the error of its destroy).
     */
    @Test
    void deleteRemovesTheContainersCgroupsWithTheirSubCgroups() throws Exception {
        String name = "gvshim-it-cg-" + ProcessHandle.current().pid();
        names.add(name);
        names.add(name + "-held");
        Files.createDirectories(memoryHierarchy().resolve(name)); // pre-existing: runsc does not own it, runc removes it
        Path b = cgroupBundle("cg", "exec sleep 600", "/" + name, null);
        createAndStart(b, "cg");
        assertThat(cgroups(name)).as("runsc's cgroups").isNotEmpty().contains(memoryHierarchy().resolve(name));
        List<Path> subs = new ArrayList<>();
        for (Path d : cgroups(name)) {
            subs.add(Files.createDirectories(d.resolve("sub/deeper")));
            subs.add(Files.createDirectories(d.resolve("other")));
        }
        Host.Result d = gv("delete", "--force", "cg");
        assertThat(d.code()).as(d.toString()).isZero();
        assertThat(d.err()).isEmpty();
        assertThat(cgroups(name)).as("every hierarchy's cgroup, sub-cgroups first").isEmpty();

        // no cgroupsPath: runsc's /RUNSC_ID, with a sub-cgroup
        Path b2 = cgroupBundle("dflt", "exec sleep 600", null, null);
        createAndStart(b2, "dflt");
        String runscId = runscId();
        assertThat(cgroups(runscId)).isNotEmpty();
        Files.createDirectories(memoryHierarchy().resolve(runscId).resolve("sub"));
        assertThat(gv("delete", "--force", "dflt").code()).isZero();
        assertThat(cgroups(runscId)).isEmpty();

        // a sub-cgroup that still has a process: it stays (so does its parent), the delete succeeds with runc's logged error
        Path b3 = cgroupBundle("held", "exec sleep 600", "/" + name + "-held", null);
        createAndStart(b3, "held");
        Path held = Files.createDirectories(memoryHierarchy().resolve(name + "-held/busy"));
        Process sleeper = new ProcessBuilder("sleep", "120").start();
        try {
            Files.writeString(held.resolve("cgroup.procs"), Long.toString(sleeper.pid()));
            Host.Result h = gv("delete", "--force", "held");
            assertThat(h.code()).as(h.toString()).isZero();
            assertThat(gv("state", "held").code()).as("deleted").isEqualTo(1);
            assertThat(Files.isDirectory(held)).isTrue();
            assertThat(Files.readString(log)).contains("\"level\":\"warning\",\"msg\":\"container held: its cgroup stays: " + held
                    + ": EBUSY (Device or resource busy): processes are still in it or in a sub-cgroup\"");
            assertThat(cgroups(name + "-held")).as("the other hierarchies' cgroups are removed").containsExactly(held.getParent());
        } finally {
            sleeper.destroyForcibly().waitFor();
        }
    }

    /**
     * runc's checks of the spec's cgroup: a frozen one is refused in runc's words (runsc alone joins
     * it, freezes with it, and create hangs forever, leaking the state), one with processes gets
     * runc's warning in --log. Root's containers: runsc places their sandbox in linux.cgroupsPath.
     */
    @Test
    void aFrozenCgroupIsRefusedAndOneWithProcessesIsWarnedAbout() throws Exception {
        boolean v2 = Files.exists(Path.of("/sys/fs/cgroup/cgroup.controllers"));
        Path hierarchy = v2 ? Path.of("/sys/fs/cgroup") : Path.of("/sys/fs/cgroup/freezer");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isDirectory(hierarchy), "no freezer hierarchy at " + hierarchy);
        String name = "gvshim-it-frozen-" + ProcessHandle.current().pid();
        Path frozen = hierarchy.resolve(name);
        Path busy = hierarchy.resolve(name + "-busy");
        Process sleeper = null;
        try {
            Files.createDirectories(frozen);
            Files.writeString(frozen.resolve(v2 ? "cgroup.freeze" : "freezer.state"), v2 ? "1" : "FROZEN");
            Path b = bundle("frozen", "/bin/true");
            withCgroup(b, "/" + name);
            Host.Result c = create(b, "frozen");
            assertThat(c.code()).as(c + read(b.resolve("err"))).isEqualTo(1);
            assertThat(lastError()).startsWith("gvshim: container's cgroup unexpectedly frozen (" + frozen + ")").endsWith("[CGROUP_FROZEN]");
            assertThat(rootEntries()).as("nothing created").isEmpty();

            Files.createDirectories(busy);
            sleeper = new ProcessBuilder("sleep", "120").start();
            Files.writeString(busy.resolve("cgroup.procs"), Long.toString(sleeper.pid()));
            Path b2 = bundle("busy", "/bin/true");
            withCgroup(b2, "/" + name + "-busy");
            Host.Result c2 = create(b2, "busy");
            assertThat(c2.code()).as(c2 + read(b2.resolve("err")) + read(log)).isZero();
            assertThat(read(log)).contains("\"level\":\"warning\",\"msg\":\"container's cgroup is not empty: 1 process(es) found ("
                    + busy + ")\"");
            assertThat(gv(b2, "delete", "--force", "busy").code()).isZero();
        } finally {
            if (sleeper != null) {
                sleeper.destroyForcibly().waitFor();
            }
            if (Files.isDirectory(frozen)) {
                Files.writeString(frozen.resolve(v2 ? "cgroup.freeze" : "freezer.state"), v2 ? "0" : "THAWED");
            }
            for (Path d : List.of(frozen, busy)) {
                for (int i = 0; i < 50 && Files.isDirectory(d); i++) {
                    Host.sh("rmdir", d.toString());
                    sleep(100);
                }
            }
        }
    }
}

package dev.gvshim.userns;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gvshim.failure.GvshimException;
import dev.gvshim.linux.ProcStatus;
import java.util.List;
import org.junit.jupiter.api.Test;

class PlannerTest {
    /** CapBnd of a host process (all), of a default Docker container (no CAP_SYS_ADMIN), capEff of root. */
    static final long ALL = 0x1ffffffffffL;
    static final long DOCKER_BND = 0xa80425fbL;

    static ProcStatus user(int uid, long capBnd, boolean nnp) {
        return new ProcStatus(uid, uid, uid, uid, 0, capBnd, nnp, 0);
    }

    static final ProcStatus ROOT = new ProcStatus(0, 0, 0, 0, ALL, ALL, false, 0);
    static final Helper SETUID_UID = new Helper("newuidmap", "/usr/bin/newuidmap", true, true, true, false);
    static final Helper SETUID_GID = new Helper("newgidmap", "/usr/bin/newgidmap", true, true, true, false);
    static final Helper FCAP_UID = new Helper("newuidmap", "/usr/bin/newuidmap", true, true, false, true);
    static final Helper FCAP_GID = new Helper("newgidmap", "/usr/bin/newgidmap", true, true, false, true);
    static final Helper PLAIN_UID = new Helper("newuidmap", "/usr/bin/newuidmap", true, true, false, false);
    static final IdMap INIT_NS = IdMap.of(0, 0, 4294967295L);

    static Caller host(ProcStatus st, String name, String subuid, String subgid, Helper u, Helper g) {
        return new Caller(st, name, SubIds.parse(subuid), SubIds.parse(subgid), u, g, INIT_NS, INIT_NS);
    }

    @Test
    void aUserWithRangesAndSetuidHelpersGetsFullModeThroughTheHelpers() throws Exception {
        MappingPlan p = Planner.plan(Mode.AUTO, host(user(1001, ALL, false), "tester", "tester:100000:65536",
                "tester:100000:65536", SETUID_UID, SETUID_GID));
        assertThat(p.mode()).isEqualTo(Mode.FULL);
        assertThat(p.viaHelpers()).isTrue();
        assertThat(p.denySetgroups()).isFalse();
        assertThat(p.runscRootless()).isFalse();
        assertThat(p.uidMap().procText()).isEqualTo("0 1001 1\n1 100000 65536\n");
        assertThat(p.gidMap().helperArgs()).containsExactly("0", "1001", "1", "1", "100000", "65536");
        assertThat(p.notFull()).isNull();
    }

    @Test
    void aUserListedByUidAndWithSeveralRangesGetsThemConsecutively() throws Exception {
        MappingPlan p = Planner.plan(Mode.FULL, host(user(1001, ALL, false), null, "1001:100000:1000\n1001:300000:500",
                "1001:100000:1000\n1001:300000:500", FCAP_UID, FCAP_GID));
        assertThat(p.uidMap().procText()).isEqualTo("0 1001 1\n1 100000 1000\n1001 300000 500\n");
        assertThat(p.uidMap().size()).isEqualTo(1501);
    }

    @Test
    void noRangeMeansSingleInAutoAndAnErrorInFull() throws Exception {
        Caller h = host(user(1001, ALL, false), "tester", "other:100000:65536", "", SETUID_UID, SETUID_GID);
        MappingPlan p = Planner.plan(Mode.AUTO, h);
        assertThat(p.mode()).isEqualTo(Mode.SINGLE);
        assertThat(p.uidMap().procText()).isEqualTo("0 1001 1\n");
        assertThat(p.denySetgroups()).isTrue();
        assertThat(p.viaHelpers()).isFalse();
        assertThat(p.runscRootless()).isTrue();
        assertThat(p.notFull()).contains("/etc/subuid has no range for tester (uid 1001)").contains("/etc/subgid");
        assertThat(p.fullFix()).as("the first range no other user has").contains("usermod --add-subuids 165536-231071 --add-subgids 165536-231071 tester");
        assertThatThrownBy(() -> Planner.plan(Mode.FULL, h)).isInstanceOf(GvshimException.class)
                .hasMessageContaining("/etc/subuid has no range")
                .satisfies(e -> assertThat(((GvshimException) e).failure().fix()).contains("usermod --add-subuids"));
    }

    @Test
    void noNewPrivsDefeatsTheHelpers() throws Exception {
        MappingPlan p = Planner.plan(Mode.AUTO, host(user(1000, DOCKER_BND, true), "app", "app:100000:65536",
                "app:100000:65536", SETUID_UID, SETUID_GID));
        assertThat(p.mode()).isEqualTo(Mode.SINGLE);
        assertThat(p.notFull()).isEqualTo("NoNewPrivs is set, so execve ignores the setuid bits and file capabilities of"
                + " newuidmap and newgidmap");
        assertThat(p.fullFix()).contains("no-new-privileges").contains("allowPrivilegeEscalation: true");
    }

    @Test
    void aSetuidHelperNeedsCapSysAdminButFileCapabilitiesDoNot() throws Exception {
        MappingPlan setuid = Planner.plan(Mode.AUTO, host(user(1000, DOCKER_BND, false), "app", "app:100000:65536",
                "app:100000:65536", SETUID_UID, SETUID_GID));
        assertThat(setuid.mode()).isEqualTo(Mode.SINGLE);
        assertThat(setuid.notFull()).contains("setuid root but CAP_SYS_ADMIN is not in the bounding set");
        assertThat(setuid.fullFix()).contains("setcap cap_setuid=ep /usr/bin/newuidmap")
                .contains("setcap cap_setgid=ep /usr/bin/newgidmap");
        MappingPlan fcaps = Planner.plan(Mode.AUTO, host(user(1000, DOCKER_BND, false), "app", "app:100000:65536",
                "app:100000:65536", FCAP_UID, FCAP_GID));
        assertThat(fcaps.mode()).isEqualTo(Mode.FULL);
    }

    @Test
    void missingOrUnprivilegedHelpersMeanSingle() throws Exception {
        MappingPlan missing = Planner.plan(Mode.AUTO, host(user(1000, ALL, false), "app", "app:100000:65536",
                "app:100000:65536", Helper.missing("newuidmap"), Helper.missing("newgidmap")));
        assertThat(missing.notFull()).contains("newuidmap is not installed").contains("newgidmap is not installed");
        assertThat(missing.fullFix()).isEqualTo(
                "install it (Debian/Ubuntu: apt-get install uidmap; Fedora/RHEL: dnf install shadow-utils)");
        MappingPlan plain = Planner.plan(Mode.AUTO, host(user(1000, ALL, false), "app", "app:100000:65536",
                "app:100000:65536", PLAIN_UID, SETUID_GID));
        assertThat(plain.notFull()).contains("neither the setuid bit nor file capabilities");
        assertThat(plain.fullFix()).startsWith("as root, `chmod u+s /usr/bin/newuidmap` or `setcap cap_setuid=ep");
    }

    @Test
    void rootWritesItsOwnMapsWithOrWithoutARange() throws Exception {
        MappingPlan bare = Planner.plan(Mode.AUTO, host(ROOT, "root", "", "", Helper.missing("newuidmap"), Helper.missing("newgidmap")));
        assertThat(bare.mode()).isEqualTo(Mode.FULL);
        assertThat(bare.viaHelpers()).isFalse();
        assertThat(bare.uidMap().procText()).isEqualTo("0 0 65536\n");
        MappingPlan ranged = Planner.plan(Mode.AUTO, host(ROOT, "root", "root:500000:65536", "root:500000:65536",
                SETUID_UID, SETUID_GID));
        assertThat(ranged.uidMap().procText()).isEqualTo("0 0 1\n1 500000 65536\n");
    }

    @Test
    void aRangeHoldingTheCallersOwnIdIsRefused() throws Exception {
        MappingPlan p = Planner.plan(Mode.AUTO, host(user(1001, ALL, false), "tester", "tester:1000:100",
                "tester:100000:65536", SETUID_UID, SETUID_GID));
        assertThat(p.mode()).isEqualTo(Mode.SINGLE);
        assertThat(p.notFull()).contains("contains the caller's own id 1001");
    }

    @Test
    void inANestedNamespaceTheRangesMustBeMappedThere() throws Exception {
        IdMap pod = new IdMap(List.of(new IdMap.Line(0, 100000, 65536)));
        Caller h = new Caller(user(1000, ALL, false), "app", SubIds.parse("app:200000:65536"),
                SubIds.parse("app:10000:1000"), SETUID_UID, SETUID_GID, pod, pod);
        MappingPlan p = Planner.plan(Mode.AUTO, h);
        assertThat(p.notFull()).contains("/etc/subuid range 200000-265535 is not mapped in this user namespace");
        assertThat(p.notFull()).doesNotContain("/etc/subgid range");
    }

    @Test
    void singleIsAlwaysPossibleWhenAsked() throws Exception {
        MappingPlan p = Planner.plan(Mode.SINGLE, host(ROOT, "root", "", "", SETUID_UID, SETUID_GID));
        assertThat(p.mode()).isEqualTo(Mode.SINGLE);
        assertThat(p.uidMap().procText()).isEqualTo("0 0 1\n");
        assertThat(p.notFull()).contains("--userns single was requested");
        assertThat(p.fullFix()).isNull();
    }

    @Test
    void coverageFollowsSplitMaps() {
        IdMap split = new IdMap(List.of(new IdMap.Line(0, 1000, 1), new IdMap.Line(1, 100000, 999), new IdMap.Line(1000, 200000, 1000)));
        assertThat(Planner.covered(split, new SubIds.Range(500, 1000))).isTrue();
        assertThat(Planner.covered(split, new SubIds.Range(1500, 1000))).isFalse();
    }
}

package dev.gvshim.runsc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import dev.gvshim.container.RunRequest;
import dev.gvshim.container.RunSpec;
import dev.gvshim.failure.GvshimException;
import dev.gvshim.oci.JsonTree;
import dev.gvshim.oci.Spec;
import dev.gvshim.oci.Specs;
import dev.gvshim.runsc.RunscConfig.Network;
import dev.gvshim.runsc.SpecPolicy.HostFile;
import dev.gvshim.runsc.SpecPolicy.HostFile.Kind;
import dev.gvshim.userns.Mode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The one rule for spec fields, for every field: honoured (possibly rewritten), refused, or said to be moot. */
class SpecPolicyTest {
    static final RunscRelease R2022 = RunscRelease.parse("runsc version 0.0~20221219.0\nspec: 1.0.2-dev");
    static final RunscRelease R2024 = RunscRelease.parse("runsc version release-20240715.0");
    static final Path NODEV = Path.of("/state/ct.gvshim/nodev");
    /** Host files the tests' specs name: everything else is a directory. */
    final Map<Path, HostFile> files = new HashMap<>();
    final Map<Path, String> links = new HashMap<>();
    final AtomicInteger releaseAsked = new AtomicInteger();

    SpecPolicy.Context ctx(RunscRelease release, boolean cgroups, String seccompOffBy) {
        return new SpecPolicy.Context(SpecPolicy.Mode.RUNTIME, "container ct", Path.of("/bundle"), cgroups, seccompOffBy,
                () -> {
                    releaseAsked.incrementAndGet();
                    return release;
                }, NODEV, p -> files.getOrDefault(p, new HostFile(Kind.DIRECTORY, 0, 0)), links::get);
    }

    static Spec spec(String json) throws Exception {
        return Spec.parse(json.replace('\'', '"').getBytes(StandardCharsets.UTF_8));
    }

    /** A minimal valid spec with {@code linux} as its linux section and {@code extra} fields of process merged. */
    static Spec spec(String linux, String process) throws Exception {
        return spec("{'ociVersion':'1.0.2','process':{'args':['true'],'cwd':'/'" + (process.isEmpty() ? "" : "," + process)
                + "},'root':{'path':'rootfs'},'linux':{" + linux + "}}");
    }

    static String seccomp(String defaultAction, String rules) {
        return "'seccomp':{'defaultAction':'" + defaultAction + "','syscalls':[" + rules + "]}";
    }

    static Spec docker() throws Exception {
        return Spec.parse(Files.readAllBytes(Path.of("src/test/resources/specs/docker-20.10-default.json")));
    }

    // ------------------------------------------------------------------ refusals

    static Stream<Arguments> refused() {
        return Stream.of(
                Arguments.of("notify", seccomp("SCMP_ACT_ALLOW", "{'names':['mkdir'],'action':'SCMP_ACT_NOTIFY'}"), "",
                        "SECCOMP_UNSUPPORTED", "SCMP_ACT_NOTIFY"),
                Arguments.of("listener", "'seccomp':{'defaultAction':'SCMP_ACT_ALLOW','listenerPath':'/run/agent.sock'}",
                        "", "SECCOMP_UNSUPPORTED", "listenerPath /run/agent.sock"),
                Arguments.of("kill process", seccomp("SCMP_ACT_KILL_PROCESS", ""), "", "SECCOMP_UNSUPPORTED",
                        "only the calling thread"),
                Arguments.of("log", seccomp("SCMP_ACT_ALLOW", "{'names':['ptrace'],'action':'SCMP_ACT_LOG'}"), "",
                        "SECCOMP_UNSUPPORTED", "cannot log"),
                Arguments.of("trace", seccomp("SCMP_ACT_ALLOW", "{'names':['ptrace'],'action':'SCMP_ACT_TRACE'}"), "",
                        "SECCOMP_UNSUPPORTED", "without checking the filter again"),
                Arguments.of("unknown action", seccomp("SCMP_ACT_NOPE", ""), "", "SECCOMP_UNSUPPORTED", "SCMP_ACT_NOPE"),
                Arguments.of("log flag", "'seccomp':{'defaultAction':'SCMP_ACT_ALLOW','flags':['SECCOMP_FILTER_FLAG_LOG']}",
                        "", "SECCOMP_UNSUPPORTED", "SECCOMP_FILTER_FLAG_LOG"),
                Arguments.of("arg index", seccomp("SCMP_ACT_ALLOW", "{'names':['kill'],'action':'SCMP_ACT_ERRNO',"
                        + "'args':[{'index':6,'value':1,'op':'SCMP_CMP_EQ'}]}"), "", "SECCOMP_UNSUPPORTED", "index 6"),
                Arguments.of("operator", seccomp("SCMP_ACT_ALLOW", "{'names':['kill'],'action':'SCMP_ACT_ERRNO',"
                        + "'args':[{'index':0,'value':1,'op':'SCMP_CMP_XX'}]}"), "", "SECCOMP_UNSUPPORTED", "SCMP_CMP_XX"),
                Arguments.of("seccomp type", "'seccomp':'default'", "", "SPEC_INVALID", "JSON object"),
                Arguments.of("apparmor", "", "'apparmorProfile':'my-strict'", "SPEC_APPARMOR", "my-strict"),
                Arguments.of("selinux", "", "'selinuxLabel':'system_u:system_r:container_t:s0:c1,c2'", "SPEC_SELINUX",
                        "SELinux"),
                Arguments.of("mount label", "'mountLabel':'system_u:object_r:container_file_t:s0:c1,c2'", "",
                        "SPEC_SELINUX", "linux.mountLabel"),
                Arguments.of("rlimit", "", "'rlimits':[{'type':'RLIMIT_BOGUS','soft':1,'hard':1}]", "SPEC_RLIMIT",
                        "RLIMIT_BOGUS"),
                Arguments.of("intel rdt", "'intelRdt':{'closID':'guaranteed'}", "", "SPEC_INTEL_RDT", "resctrl"),
                Arguments.of("umask", "", "'user':{'uid':0,'gid':0,'umask':63}", "SPEC_UMASK", "more open than 0077"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource
    void refused(String name, String linux, String process, String id, String why) throws Exception {
        Spec s = spec(linux, process);
        String before = s.toString();
        assertThatThrownBy(() -> SpecPolicy.check(s, ctx(R2022, true, null)))
                .isInstanceOfSatisfying(GvshimException.class, e -> {
                    assertThat(e.failure().id()).isEqualTo(id);
                    String line = e.failure().oneLine();
                    assertThat(line).contains(why).startsWith("gvshim: cannot honour ").contains(" of container ct: ")
                            .contains(". Fix: ").endsWith("[" + id + "]").doesNotContain("\n").doesNotContain("Exception");
                });
        assertThat(s.toString()).as("the caller's spec is never modified").isEqualTo(before);
    }

    @Test
    void maskedAndReadOnlyPathsOnTheHostAreMountedAsRuncDoes() throws Exception {
        files.put(Path.of("/bundle/rootfs/etc/shadow"), new HostFile(Kind.FILE, 0, 0));
        files.put(Path.of("/bundle/rootfs/gone"), new HostFile(Kind.MISSING, 0, 0));
        Spec s = spec("{'ociVersion':'1.0.2','process':{'args':['true'],'cwd':'/'},'root':{'path':'rootfs'},"
                + "'mounts':[{'destination':'/proc','type':'proc','source':'proc'},"
                + "{'destination':'/sys','type':'none','source':'/sys','options':['rbind','ro']},"
                + "{'destination':'/data','type':'bind','source':'/srv/data'}],"
                + "'linux':{'maskedPaths':['/proc/kcore','/sys/firmware','/etc/secret','/etc/shadow','/gone'],"
                + "'readonlyPaths':['/proc/sys','/data/conf/']}}");
        SpecPolicy.Result r = SpecPolicy.check(s, ctx(R2022, true, null));
        assertThat(r.changed()).isTrue();
        List<String> added = r.spec().mounts().stream().skip(3).map(m -> m.destination() + " " + m.type() + " "
                + m.source() + " " + m.options()).toList();
        assertThat(added).containsExactly(
                "/sys/firmware tmpfs tmpfs [ro, nosuid, nodev, noexec, size=4k, mode=555]", // the host's /sys is bound: runc's mask
                "/etc/secret tmpfs tmpfs [ro, nosuid, nodev, noexec, size=4k, mode=555]",
                "/etc/shadow bind " + NODEV.resolve("masked") + " [bind, ro, nosuid, nodev, noexec]",
                "/data/conf bind /srv/data/conf [rbind, ro]");
        assertThat(r.emptyFile()).isEqualTo(NODEV.resolve("masked"));
        assertThat(r.moot()).anyMatch(l -> l.startsWith("linux.maskedPaths and readonlyPaths (2 under gVisor's own"));
    }

    @Test
    void aMaskedPathGvshimCannotResolveOnTheHostIsRefused() throws Exception {
        links.put(Path.of("/bundle/rootfs/etc"), "/real/etc");
        assertThatThrownBy(() -> SpecPolicy.check(spec("'maskedPaths':['/etc/secret']", ""), ctx(R2022, true, null)))
                .hasMessageContaining("symbolic link /bundle/rootfs/etc").hasMessageContaining("[SPEC_MASKED_PATH]");
        Spec tmp = spec("{'ociVersion':'1.0.2','process':{'args':['true'],'cwd':'/'},'root':{'path':'rootfs'},"
                + "'mounts':[{'destination':'/run','type':'tmpfs','source':'tmpfs'}],'linux':{'readonlyPaths':['/run/x']}}");
        assertThatThrownBy(() -> SpecPolicy.check(tmp, ctx(R2022, true, null)))
                .hasMessageContaining("/run/x is in the sandbox's own tmpfs at /run").hasMessageContaining("[SPEC_MASKED_PATH]");
    }

    @Test
    void resourceLimitsAreRefusedOnlyWhereRunscWouldDropThem() throws Exception {
        Spec s = spec("'resources':{'memory':{'limit':104857600},'pids':{'limit':50},'cpu':{'shares':0}}", "");
        Spec rootOk = spec("'resources':{'memory':{'limit':104857600},'pids':{'limit':0},'cpu':{'shares':512}}", "");
        assertThat(SpecPolicy.check(rootOk, ctx(R2022, true, null)).changed()).as("root runtime: runsc applies them").isFalse();
        assertThatThrownBy(() -> SpecPolicy.check(s, ctx(R2022, true, null))).as("root runtime: a pids limit kills the sandbox")
                .hasMessageContaining("cannot honour linux.resources.pids.limit (50)")
                .hasMessageContaining("counts gVisor's own threads").hasMessageContaining("[SPEC_PIDS_LIMIT]");
        assertThatThrownBy(() -> SpecPolicy.check(s, ctx(R2022, false, null)))
                .hasMessageContaining("it limits memory.limit, pids.limit,").hasMessageContaining("[SPEC_RESOURCES]");
        // Docker's empty values are no limits
        Spec empty = spec("'resources':{'memory':{'disableOOMKiller':false},'cpu':{'shares':0},'blockIO':{'weight':0}}", "");
        assertThat(SpecPolicy.check(empty, ctx(R2022, false, null)).changed()).isFalse();
    }

    @Test
    void hooksInTheContainersNamespacesAreRefusedNotSilentlySkipped() throws Exception {
        for (String kind : List.of("createContainer", "startContainer")) {
            Spec s = spec("{'ociVersion':'1.0.2','process':{'args':['true'],'cwd':'/'},'root':{'path':'rootfs'},"
                    + "'hooks':{'" + kind + "':[{'path':'/sbin/ldconfig'}]}}");
            assertThatThrownBy(() -> SpecPolicy.check(s, ctx(R2022, true, null))).as(kind)
                    .hasMessageContaining("cannot honour hooks." + kind).hasMessageContaining("[HOOK_UNSUPPORTED]");
        }
        Spec ok = spec("{'ociVersion':'1.0.2','process':{'args':['true'],'cwd':'/'},'root':{'path':'rootfs'},"
                + "'hooks':{'prestart':[{'path':'/bin/true'}],'createRuntime':[{'path':'/bin/true'}],'poststop':[],"
                + "'createContainer':[]}}");
        assertThat(SpecPolicy.check(ok, ctx(R2022, true, null)).changed()).as("host hooks, and empty lists").isFalse();
    }

    @Test
    void recursivelyReadOnlyIsGVisorsReadOnlyNotSilentlyReadWrite() throws Exception {
        Spec s = spec("{'ociVersion':'1.0.2','process':{'args':['true'],'cwd':'/'},'root':{'path':'rootfs'},"
                + "'mounts':[{'destination':'/a','type':'bind','source':'/srv/a','options':['rbind','rro']},"
                + "{'destination':'/b','type':'bind','source':'/srv/b','options':['rbind','ro','rro']},"
                + "{'destination':'/c','type':'bind','source':'/srv/c','options':['rbind','rrw']},"
                + "{'destination':'/d','type':'bind','source':'/srv/d','options':['rbind']}]}");
        SpecPolicy.Result r = SpecPolicy.check(s, ctx(R2022, true, null));
        assertThat(r.changed()).isTrue();
        List<String> opts = new java.util.ArrayList<>();
        r.spec().json().path("mounts").forEach(m -> opts.add(m.path("destination").asText() + " " + m.path("options")));
        assertThat(opts).as("runsc 2022-12 does not know rro and mounted /a read-write").containsExactly(
                "/a [\"rbind\",\"ro\"]", "/b [\"rbind\",\"ro\"]", "/c [\"rbind\"]", "/d [\"rbind\"]");
        assertThat(r.rewrites()).containsExactly("mount /a option rro as ro (gVisor's ro is recursive)");
        assertThat(s.json().path("mounts").get(0).path("options").toString()).as("the caller's spec untouched")
                .isEqualTo("[\"rbind\",\"rro\"]");
    }

    @Test
    void aDeviceFileMountTheRulesDenyIsRefusedOneTheyAllowIsKept() throws Exception {
        files.put(Path.of("/dev/kmsg"), new HostFile(Kind.CHAR, 1, 11));
        files.put(Path.of("/dev/null"), new HostFile(Kind.CHAR, 1, 3));
        String rules = "'resources':{'devices':[{'allow':false,'access':'rwm'},"
                + "{'allow':true,'type':'c','major':1,'minor':3,'access':'rwm'}]}";
        Spec kmsg = spec("{'ociVersion':'1.0.2','process':{'args':['true'],'cwd':'/'},'root':{'path':'rootfs'},"
                + "'mounts':[{'destination':'/k','type':'bind','source':'/dev/kmsg'}],'linux':{" + rules + "}}");
        assertThatThrownBy(() -> SpecPolicy.check(kmsg, ctx(R2022, true, null)))
                .hasMessageContaining("character device 1:11").hasMessageContaining("[SPEC_DEVICE]");
        Spec nul = spec("{'ociVersion':'1.0.2','process':{'args':['true'],'cwd':'/'},'root':{'path':'rootfs'},"
                + "'mounts':[{'destination':'/n','type':'bind','source':'/dev/null'}],'linux':{" + rules + "}}");
        SpecPolicy.Result r = SpecPolicy.check(nul, ctx(R2022, true, null));
        assertThat(r.nodev()).extracting(SpecPolicy.NodevBind::source).containsExactly(Path.of("/bundle/rootfs"));
        assertThat(r.spec().mounts().getFirst().source()).isEqualTo("/dev/null");
    }

    // ------------------------------------------------------------------ honoured, rewritten, moot

    @Test
    void dockersDefaultSpecIsHonouredWithClone3ExactOnRunsc2022() throws Exception {
        Spec d = docker();
        SpecPolicy.Result r = SpecPolicy.check(d, ctx(R2022, true, null));
        assertThat(r.ociSeccomp()).isTrue();
        assertThat(r.changed()).isTrue();
        JsonNode rules = r.spec().json().at("/linux/seccomp/syscalls");
        JsonNode clone3 = rule(rules, "clone3");
        assertThat(clone3.path("action").asText()).as("runsc 2022-12 answers clone3 with ENOSYS itself").isEqualTo("SCMP_ACT_ALLOW");
        assertThat(clone3.has("errnoRet")).isFalse();
        assertThat(r.ignored()).noneMatch(l -> l.contains("errnoRet"));
        assertThat(r.ignored()).anyMatch(l -> l.startsWith("linux.sysctl net.ipv4.ip_unprivileged_port_start, "
                + "net.ipv4.ping_group_range: not applied"));
        assertThat(r.moot()).anyMatch(l -> l.startsWith("linux.maskedPaths and readonlyPaths (15 under gVisor's own"));
        assertThat(r.moot()).anyMatch(l -> l.contains("architectures other than the native one"));
        // Docker's device rules deny all but a few: the root file system and every bind source get nodev copies
        assertThat(r.nodev()).hasSize(4);
        assertThat(r.nodev().getFirst()).isEqualTo(new SpecPolicy.NodevBind(
                Path.of(d.root().path()), NODEV.resolve("rootfs"), true, false));
        assertThat(r.spec().root().path()).isEqualTo(NODEV.resolve("rootfs").toString());
        assertThat(r.spec().mounts()).filteredOn(m -> "bind".equals(m.type()))
                .allSatisfy(m -> assertThat(m.source()).startsWith(NODEV.toString()));
        assertThat(d.json().at("/linux/seccomp/syscalls").toString()).as("original untouched").contains("\"errnoRet\":38");
    }

    @Test
    void clone3StaysDeniedWhereRunscImplementsItOrItsReleaseIsUnknown() throws Exception {
        for (RunscRelease rel : List.of(R2024, RunscRelease.UNKNOWN)) {
            SpecPolicy.Result r = SpecPolicy.check(docker(), ctx(rel, true, null));
            JsonNode clone3 = rule(r.spec().json().at("/linux/seccomp/syscalls"), "clone3");
            assertThat(clone3.path("action").asText()).as(rel.label()).isEqualTo("SCMP_ACT_ERRNO");
            assertThat(r.ignored()).as(rel.label()).anyMatch(l -> l.contains("errnoRet 38 for clone3: the call is denied"
                    + " with EPERM instead"));
        }
    }

    @Test
    void clone3SharingARuleWithOtherCallsIsSplit() throws Exception {
        Spec s = spec(seccomp("SCMP_ACT_ALLOW", "{'names':['clone3','fsopen'],'action':'SCMP_ACT_ERRNO','errnoRet':38}"), "");
        SpecPolicy.Result r = SpecPolicy.check(s, ctx(R2022, true, null));
        ArrayNode rules = (ArrayNode) r.spec().json().at("/linux/seccomp/syscalls");
        assertThat(rules).hasSize(2);
        assertThat(rule(rules, "clone3").path("action").asText()).isEqualTo("SCMP_ACT_ALLOW");
        assertThat(rule(rules, "fsopen").path("action").asText()).isEqualTo("SCMP_ACT_ERRNO");
        assertThat(r.ignored()).anyMatch(l -> l.contains("errnoRet 38 for fsopen"));
    }

    @Test
    void killThreadIsRunscsKillAndAPlainProfileIsPassedAsItIs() throws Exception {
        Spec s = spec(seccomp("SCMP_ACT_KILL_THREAD", "{'names':['mkdir','mkdirat'],'action':'SCMP_ACT_ERRNO'}"), "");
        SpecPolicy.Result r = SpecPolicy.check(s, ctx(R2022, true, null));
        assertThat(r.spec().json().at("/linux/seccomp/defaultAction").asText()).isEqualTo("SCMP_ACT_KILL");
        assertThat(r.rewrites()).anyMatch(l -> l.contains("SCMP_ACT_KILL_THREAD as SCMP_ACT_KILL"));
        Spec plain = spec(seccomp("SCMP_ACT_ALLOW", "{'names':['mkdir','mkdirat'],'action':'SCMP_ACT_ERRNO','errnoRet':1}"), "");
        SpecPolicy.Result p = SpecPolicy.check(plain, ctx(R2022, true, null));
        assertThat(p.ociSeccomp()).isTrue();
        assertThat(p.changed()).as("nothing to rewrite: runsc reads the bundle's own config.json").isFalse();
        assertThat(p.spec()).isSameAs(plain);
        assertThat(releaseAsked).as("the release is asked only when a decision needs it").hasValue(0);
    }

    @Test
    void anOperatorsOciSeccompFalseIsAWarningNotARefusal() throws Exception {
        Spec s = spec(seccomp("SCMP_ACT_ALLOW", "{'names':['mkdir'],'action':'SCMP_ACT_NOTIFY'}"), "");
        SpecPolicy.Result r = SpecPolicy.check(s, ctx(R2022, true, "in /etc/gvshim/config.json"));
        assertThat(r.ociSeccomp()).isFalse();
        assertThat(r.ignored()).containsExactly("linux.seccomp: not applied inside the sandbox (oci-seccomp=false in"
                + " /etc/gvshim/config.json; gVisor alone is the boundary)");
    }

    @Test
    void capabilitiesRunscDoesNotKnowAreRemovedAndSaidToBeMoot() throws Exception {
        String caps = "'capabilities':{'bounding':['CAP_KILL','CAP_PERFMON','CAP_BPF'],'effective':['CAP_KILL','CAP_BPF'],"
                + "'permitted':['CAP_KILL'],'ambient':['CAP_KILL']}";
        SpecPolicy.Result r = SpecPolicy.check(spec("", caps), ctx(R2022, true, null));
        assertThat(r.spec().json().at("/process/capabilities/bounding").toString()).isEqualTo("[\"CAP_KILL\"]");
        assertThat(r.spec().json().at("/process/capabilities/effective").toString()).isEqualTo("[\"CAP_KILL\"]");
        assertThat(r.moot()).anyMatch(l -> l.startsWith("process.capabilities CAP_PERFMON, CAP_BPF (removed: runsc 2022-12-19"));
        assertThat(r.moot()).anyMatch(l -> l.startsWith("process.capabilities.ambient"));
        SpecPolicy.Result newer = SpecPolicy.check(spec("", caps), ctx(R2024, true, null));
        assertThat(newer.spec().json().at("/process/capabilities/bounding")).hasSize(3);
    }

    @Test
    void appArmorDefaultsAreMootUnconfinedIsNothing() throws Exception {
        for (String p : List.of("docker-default", "cri-containerd.apparmor.d", "containers-default-0.57.4")) {
            SpecPolicy.Result r = SpecPolicy.check(spec("", "'apparmorProfile':'" + p + "'"), ctx(R2022, true, null));
            assertThat(r.moot()).as(p).anyMatch(l -> l.startsWith("process.apparmorProfile " + p));
        }
        assertThat(SpecPolicy.check(spec("", "'apparmorProfile':'unconfined'"), ctx(R2022, true, null)).moot()).isEmpty();
    }

    @Test
    void umaskStricterThanRunscsIsRefusedLaxerIsMootAndNewerRunscAppliesIt() throws Exception {
        assertThat(SpecPolicy.check(spec("", "'user':{'uid':0,'gid':0,'umask':2}"), ctx(R2022, true, null)).moot())
                .anyMatch(l -> l.startsWith("process.user.umask 0002 (runsc 2022-12-19 uses 0022"));
        assertThat(SpecPolicy.check(spec("", "'user':{'uid':0,'gid':0,'umask':18}"), ctx(R2022, true, null)).moot()).isEmpty();
        RunscRelease r2025 = RunscRelease.parse("runsc version release-20250106.0");
        assertThat(SpecPolicy.check(spec("", "'user':{'uid':0,'gid':0,'umask':63}"), ctx(r2025, true, null)).moot()).isEmpty();
    }

    @Test
    void devicesWithoutRestrictingRulesNeedNoCopiesExceptANodevMount() throws Exception {
        Spec s = spec("{'ociVersion':'1.0.2','process':{'args':['true'],'cwd':'/'},'root':{'path':'rootfs'},"
                + "'mounts':[{'destination':'/a','type':'bind','source':'a'},"
                + "{'destination':'/b','type':'none','source':'/srv/b','options':['rbind','nodev']}],"
                + "'linux':{'resources':{'devices':[{'allow':true,'access':'rwm'}]},'devices':[{'path':'/dev/fuse',"
                + "'type':'c','major':10,'minor':229}]}}");
        SpecPolicy.Result r = SpecPolicy.check(s, ctx(R2022, true, null));
        assertThat(r.nodev()).containsExactly(new SpecPolicy.NodevBind(Path.of("/srv/b"), NODEV.resolve("m2"), true, false));
        assertThat(r.spec().mounts().get(0).source()).isEqualTo("a");
        assertThat(r.spec().mounts().get(1).source()).isEqualTo(NODEV.resolve("m2").toString());
        assertThat(r.moot()).anyMatch(l -> l.startsWith("linux.devices /dev/fuse (not created"));
    }

    static ArrayNode rules(String json) throws Exception {
        return (ArrayNode) JsonTree.read(json.replace('\'', '"').getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void deviceRulesAreEvaluatedAsRuncsEmulatorDoes() throws Exception {
        ArrayNode deny = rules("[{'allow':false,'access':'rwm'},{'allow':true,'type':'c','major':1,'minor':3,'access':'rwm'},"
                + "{'allow':true,'type':'c','major':136,'access':'rwm'}]");
        assertThat(DeviceFields.allowsAllCharDevices(deny)).isFalse();
        assertThat(DeviceFields.allowed(deny, 1, 3)).isTrue();
        assertThat(DeviceFields.allowed(deny, 136, 7)).as("minor wildcard").isTrue();
        assertThat(DeviceFields.allowed(deny, 1, 11)).isFalse();
        assertThat(DeviceFields.allowsAllCharDevices(rules("[{'allow':false,'access':'rwm'},{'allow':true,'type':'a',"
                + "'access':'rwm'}]"))).as("docker run --privileged").isTrue();
        assertThat(DeviceFields.allowsAllCharDevices(rules("[{'allow':false,'type':'b','access':'rwm'}]"))).isTrue();
        assertThat(DeviceFields.allowsAllCharDevices(rules("[{'allow':true,'access':'rwm'},{'allow':false,'type':'c',"
                + "'major':1,'minor':11,'access':'rwm'}]"))).as("one device denied").isFalse();
    }

    @Test
    void gvshimsOwnSpecsTripNothing() throws Exception {
        RunRequest req = new RunRequest(List.of("/bin/true"), null, Path.of("/"), List.of(), List.of(), null, List.of(),
                false, Network.NONE, null, 2, null, null, null, Mode.AUTO, RunRequest.Tty.NEVER, null, null, null, false,
                false, false, true);
        Spec generated = RunSpec.generate(req, new RunSpec.Context(Map.of("PATH", "/usr/bin"), Path.of("/home/u"),
                Path.of("/run/user/1000/gvshim"), "/opt/gvshim/libexec/gvshim-hook", List.of("gvshim-hook"), 1024, 4096));
        SpecPolicy.Result r = SpecPolicy.check(generated, new SpecPolicy.Context(SpecPolicy.Mode.RUN, "gvshim run",
                null, false, null, () -> R2022, Path.of("/run/user/1000/gvshim/gv1/nodev"),
                p -> new HostFile(Kind.DIRECTORY, 0, 0), p -> null));
        assertThat(r.ociSeccomp()).isFalse();
        assertThat(r.ignored()).isEmpty();
        assertThat(r.nodev()).as("no host device node reachable through the host's root, read-only").hasSize(1);
        assertThat(r.nodev().getFirst().source()).isEqualTo(Path.of("/"));
        assertThat(r.nodev().getFirst().readOnly()).as("gvshim makes the copy read-only: runsc's remount would clear nodev")
                .isTrue();
        assertThat(r.spec().root().readonly()).isFalse();
        assertThat(generated.root().readonly()).isTrue();
        // the writable root (no --read-only): runsc's overlay takes the writes, the copy under it stays read-only
        RunRequest writable = new RunRequest(List.of("/bin/true"), null, Path.of("/"), List.of(), List.of(), null, List.of(),
                false, Network.NONE, null, 2, null, null, null, Mode.AUTO, RunRequest.Tty.NEVER, null, null, null, false,
                false, false, false);
        SpecPolicy.Result w = SpecPolicy.check(RunSpec.generate(writable, new RunSpec.Context(Map.of("PATH", "/usr/bin"),
                Path.of("/home/u"), Path.of("/run/user/1000/gvshim"), "/opt/gvshim/libexec/gvshim-hook", List.of("gvshim-hook"),
                1024, 4096)), new SpecPolicy.Context(SpecPolicy.Mode.RUN, "gvshim run", null, false, null, () -> R2022,
                Path.of("/run/user/1000/gvshim/gv1/nodev"), p -> new HostFile(Kind.DIRECTORY, 0, 0), p -> null));
        assertThat(w.nodev().getFirst().readOnly()).as("a writable spec root: a writable copy").isFalse();
        assertThat(w.withReadOnlyRootCopy().nodev().getFirst().readOnly()).isTrue();
        assertThat(w.withReadOnlyRootCopy().spec().root().readonly()).as("runsc: writable, behind its overlay").isFalse();
        Spec example = Specs.example(List.of("sh"), "h");
        assertThat(SpecPolicy.check(example, ctx(R2022, true, null)).ignored()).isEmpty();
        // `gvshim spec --rootless` is runc's: the host's /sys bound read-only, its /sys/firmware masked by gvshim's tmpfs
        SpecPolicy.Result rootless = SpecPolicy.check(Specs.toRootless(Specs.example(List.of("sh"), "h"), 1000, 1000),
                ctx(R2022, false, null));
        assertThat(rootless.ignored()).isEmpty();
        assertThat(rootless.spec().mounts()).anyMatch(m -> m.destination().equals("/sys/firmware") && m.type().equals("tmpfs"));
    }

    @Test
    void releaseIsReadFromRunscsVersion() {
        assertThat(R2022.date()).isEqualTo(20221219);
        assertThat(R2022.clone3Enosys()).isTrue();
        assertThat(R2022.filtersExec()).isFalse();
        assertThat(R2022.knowsNewCapabilities()).isFalse();
        assertThat(R2024.date()).isEqualTo(20240715);
        assertThat(R2024.clone3Enosys()).isFalse();
        assertThat(R2024.knowsNewCapabilities()).isTrue();
        assertThat(R2024.filtersExec()).isFalse();
        assertThat(RunscRelease.parse("runsc version release-20260330.0").filtersExec()).isTrue();
        assertThat(RunscRelease.parse("runsc version 0.0~20240729.0").date()).isEqualTo(20240729);
        for (String v : List.of("runsc version VERSION_MISSING", "", "garbage 2022")) {
            RunscRelease u = RunscRelease.parse(v);
            assertThat(u.known()).as(v).isFalse();
            assertThat(u.clone3Enosys() || u.filtersExec() || u.appliesUmask()).as("unknown: the answers that keep isolation")
                    .isFalse();
            assertThat(u.knowsNewCapabilities()).isFalse();
        }
    }

    private static JsonNode rule(JsonNode rules, String name) {
        for (JsonNode r : rules) {
            for (JsonNode n : r.path("names")) {
                if (n.asText().equals(name)) {
                    return r;
                }
            }
        }
        throw new AssertionError("no rule for " + name + " in " + rules);
    }
}

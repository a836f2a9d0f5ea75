package dev.gvshim.container;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gvshim.failure.GvshimException;
import dev.gvshim.oci.JsonTree;
import dev.gvshim.runsc.Runsc;
import dev.gvshim.runsc.RunscRelease;
import dev.gvshim.runsc.SpecPolicy;
import java.util.List;

/**
 * `features`: the OCI runtime-spec "features" document (features.md, runtime-spec 1.1), for
 * what gVisor under gvshim actually honours: the namespaces gVisor implements, no cgroup driver
 * of its own (runsc places the whole sandbox), the seccomp actions, operators and flags gvshim
 * can have runsc apply exactly ({@link SpecPolicy}; disabled only where the operator set
 * oci-seccomp=false), the capabilities this runsc knows, no AppArmor, SELinux or Intel RDT, and
 * the mount options gVisor's mount code parses (not nr_inodes: runsc 2022-12's tmpfs fails a
 * mount with an option it does not know, "tmpfs.FilesystemType.GetFilesystem: unknown options",
 * EINVAL). The annotations say which other spec fields are moot, ignored or refused (docs/spec-fields.md's
 * "Spec fields" table).
 */
public final class Features {
    private Features() {
    }

    /** `features`: the document for this configuration and runsc, on stdout. */
    public static int print(RuntimeCall rc, String version) throws GvshimException {
        RuntimeConfig c = rc.config();
        RunscRelease release = RunscRelease.UNKNOWN;
        try {
            java.nio.file.Path runsc = Runsc.locateFrom(rc.call.cwd(), c.runsc(), rc.call.env().get("PATH"));
            if (runsc != null) {
                release = RunscRelease.of(runsc, rc.releaseCache(false)); // features changes nothing on the host
            }
        } catch (GvshimException e) {
            // the document then claims only what every release honours
        }
        rc.call.out().print(json(version, !Boolean.FALSE.equals(c.ociSeccomp()), release, c.execWithoutSeccomp())); // ends with its newline, as runc's json.Encoder
        rc.call.out().flush();
        return 0;
    }

    static String json(String version, boolean ociSeccomp, RunscRelease release) {
        return json(version, ociSeccomp, release, false);
    }

    /** {@code execWithoutSeccomp}: the operator's opt-in ({@link RuntimeConfig#execWithoutSeccomp}). */
    static String json(String version, boolean ociSeccomp, RunscRelease release, boolean execWithoutSeccomp) {
        ObjectNode o = JsonTree.nodes().objectNode();
        o.put("ociVersionMin", "1.0.0");
        o.put("ociVersionMax", dev.gvshim.failure.Versions.SPEC);
        strings(o.putArray("hooks"), List.of("prestart", "createRuntime", "poststart", "poststop"));
        strings(o.putArray("mountOptions"), List.of("bind", "rbind", "ro", "rw", "nosuid", "suid", "nodev", "dev",
                "noexec", "exec", "private", "rprivate", "shared", "rshared", "slave", "rslave", "mode", "size",
                "uid", "gid", "strictatime", "relatime", "noatime"));
        ObjectNode linux = o.putObject("linux");
        strings(linux.putArray("namespaces"), List.of("cgroup", "ipc", "mount", "network", "pid", "user", "uts"));
        strings(linux.putArray("capabilities"), SpecPolicy.capabilities(release));
        ObjectNode cg = linux.putObject("cgroup");
        cg.put("v1", true);
        cg.put("v2", true);
        cg.put("systemd", false);
        cg.put("systemdUser", false);
        ObjectNode sc = linux.putObject("seccomp");
        sc.put("enabled", ociSeccomp);
        strings(sc.putArray("actions"), SpecPolicy.ACTIONS);
        strings(sc.putArray("operators"), List.of("SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ",
                "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ"));
        // gVisor filters only its native architecture's calls, and has no others (a 32-bit int 0x80 gets EINVAL):
        // a profile listing the compat architectures, as Docker's does, means the same thing there
        strings(sc.putArray("archs"), List.of("SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", "SCMP_ARCH_AARCH64",
                "SCMP_ARCH_ARM"));
        strings(sc.putArray("knownFlags"), SpecPolicy.KNOWN_FLAGS);
        strings(sc.putArray("supportedFlags"), SpecPolicy.SUPPORTED_FLAGS);
        linux.putObject("apparmor").put("enabled", false);
        linux.putObject("selinux").put("enabled", false);
        linux.putObject("intelRdt").put("enabled", false);
        ObjectNode ann = o.putObject("annotations");
        ann.put("dev.gvshim.version", version);
        ann.put("dev.gvshim.runtime", "runsc (gVisor)");
        ann.put("dev.gvshim.annotations", "dev.gvisor.flag.* when allowFlagOverride is set in /etc/gvshim/config.json");
        ann.put("dev.gvshim.runscRelease", release.label());
        ann.put("dev.gvshim.specMoot", "linux.maskedPaths and readonlyPaths under gVisor's own /proc and /sys;"
                + " process.apparmorProfile docker-default, cri-containerd.apparmor.d, crio-default, containers-default-*;"
                + " linux.devices; capabilities runsc does not know; ambient capabilities; seccomp architectures;"
                + " seccomp flags SPEC_ALLOW and WAIT_KILLABLE_RECV; cgroup mounts (runsc mounts none)");
        ann.put("dev.gvshim.specIgnored", "linux.sysctl; linux.personality; seccomp errnoRet and defaultErrnoRet other"
                + " than EPERM (denied with EPERM; clone3's ENOSYS is exact where runsc does not implement clone3)");
        ann.put("dev.gvshim.specRefused", "process.selinuxLabel; linux.mountLabel; other AppArmor profiles;"
                + " linux.intelRdt; seccomp SCMP_ACT_NOTIFY, SCMP_ACT_LOG, SCMP_ACT_TRACE, SCMP_ACT_KILL_PROCESS,"
                + " listenerPath, flag LOG; rlimits runsc does not know; a umask stricter than 0022 where runsc ignores it;"
                + " linux.resources limits where gvshim runs the sandbox without cgroups; a masked or read-only path"
                + " gvshim cannot resolve on the host; a bound device the device rules deny; proc or sysfs mounted on a"
                + " symbolic link (as runc); a read-only /dev where runsc refuses writes to its devices");
        if (!release.filtersExec()) {
            ann.put("dev.gvshim.seccompExec", (execWithoutSeccomp ? "allowed without the profile (execWithoutSeccomp is"
                    + " set; a warning in --log for each)" : "refused") + " in a container whose seccomp profile runsc"
                    + " applies: runsc " + release.label() + " does not filter exec'd processes (from release-20260330 it"
                    + " does)");
        }
        return new String(JsonTree.write(o), java.nio.charset.StandardCharsets.UTF_8);
    }

    private static void strings(ArrayNode a, List<String> values) {
        values.forEach(a::add);
    }
}

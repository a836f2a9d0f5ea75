package dev.gvshim.runtime;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gvshim.oci.JsonTree;
import java.util.List;

/**
 * `features`: the OCI runtime-spec "features" document (features.md, runtime-spec 1.1), for
 * what gVisor 2022-12 under gvshim actually honours: the namespaces gVisor implements, no
 * cgroup driver of its own (runsc places the whole sandbox), the spec's seccomp filter only when
 * runsc's oci-seccomp flag is configured (runsc ignores it otherwise: the sandbox is the filter), no AppArmor or SELinux (the sandbox is the confinement), and the mount options
 * gVisor's mount code parses (not nr_inodes: runsc 2022-12's tmpfs fails a mount with an option
 * it does not know, "tmpfs.FilesystemType.GetFilesystem: unknown options", EINVAL).
 */
final class Features {
    private Features() {
    }

    static String json(String version, boolean ociSeccomp) {
        ObjectNode o = JsonTree.nodes().objectNode();
        o.put("ociVersionMin", "1.0.0");
        o.put("ociVersionMax", "1.0.2");
        strings(o.putArray("hooks"), List.of("prestart", "createRuntime", "poststart", "poststop"));
        strings(o.putArray("mountOptions"), List.of("bind", "rbind", "ro", "rw", "nosuid", "suid", "nodev", "dev",
                "noexec", "exec", "private", "rprivate", "shared", "rshared", "slave", "rslave", "mode", "size",
                "uid", "gid", "strictatime", "relatime", "noatime"));
        ObjectNode linux = o.putObject("linux");
        strings(linux.putArray("namespaces"), List.of("cgroup", "ipc", "mount", "network", "pid", "user", "uts"));
        strings(linux.putArray("capabilities"), List.of("CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH",
                "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP",
                "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW",
                "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
                "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME",
                "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP",
                "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND",
                "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE"));
        ObjectNode cg = linux.putObject("cgroup");
        cg.put("v1", true);
        cg.put("v2", true);
        cg.put("systemd", false);
        cg.put("systemdUser", false);
        ObjectNode sc = linux.putObject("seccomp");
        sc.put("enabled", ociSeccomp);
        strings(sc.putArray("actions"), List.of("SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD",
                "SCMP_ACT_TRAP", "SCMP_ACT_ERRNO", "SCMP_ACT_TRACE", "SCMP_ACT_ALLOW", "SCMP_ACT_LOG"));
        strings(sc.putArray("operators"), List.of("SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ",
                "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ"));
        strings(sc.putArray("archs"), List.of("SCMP_ARCH_X86_64", "SCMP_ARCH_AARCH64"));
        linux.putObject("apparmor").put("enabled", false);
        linux.putObject("selinux").put("enabled", false);
        ObjectNode ann = o.putObject("annotations");
        ann.put("dev.gvshim.version", version);
        ann.put("dev.gvshim.runtime", "runsc (gVisor)");
        ann.put("dev.gvshim.annotations", "dev.gvisor.flag.* when allowFlagOverride is set in /etc/gvshim/config.json");
        return new String(JsonTree.write(o), java.nio.charset.StandardCharsets.UTF_8);
    }

    private static void strings(ArrayNode a, List<String> values) {
        values.forEach(a::add);
    }
}

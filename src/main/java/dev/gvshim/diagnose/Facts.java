package dev.gvshim.diagnose;

import dev.gvshim.failure.GvshimException;
import dev.gvshim.linux.ProcStatus;
import dev.gvshim.runsc.Runsc;
import dev.gvshim.userns.Caller;
import dev.gvshim.userns.IdMap;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * What the static probes read: files only, all relative to {@code root} ("/" except in
 * tests, which point it at fixture trees of other distributions and containers). Nothing
 * here is decided; {@link Doctor} and {@link Explain} reason about it.
 *
 * @param caller  this process as user namespaces see it (credentials, subordinate ids, helpers, own maps)
 * @param mounts  this process's mount table
 * @param runsc   the runsc gvshim would use, or null
 * @param runscGiven the --runsc option as given, or null
 * @param pathEnv $PATH, where runsc and the id helpers are searched
 */
public record Facts(Path root, Environment env, Caller caller, Kernel kernel, Lsm lsm, Mounts mounts,
        Cgroup cgroup, Kvm kvm, Path runsc, String runscGiven, String pathEnv) {

    /**
     * Kernel switches for user namespaces and ptrace; null where the file does not exist on
     * this kernel (Debian's and Ubuntu's knobs are distribution patches).
     *
     * @param userNs               /proc/self/ns/user exists (CONFIG_USER_NS)
     * @param moduleEnable         RHEL 7's /sys/module/user_namespace/parameters/enable
     */
    public record Kernel(String release, boolean userNs, Long maxUserNamespaces, Integer unprivilegedUsernsClone,
            Integer apparmorRestrict, String moduleEnable, Integer ptraceScope) {
    }

    /**
     * Security modules.
     *
     * @param active         /sys/kernel/security/lsm ("capability,yama,apparmor"), or null
     * @param apparmorLabel  this process's AppArmor label ("docker-default (enforce)", "unconfined"), or null
     * @param selinuxEnforce /sys/fs/selinux/enforce (1 enforcing, 0 permissive), null without SELinux
     * @param selinuxLabel   this process's SELinux context, or null
     */
    public record Lsm(String active, boolean apparmorEnabled, String apparmorLabel, Integer selinuxEnforce,
            String selinuxLabel) {
        public boolean apparmorConfined() {
            return apparmorEnabled && apparmorLabel != null && !apparmorLabel.startsWith("unconfined");
        }

        public boolean selinuxEnforcing() {
            return selinuxEnforce != null && selinuxEnforce == 1;
        }
    }

    /** cgroup version (1 or 2, 0 unknown), this process's cgroup, and whether it can be written. */
    public record Cgroup(int version, String path, boolean readOnly, boolean writable) {
    }

    /** /dev/kvm: present, and openable read-write by this user. */
    public record Kvm(boolean present, boolean usable) {
    }

    public ProcStatus status() {
        return caller.status();
    }

    /** In the initial user namespace, uid_map is the identity over all 2^32-1 ids. */
    public boolean initialUserNs() {
        return IdMap.initial(caller.ownUidMap());
    }

    public static Facts read(Path root, Map<String, String> env, String runscOption) throws IOException {
        Caller caller = Caller.read(root, env.get("PATH"));
        return read(root, env, caller, runscOption);
    }

    /** With credentials already read (the run path has them). */
    public static Facts read(Path root, Map<String, String> env, Caller caller, String runscOption) {
        Kernel kernel = new Kernel(string(root, "proc/sys/kernel/osrelease"), Files.exists(root.resolve("proc/self/ns/user")),
                number(root, "proc/sys/user/max_user_namespaces"), integer(root, "proc/sys/kernel/unprivileged_userns_clone"),
                integer(root, "proc/sys/kernel/apparmor_restrict_unprivileged_userns"),
                string(root, "sys/module/user_namespace/parameters/enable"), integer(root, "proc/sys/kernel/yama/ptrace_scope"));
        Integer enforce = integer(root, "sys/fs/selinux/enforce");
        boolean apparmor = "Y".equals(string(root, "sys/module/apparmor/parameters/enabled"));
        String aaLabel = string(root, "proc/self/attr/apparmor/current");
        String current = string(root, "proc/self/attr/current");
        if (aaLabel == null && apparmor && enforce == null) {
            aaLabel = current; // kernels before 5.8 have only the shared attr/current
        }
        Lsm lsm = new Lsm(string(root, "sys/kernel/security/lsm"), apparmor, aaLabel, enforce,
                enforce != null ? current : null);
        Mounts mounts;
        try {
            mounts = Mounts.parse(Files.readString(root.resolve("proc/self/mountinfo")));
        } catch (IOException e) {
            mounts = new Mounts(List.of());
        }
        Path runsc;
        try {
            runsc = Runsc.locate(runscOption, env.get("PATH"), root);
        } catch (GvshimException e) {
            runsc = null;
        }
        Path kvmDev = root.resolve("dev/kvm");
        Kvm kvm = new Kvm(Files.exists(kvmDev), Files.isReadable(kvmDev) && Files.isWritable(kvmDev));
        return new Facts(root, Environment.detect(root, env), caller, kernel, lsm, mounts, cgroup(root, mounts), kvm, runsc,
                runscOption, env.get("PATH"));
    }

    private static Cgroup cgroup(Path root, Mounts mounts) {
        int version = Files.exists(root.resolve("sys/fs/cgroup/cgroup.controllers")) ? 2
                : Files.isDirectory(root.resolve("sys/fs/cgroup")) ? 1 : 0;
        String path = "/";
        String text = string(root, "proc/self/cgroup");
        if (text != null) {
            for (String line : text.split("\n")) {
                // v2: "0::/path"; v1: "4:memory:/path" (the memory controller stands for the rest)
                String[] f = line.split(":", 3);
                if (f.length == 3 && ((version == 2 && f[0].equals("0")) || (version == 1 && f[1].equals("memory")))) {
                    path = f[2];
                }
            }
        }
        String dir = version == 2 ? "/sys/fs/cgroup" + (path.equals("/") ? "" : path)
                : "/sys/fs/cgroup/memory" + (path.equals("/") ? "" : path);
        boolean readOnly = mounts.readOnly(version == 2 ? "/sys/fs/cgroup" : "/sys/fs/cgroup/memory");
        boolean writable = !readOnly && Files.isWritable(root.resolve(dir.substring(1)));
        return new Cgroup(version, path, readOnly, writable);
    }

    /**
     * A small file's text. Not Files.readString: /proc/sys files report size 0, so it reads
     * them one byte first, and sysctl handlers answer any read past offset 0 with EOF
     * (JDK 25 returned "9" for a max_user_namespaces of 96365). One large read gets it all.
     */
    static String string(Path root, String rel) {
        try (InputStream in = Files.newInputStream(root.resolve(rel))) {
            // attr files end in NUL or newline
            return new String(in.readNBytes(1 << 16), StandardCharsets.UTF_8).replace("\0", "").strip();
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    static Integer integer(Path root, String rel) {
        Long n = number(root, rel);
        return n == null ? null : (int) (long) n;
    }

    static Long number(Path root, String rel) {
        String s = string(root, rel);
        try {
            return s == null ? null : Long.parseLong(s);
        } catch (NumberFormatException e) {
            return null;
        }
    }
}

package dev.gvshim.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gvshim.oci.JsonTree;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * doctor and run agree, as a property (issue 15). Each row produces one failure condition for
 * real on this machine (every id of docs/errors.md that this kernel can produce, their
 * combinations and borderline values), then asserts, for the same user in the same condition:
 * <ul>
 *   <li>doctor's verdict predicts run's outcome: ok exactly when `gvshim run` runs the command;
 *   <li>doctor's mode is run's mode (`-v` says which); when it is single, `run --userns full`
 *       fails naming doctor's reason for it ({@code notFull});
 *   <li>when it fails, run exits 125 with one line whose id is doctor's first failing id;
 *   <li>the fix doctor and run print (the same text in both), applied as printed where it is a
 *       command, makes both pass.
 * </ul>
 * Conditions that this kernel cannot produce (AppArmor, SELinux, Debian's
 * unprivileged_userns_clone, Yama, a kernel without user namespaces) are covered on fixture
 * trees by DoctorTest. The rows and their outcomes are written to target/agreement-matrix.txt.
 */
class AgreementIT {
    private static final Duration T = Duration.ofSeconds(120);
    private static final List<String> RUN = List.of("run", "--verbose", "--rootfs", "hello/rootfs", "--", "/bin/busybox", "echo",
            "sandboxed");
    /** A user whose subordinate ids the rows change (the shared test user's stay as they are). */
    private static final String MX = "gvshim-it-mx";
    /** Docker's masks of /proc, made as root in a private mount namespace. */
    private static final String MASKS = "mount --bind /dev/null /proc/timer_list && mount -t tmpfs -o ro tmpfs /proc/bus";
    private static final Pattern ID = Pattern.compile("\\[([A-Z_]+)]$");
    private static final Pattern MODE = Pattern.compile("(?m)^gvshim: userns mode (full|single) ");

    private static Host host;
    private static Path dir;
    private static int mxUid;
    private static final List<String> TABLE = new ArrayList<>();
    private static long started;

    /** Wraps a command (the gvshim launcher and its arguments) into the condition of a row. */
    interface Ctx extends UnaryOperator<List<String>> {
        default Ctx in(Ctx outer) {
            return c -> outer.apply(apply(c));
        }
    }

    /**
     * @param opts    options given to both doctor and run (--runsc)
     * @param verdict doctor's verdict this row must produce (ok, fail): proves the condition was made
     * @param mode    doctor's mode when ok
     * @param id      the cause when it fails; why not full when the mode is single; else null
     * @param check   more about what doctor must name (the values it read)
     * @param fix     what doctor and run print to fix it, and the condition once it is applied
     */
    record Row(String name, Ctx ctx, List<String> opts, String verdict, String mode, String id, Consumer<JsonNode> check,
            Fix fix, Runnable setUp) {
        Row(String name, Ctx ctx, List<String> opts, String verdict, String mode, String id, Consumer<JsonNode> check, Fix fix) {
            this(name, ctx, opts, verdict, mode, id, check, fix, null);
        }

        /** Host changes the row needs first (its user's subordinate ids, a directory). */
        Row withSetUp(Runnable r) {
            return new Row(name, ctx, opts, verdict, mode, id, check, fix, r);
        }
    }

    /**
     * @param printed text both must print in the fix (null: the row's condition has no fix to check)
     * @param apply   runs, as root, the commands the fix printed (null: nothing to run, the fixed condition differs)
     * @param after   the condition once the fix is applied; doctor must then say ok (mode full if {@code full})
     */
    record Fix(String printed, Consumer<String> apply, Ctx after, List<String> opts, boolean full) {
    }

    // ---------------------------------------------------------------- conditions

    static Ctx user(String... setpriv) {
        return as(host.uid, host.gid, setpriv);
    }

    static Ctx as(int uid, int gid, String... setpriv) {
        return c -> {
            List<String> argv = new ArrayList<>(List.of("setpriv", "--reuid=" + uid, "--regid=" + gid, "--init-groups",
                    "--reset-env"));
            argv.addAll(Arrays.asList(setpriv));
            argv.addAll(c);
            return argv;
        };
    }

    static Ctx env(String... vars) {
        return c -> {
            List<String> argv = new ArrayList<>(List.of("env"));
            argv.addAll(Arrays.asList(vars));
            argv.addAll(c);
            return argv;
        };
    }

    /** A seccomp filter installed as root without no_new_privs, as container runtimes do (native/test/gvshim_jail.c). */
    static Ctx jail(String deny) {
        Path jail = Path.of(System.getProperty("gvshim.native.dir"), "test/gvshim-jail");
        return c -> {
            List<String> argv = new ArrayList<>(List.of(jail.toString(), "--deny", deny, "--"));
            argv.addAll(c);
            return argv;
        };
    }

    /** As root in a private mount namespace after {@code setup}. */
    static Ctx mounts(String setup) {
        return c -> {
            List<String> argv = new ArrayList<>(List.of("unshare", "-m", "--propagation", "private", "sh", "-c",
                    setup + " && exec \"$@\"", "sh"));
            argv.addAll(c);
            return argv;
        };
    }

    /** In a user namespace of the caller's (unshare -Ur), after {@code script}; "$@" is gvshim. */
    static Ctx userns(String script) {
        return c -> {
            List<String> argv = new ArrayList<>(List.of("unshare", "-Ur", "sh", "-c", script, "sh"));
            argv.addAll(c);
            return argv;
        };
    }

    static Ctx nested(int levels) {
        return c -> {
            List<String> argv = new ArrayList<>();
            for (int i = 0; i < levels; i++) {
                argv.addAll(List.of("unshare", "-Ur"));
            }
            argv.addAll(c);
            return argv;
        };
    }

    static Ctx root() {
        return c -> c;
    }

    static Ctx helpers(String kind) {
        return env("PATH=" + dir.resolve(kind) + ":/usr/local/bin:/usr/bin:/bin");
    }

    /** usermod's subordinate ids of {@link #MX}, replaced (lines "start:count"; none for an empty list). */
    static void mxIds(List<String> subuid, List<String> subgid) {
        Host.check(Host.sh("sed", "-i", "/^" + MX + ":/d", "/etc/subuid", "/etc/subgid"));
        for (String r : subuid) {
            Host.check(Host.sh("sh", "-c", "echo " + MX + ":" + r + " >> /etc/subuid"));
        }
        for (String r : subgid) {
            Host.check(Host.sh("sh", "-c", "echo " + MX + ":" + r + " >> /etc/subgid"));
        }
    }

    /** The first 65536 ids from 100000 that nobody has in either file (as doctor's fix computes it). */
    static String freeRange() throws IOException {
        long start = 100000;
        boolean moved = true;
        List<long[]> taken = new ArrayList<>();
        for (String f : List.of("/etc/subuid", "/etc/subgid")) {
            for (String l : Files.readAllLines(Path.of(f))) {
                String[] x = l.split(":");
                if (x.length == 3) {
                    taken.add(new long[] {Long.parseLong(x[1]), Long.parseLong(x[2])});
                }
            }
        }
        while (moved) {
            moved = false;
            for (long[] t : taken) {
                if (t[0] < start + 65536 && start < t[0] + t[1]) {
                    start = 100000 + ((t[0] + t[1] - 100000 + 65535) / 65536) * 65536;
                    moved = true;
                }
            }
        }
        return start + ":65536";
    }

    // ---------------------------------------------------------------- the rows

    static List<Row> rows() throws IOException {
        List<Row> rows = new ArrayList<>();
        Ctx me = user();
        Fix noFilter = new Fix("outside the seccomp filter", null, me, List.of(), true);
        rows.add(new Row("baseline: a user with subordinate ids", me, List.of(), "ok", "full", null, null, null));
        rows.add(new Row("seccomp denies CLONE_NEWUSER", user("--bounding-set=-sys_admin").in(jail("userns")), List.of(), "fail",
                null, "USERNS_SECCOMP", r -> assertThat(cause(r).path("summary").asText()).contains("Seccomp: 2, Seccomp_filters: 1"),
                noFilter));
        rows.add(new Row("Docker's default profile (no CAP_SYS_ADMIN)", user("--bounding-set=-sys_admin").in(jail("docker")),
                List.of(), "fail", null, "USERNS_SECCOMP", r -> assertThat(cause(r).path("summary").asText())
                        .contains("no CAP_SYS_ADMIN in CapBnd"), noFilter));
        rows.add(new Row("seccomp denies mount", me.in(jail("mount")), List.of(), "fail", null, "MOUNT_DENIED",
                r -> assertThat(cause(r).path("summary").asText()).contains("a seccomp filter denies mount"), noFilter));
        rows.add(new Row("seccomp denies pivot_root", me.in(jail("pivot_root")), List.of(), "fail", null, "PIVOT_ROOT_DENIED",
                null, noFilter));
        rows.add(new Row("seccomp denies ptrace", me.in(jail("ptrace")), List.of(), "fail", null, "PTRACE_DENIED", null,
                noFilter));
        rows.add(new Row("seccomp denies mount and pivot_root", me.in(jail("mount,pivot_root")), List.of(), "fail", null,
                "MOUNT_DENIED", null, noFilter));
        rows.add(new Row("seccomp denies umount2 only", me.in(jail("umount2")), List.of(), "fail", null, "MOUNT_DENIED",
                r -> assertThat(cause(r).path("summary").asText()).contains("denies umount2"), noFilter));
        rows.add(new Row("seccomp denies the other namespaces (user namespaces allowed)", me.in(jail("namespaces")), List.of(),
                "fail", null, "NAMESPACE_DENIED", null, noFilter));
        Fix unmask = new Fix("findmnt -R /proc", null, me, List.of(), true);
        rows.add(new Row("/proc masked", me.in(mounts(MASKS)), List.of(), "fail", null, "PROC_MASKED",
                r -> assertThat(cause(r).path("summary").asText()).contains("/proc/timer_list").contains("/proc/bus"), unmask));
        rows.add(new Row("/proc masked and pivot_root denied (Docker with --cap-add SYS_ADMIN)",
                me.in(jail("pivot_root")).in(mounts(MASKS)), List.of(), "fail", null, "PROC_MASKED",
                r -> assertThat(cause(r).path("fix").asText()).as("one round of fixes").contains("findmnt -R /proc")
                        .contains("PIVOT_ROOT_DENIED: run gvshim outside the seccomp filter that denies pivot_root"),
                new Fix("outside the seccomp filter that denies pivot_root", null, me, List.of(), true)));
        rows.add(new Row("/proc masked and ptrace denied", me.in(jail("ptrace")).in(mounts(MASKS)), List.of(), "fail", null,
                "PROC_MASKED", r -> assertThat(cause(r).path("fix").asText()).contains("PTRACE_DENIED"),
                new Fix("findmnt -R /proc", null, me, List.of(), true)));

        // no_new_privs: setuid and file-capability helpers alike
        Fix dropNnp = new Fix("no_new_privs", null, me, List.of(), true);
        rows.add(new Row("no_new_privs, setuid newuidmap", user("--no-new-privs"), List.of(), "ok", "single", "NO_NEW_PRIVS",
                r -> assertThat(r.path("notFull").path("summary").asText()).contains("NoNewPrivs"), dropNnp));
        rows.add(new Row("no_new_privs, newuidmap with file capabilities", helpers("fcaps").in(user("--no-new-privs")), List.of(),
                "ok", "single", "NO_NEW_PRIVS", null, new Fix("no_new_privs", null, helpers("fcaps").in(me), List.of(), true))
                .withSetUp(AgreementIT::helperCopies));
        rows.add(new Row("no_new_privs and seccomp denies CLONE_NEWUSER", user("--no-new-privs").in(jail("userns")), List.of(),
                "fail", null, "USERNS_SECCOMP", null, noFilter));

        // subordinate ids (of a user of the rows' own)
        Ctx mx = as(mxUid, mxUid);
        rows.add(new Row("no subordinate ids", mx, List.of(), "ok", "single", "SUBUID_MISSING", null,
                new Fix("usermod --add-subuids", printed(USERMOD), mx, List.of(), true)).withSetUp(() -> mxIds(List.of(),
                List.of())));
        String free = freeRange();
        rows.add(new Row("subuid but no subgid", mx, List.of(), "ok", "single", "SUBGID_MISSING", null,
                new Fix("usermod --add-subgids", printed(USERMOD), mx, List.of(), true))
                .withSetUp(() -> mxIds(List.of(free), List.of())));
        String start = free.split(":")[0];
        rows.add(new Row("a subuid range of 65535 ids (one short)", mx, List.of(), "ok", "full", null,
                r -> assertThat(finding(r, "SUBUID_MISSING").path("summary").asText()).contains("only 65535 ids"), null)
                .withSetUp(() -> mxIds(List.of(start + ":65535"), List.of(free))));
        rows.add(new Row("a subuid range of 65536 ids", mx, List.of(), "ok", "full", null,
                r -> assertThat(finding(r, "SUBUID_MISSING").path("status").asText()).isEqualTo("ok"), null)
                .withSetUp(() -> mxIds(List.of(free), List.of(free))));
        String[] theirs = host.subuidRange().split(" ");
        String overlapping = (Long.parseLong(theirs[0]) + 1000) + ":65536";
        rows.add(new Row("a subuid range overlapping another user's", mx, List.of(), "ok", "full", null,
                r -> assertThat(finding(r, "SUBUID_OVERLAP").path("summary").asText()).contains("overlaps " + Host.USER + "'s")
                        .contains("(65536 ids)"), null).withSetUp(() -> mxIds(List.of(overlapping), List.of(free))));
        rows.add(new Row("no subordinate ids and no_new_privs", as(mxUid, mxUid, "--no-new-privs"), List.of(), "ok", "single",
                "SUBUID_MISSING", null, null).withSetUp(() -> mxIds(List.of(), List.of())));

        // newuidmap and newgidmap, as copies in a directory first in $PATH
        rows.add(new Row("newuidmap without its setuid bit", helpers("plain").in(me), List.of(), "ok", "single",
                "NEWUIDMAP_UNPRIVILEGED", r -> assertThat(r.path("notFull").path("summary").asText()).contains("mode 0755"),
                new Fix("chmod u+s " + dir.resolve("plain/newuidmap"), printed("chmod u\\+s \\S+"), helpers("plain").in(me), List.of(),
                        true)).withSetUp(AgreementIT::helperCopies));
        rows.add(new Row("newgidmap with cap_setuid, not cap_setgid", helpers("wrongcap").in(me), List.of(), "ok", "single",
                "NEWUIDMAP_UNPRIVILEGED", r -> assertThat(r.path("notFull").path("summary").asText())
                        .contains("file capabilities cap_setuid=ep lack cap_setgid"),
                new Fix("setcap cap_setgid=ep " + dir.resolve("wrongcap/newgidmap"), printed("setcap cap_setgid=ep \\S+"),
                        helpers("wrongcap").in(me), List.of(), true)).withSetUp(AgreementIT::helperCopies));
        rows.add(new Row("helpers with file capabilities", helpers("fcaps").in(me), List.of(), "ok", "full", null, null, null)
                .withSetUp(AgreementIT::helperCopies));
        rows.add(new Row("setuid helpers without CAP_SYS_ADMIN in the bounding set",
                helpers("setuid").in(user("--bounding-set=-sys_admin")), List.of(), "ok", "single", "NEWUIDMAP_NEEDS_FCAPS",
                r -> assertThat(r.path("notFull").path("summary").asText()).contains("CapBnd"),
                new Fix("chmod u-s " + dir.resolve("setuid/newuidmap"), printed("chmod u-s \\S+ && setcap \\S+ \\S+"),
                        helpers("setuid").in(user("--bounding-set=-sys_admin")), List.of(), true)).withSetUp(AgreementIT::helperCopies));
        rows.add(new Row("helpers without CAP_SETUID and CAP_SETGID in the bounding set",
                user("--bounding-set=-setuid,-setgid"), List.of(), "ok", "single", "NEWUIDMAP_CAPS_DROPPED", null,
                new Fix("keep CAP_SETUID and CAP_SETGID in the bounding set", null, me, List.of(), true)));
        rows.add(new Row("newuidmap without setuid bit and no_new_privs", helpers("plain").in(user("--no-new-privs")), List.of(),
                "ok", "single", "NEWUIDMAP_UNPRIVILEGED", null, null).withSetUp(AgreementIT::helperCopies));

        // kernel limits, inside a user namespace of the test user's (the host's stay untouched); there the
        // user is root with one id mapped, so mode single (SUBID_NOT_MAPPED says why not full)
        rows.add(new Row("max_user_namespaces = 0", userns("echo 0 > /proc/sys/user/max_user_namespaces && exec \"$@\"").in(me),
                List.of(), "fail", null, "USERNS_DISABLED", r -> assertThat(cause(r).path("summary").asText())
                        .contains("user.max_user_namespaces = 0, read in the user namespace gvshim runs in"), raiseFix()));
        rows.add(new Row("max_user_namespaces = 1", userns("echo 1 > /proc/sys/user/max_user_namespaces && exec \"$@\"").in(me),
                List.of(), "fail", null, "USERNS_LIMIT", r -> assertThat(cause(r).path("summary").asText())
                        .contains("user.max_user_namespaces = 1, read in the user namespace gvshim runs in"), raiseFix()));
        rows.add(new Row("max_user_namespaces = 2 (one sandbox fits)", userns("echo 2 > /proc/sys/user/max_user_namespaces && exec"
                + " \"$@\"").in(me), List.of(), "ok", "single", "SUBID_NOT_MAPPED",
                r -> assertThat(finding(r, "USERNS_LIMIT").path("status").asText()).isEqualTo("warn"), null));
        String hold = "unshare -U sleep 30 </dev/null >/dev/null 2>&1 & a=$!; unshare -U sleep 30 </dev/null >/dev/null 2>&1 & b=$!;"
                + " sleep 0.3; \"$@\"; rc=$?; kill $a $b; exit $rc";
        rows.add(new Row("max_user_namespaces = 3, two held by other processes", userns("echo 3 > /proc/sys/user/max_user_namespaces;"
                + " " + hold).in(me), List.of(), "fail", null, "USERNS_LIMIT",
                r -> assertThat(cause(r).path("summary").asText()).contains("side by side"),
                new Fix("sysctl -w user.max_user_namespaces=15000", null,
                        userns("echo 15000 > /proc/sys/user/max_user_namespaces; " + hold).in(me), List.of(), false)));
        rows.add(new Row("max_user_namespaces = 0 and seccomp denies mount",
                userns("echo 0 > /proc/sys/user/max_user_namespaces && exec \"$@\"").in(me).in(jail("mount")), List.of(), "fail", null,
                "USERNS_DISABLED", null, null));
        rows.add(new Row("32 nested user namespaces", nested(32).in(me), List.of(), "fail", null, "USERNS_NESTING", null,
                new Fix("less deeply nested", null, nested(31).in(me), List.of(), false)));
        rows.add(new Row("31 nested user namespaces (the last that works)", nested(31).in(me), List.of(), "ok", "single",
                "SUBID_NOT_MAPPED",
                r -> assertThat(finding(r, "USERNS_NESTING").path("status").asText()).isEqualTo("warn"), null));

        // runsc
        rows.add(new Row("--runsc names a missing file", me, List.of("--runsc", "/nope"), "fail", null, "RUNSC_MISSING",
                r -> assertThat(cause(r).path("summary").asText()).contains("--runsc /nope does not exist"),
                new Fix("leave --runsc out", null, me, List.of(), true)));
        rows.add(new Row("--runsc names a missing file, and seccomp denies CLONE_NEWUSER", me.in(jail("userns")),
                List.of("--runsc", "/nope"), "fail", null, "RUNSC_MISSING", null, null));
        String notRunsc = dir.resolve("not-runsc").toString();
        rows.add(new Row("no runsc anywhere", me.in(mounts("touch " + notRunsc + " && for r in /usr/local/bin/runsc"
                + " /usr/bin/runsc /usr/sbin/runsc /bin/runsc; do if [ -e $r ]; then mount --bind " + notRunsc + " $r || exit 1;"
                + " fi; done")), List.of(), "fail", null, "RUNSC_MISSING",
                r -> assertThat(cause(r).path("summary").asText()).contains("/usr/bin").contains("is not an executable file"),
                new Fix("apt-get install runsc", null, me, List.of(), true)));

        // the state directory
        Path xdg = dir.resolve("xdg");
        rows.add(new Row("a state directory open to other users", env("XDG_RUNTIME_DIR=" + xdg).in(me), List.of(), "fail", null,
                "STATE_DIR_UNSAFE", r -> assertThat(cause(r).path("summary").asText()).contains("0777"),
                new Fix("chmod 700 " + xdg.resolve("gvshim"), printed("chmod 700 \\S+"), env("XDG_RUNTIME_DIR=" + xdg).in(me),
                        List.of(), true)).withSetUp(() -> {
                            Host.check(Host.sh("rm", "-rf", xdg.toString()));
                            Host.check(Host.sh("install", "-d", "-m", "700", "-o", Integer.toString(host.uid), xdg.toString()));
                            Host.check(Host.sh("install", "-d", "-m", "777", "-o", Integer.toString(host.uid),
                                    xdg.resolve("gvshim").toString()));
                        }));

        // root
        rows.add(new Row("root", root(), List.of(), "ok", "full", null, null, null));
        rows.add(new Row("root with read-only cgroups (gvshim run ignores them)", mounts("for m in /sys/fs/cgroup $(findmnt -rn -t"
                + " cgroup,cgroup2 -o TARGET); do mount -o remount,bind,ro $m; done"), List.of(), "ok", "full",
                null, r -> assertThat(finding(r, "CGROUP_READONLY").path("status").asText()).isEqualTo("warn"), null));
        return rows;
    }

    private static Fix raiseFix() {
        return new Fix("sysctl -w user.max_user_namespaces=15000", null,
                userns("echo 15000 > /proc/sys/user/max_user_namespaces && exec \"$@\"").in(user()), List.of(), false);
    }

    // ---------------------------------------------------------------- the property

    @BeforeAll
    static void setUp() throws IOException {
        host = Host.get();
        Path jail = Path.of(System.getProperty("gvshim.native.dir"), "test/gvshim-jail");
        assumeTrue(Files.isExecutable(jail), "no " + jail + " (built by native/Makefile)");
        assumeTrue(Host.which("setcap") != null, "setcap is not installed (apt-get install libcap2-bin)");
        started = System.nanoTime();
        Host.sh("userdel", "-r", MX);
        Host.check(Host.sh("useradd", "--create-home", "--shell", "/bin/sh", MX));
        mxUid = Integer.parseInt(Host.sh("id", "-u", MX).out().strip());
        mxIds(List.of(), List.of());
        dir = Files.createTempDirectory(Path.of("/tmp"), "gvshim-it-agree-");
        Host.check(Host.sh("chmod", "755", dir.toString()));
        helperCopies();
    }

    /** Copies of newuidmap and newgidmap, privileged four ways (again before each row that uses them: fixes change them). */
    static void helperCopies() {
        for (String kind : List.of("plain", "fcaps", "wrongcap", "setuid")) {
            Host.check(Host.sh("mkdir", "-p", "-m", "755", dir.resolve(kind).toString()));
            for (String h : List.of("newuidmap", "newgidmap")) {
                Host.check(Host.sh("cp", "--remove-destination", Host.which(h).toString(), dir.resolve(kind + "/" + h).toString()));
                Host.check(Host.sh("chmod", "755", dir.resolve(kind + "/" + h).toString())); // a copy of a setuid file: not setuid
            }
        }
        Host.check(Host.sh("setcap", "cap_setuid+ep", dir.resolve("fcaps/newuidmap").toString()));
        Host.check(Host.sh("setcap", "cap_setgid+ep", dir.resolve("fcaps/newgidmap").toString()));
        Host.check(Host.sh("setcap", "cap_setuid+ep", dir.resolve("wrongcap/newuidmap").toString()));
        Host.check(Host.sh("setcap", "cap_setuid+ep", dir.resolve("wrongcap/newgidmap").toString()));
        Host.check(Host.sh("chmod", "u+s", dir.resolve("setuid/newuidmap").toString(), dir.resolve("setuid/newgidmap").toString()));
    }

    @AfterAll
    static void tearDown() throws IOException {
        if (host == null) {
            return;
        }
        Host.sh("pkill", "-u", MX);
        Host.sh("userdel", "-r", MX);
        Host.sh("sed", "-i", "/^" + MX + ":/d", "/etc/subuid", "/etc/subgid");
        if (dir != null) {
            Host.sh("rm", "-rf", dir.toString());
        }
        // the state directory of the rows run as root of an `unshare -Ur` (StateDir.defaultFor names it after both ids)
        Host.sh("rm", "-rf", "/tmp/gvshim-0-outer" + host.uid);
        String took = "total " + (System.nanoTime() - started) / 1_000_000_000 + " s";
        TABLE.add(took);
        Path out = Path.of(System.getProperty("gvshim.basedir", "."), "target/agreement-matrix.txt");
        Files.createDirectories(out.getParent());
        Files.writeString(out, String.join("\n", TABLE) + "\n", StandardCharsets.UTF_8);
        System.out.println(String.join("\n", TABLE));
    }

    @TestFactory
    Stream<DynamicTest> doctorAndRunAgree() throws IOException {
        return rows().stream().map(r -> DynamicTest.dynamicTest(r.name(), () -> check(r)));
    }

    private static void check(Row row) {
        long t0 = System.nanoTime();
        if (row.setUp() != null) {
            row.setUp().run();
        }
        Seen before = see(row.ctx(), row.opts());
        // what the row set out to produce (else the row proves nothing)
        assertThat(before.verdict()).as(row.name() + ": doctor's verdict\n" + before).isEqualTo(row.verdict());
        if (row.mode() != null) {
            assertThat(before.mode()).as(row.name() + ": doctor's mode\n" + before).isEqualTo(row.mode());
        }
        String expectedId = "fail".equals(row.verdict()) ? before.cause() : before.notFull();
        assertThat(expectedId).as(row.name() + ": the cause (fail) or why not full (single)\n" + before).isEqualTo(row.id());
        if (row.check() != null) {
            row.check().accept(before.report());
        }
        String fixed = "-";
        if (row.fix() != null) {
            String printed = "fail".equals(row.verdict()) ? cause(before.report()).path("fix").asText()
                    : before.report().path("notFull").path("fix").asText();
            String runLine = "fail".equals(row.verdict()) ? before.runLine() : before.fullLine();
            if (row.fix().printed() != null) {
                assertThat(printed).as(row.name() + ": doctor's fix").contains(row.fix().printed());
                assertThat(runLine).as(row.name() + ": run's fix").contains(row.fix().printed());
            }
            if (row.fix().apply() != null) {
                row.fix().apply().accept(printed);
            }
            Seen after = see(row.fix().after(), row.fix().opts());
            assertThat(after.verdict()).as(row.name() + ", fixed: doctor\n" + after).isEqualTo("ok");
            if (row.fix().full()) {
                assertThat(after.mode()).as(row.name() + ", fixed: mode\n" + after).isEqualTo("full");
            }
            fixed = "fixed: " + after.verdict() + " " + after.mode() + ", run " + after.run().code();
        }
        TABLE.add(String.format("%-70s doctor %-4s %-6s %-24s run %3d %-6s %-24s %s (%.1f s)", row.name(), before.verdict(),
                before.mode() == null ? "-" : before.mode(), expectedId == null ? "-" : expectedId, before.run().code(),
                before.runMode() == null ? "-" : before.runMode(), before.runId() == null ? "-" : before.runId(), fixed,
                (System.nanoTime() - t0) / 1e9));
    }

    /** doctor and run in one condition, and the property between them. */
    record Seen(JsonNode report, String verdict, String mode, String cause, String notFull, Host.Result run, String runMode,
            String runId, String runLine, String fullLine) {
        @Override
        public String toString() {
            return "doctor: " + report.toPrettyString() + "\nrun: " + run + (fullLine == null ? "" : "\nrun --userns full: " + fullLine);
        }
    }

    private static Seen see(Ctx ctx, List<String> opts) {
        List<String> doctorArgs = new ArrayList<>(List.of("doctor", "--json"));
        doctorArgs.addAll(opts);
        Host.Result d = gvshim(ctx, doctorArgs);
        JsonNode report;
        try {
            report = JsonTree.read(d.out().getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new AssertionError("doctor printed no JSON: " + d, e);
        }
        String verdict = report.path("verdict").asText();
        String mode = report.path("mode").isNull() ? null : report.path("mode").asText();
        String cause = report.path("cause").isNull() ? null : report.path("cause").asText();
        String notFull = report.path("notFull").isNull() ? null : report.path("notFull").path("id").asText();
        List<String> runArgs = new ArrayList<>(RUN.subList(0, 2));
        runArgs.addAll(opts);
        runArgs.addAll(RUN.subList(2, RUN.size()));
        Host.Result run = gvshim(ctx, runArgs);
        String where = "doctor:\n" + report.toPrettyString() + "\nrun: " + run;
        assertThat(d.code()).as("doctor's exit status: 0 ok, 1 fail\n" + where).isEqualTo(verdict.equals("ok") ? 0 : 1);
        assertThat(verdict).as("the live probe ran: every check was tested\n" + where).isIn("ok", "fail");
        String runMode = find(MODE, run.err());
        // -v's own lines: the plan, the run directory, the mounts, runsc's flags and (the spec rule) which spec
        // fields gVisor makes moot
        List<String> said = run.err().lines().filter(l -> !l.startsWith("gvshim: userns mode ") && !l.startsWith("gvshim: run directory")
                && !l.startsWith("gvshim: spec fields gVisor's design makes moot: ") && !l.startsWith("gvshim: mounted ")
                && !l.startsWith("gvshim: /tmp is the host's") && !l.startsWith("gvshim: root: ")
                && !l.startsWith("gvshim: runsc ")).toList();
        String runLine = said.isEmpty() ? "" : said.getLast();
        String runId = find(ID, runLine);
        if (verdict.equals("ok")) {
            // doctor's verdict and mode predict run's outcome and mode
            assertThat(run.code()).as("doctor says ok, so run works\n" + where).isZero();
            assertThat(run.out()).isEqualTo("sandboxed\n");
            assertThat(runMode).as("doctor's mode is run's\n" + where).isEqualTo(mode);
            assertThat(said.stream().filter(l -> !l.startsWith("gvshim: warning: userns mode full failed, falling back to single:")))
                    .as("nothing else on stderr\n" + where).isEmpty();
        } else {
            // run's failure id is doctor's first failing id
            assertThat(run.code()).as("doctor says fail, so run fails with 125\n" + where).isEqualTo(125);
            assertThat(run.out()).isEmpty();
            assertThat(said).as("one line\n" + where).hasSize(1);
            assertThat(runId).as("run's id is doctor's first failing id\n" + where).isEqualTo(cause);
            assertThat(report.path("findings").get(0).path("id").asText()).isEqualTo(cause);
        }
        String fullLine = null;
        if ("single".equals(mode)) {
            // why not full: run --userns full fails with doctor's reason for it
            List<String> full = new ArrayList<>(List.of("run", "--userns", "full"));
            full.addAll(opts);
            full.addAll(RUN.subList(2, RUN.size()));
            Host.Result f = gvshim(ctx, full);
            assertThat(f.code()).as("run --userns full where doctor says single\n" + where + "\nfull: " + f).isEqualTo(125);
            assertThat(f.err().lines().toList()).as("one line: " + f).hasSize(1);
            fullLine = f.err().strip();
            assertThat(find(ID, fullLine)).as("run --userns full names doctor's notFull\n" + where + "\nfull: " + f)
                    .isEqualTo(notFull);
        }
        return new Seen(report, verdict, mode, cause, notFull, run, runMode, runId, runLine, fullLine);
    }

    private static Host.Result gvshim(Ctx ctx, List<String> args) {
        List<String> cmd = new ArrayList<>(List.of(host.gvshim.toString()));
        cmd.addAll(args);
        return Host.run(ctx.apply(cmd), null, T, host.work);
    }

    private static String find(Pattern p, String text) {
        Matcher m = p.matcher(text.strip());
        return m.find() ? m.group(1) : null;
    }

    static JsonNode cause(JsonNode report) {
        return report.path("findings").get(0);
    }

    static JsonNode finding(JsonNode report, String id) {
        for (JsonNode f : report.path("findings")) {
            if (f.path("id").asText().equals(id)) {
                return f;
            }
        }
        throw new AssertionError("no finding " + id + " in " + report.toPrettyString());
    }

    private static final String USERMOD = "usermod(?: --add-sub[ug]ids \\d+-\\d+)+ \\S+";

    /** Runs, as root and exactly as printed, every command of the fix that matches {@code command}. */
    static Consumer<String> printed(String command) {
        return fix -> {
            Matcher m = Pattern.compile(command).matcher(fix);
            List<String> ran = new ArrayList<>();
            while (m.find()) {
                String cmd = m.group().replaceAll("[`),;.]+$", "");
                Host.check(Host.sh("sh", "-c", cmd));
                ran.add(cmd);
            }
            assertThat(ran).as("commands printed in: " + fix).isNotEmpty();
        };
    }
}

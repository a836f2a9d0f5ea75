package dev.gvshim.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The caller's files are sacred (issue 14): runsc never gets a caller's file, terminal or /dev/null
 * as stdio, so their owner, mode and offset stay as they were, as root and rootless; and a created
 * container holds none of its caller's other descriptors.
 */
class StdioIT extends RuncFixture {
    @Test
    void aCreatedContainerHoldsNoneOfItsCallersOtherDescriptors() throws Exception {
        // runc's detached container keeps its stdio (and --preserve-fds); a descriptor the caller merely let
        // create inherit must not be held for the container's life. flock(1) runs its command with the lock's
        // descriptor open: held by the container's relay (with the server, the client spawned it with every
        // descriptor of its caller), the lock stayed taken until the container exited
        Path b = bundle("fds", "/bin/sleep", "600");
        Path lock = tmp.resolve("fds.lock");
        try {
            Host.Result r = Host.run(List.of("timeout", "20", "flock", lock.toString(), "/bin/sh", "-c", host.gvshim + " --root "
                    + root + " --log " + log + " --log-format json create --bundle " + b + " fds </dev/null >" + b.resolve("out")
                    + " 2>" + b.resolve("err")), null, T, b);
            assertThat(r.code()).as(r + "\nerr: " + read(b.resolve("err"))).isZero();
            assertThat(Host.run(List.of("flock", "-n", lock.toString(), "true"), null, T, b).code())
                    .as("the caller's lock is free again while the container runs").isZero();
            assertThat(state("fds").path("status").asText()).isEqualTo("created");
        } finally {
            gv(b, "delete", "--force", "fds");
        }
        assertThat(rootEntries()).isEmpty();
    }

    @Test
    void runtimeVerbsLeaveTheCallersFilesDevNullAndTerminalAlone() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(Host.which("script") != null, "no script(1) for a terminal (util-linux)");
        devNullAsItShouldBe();
        Path b = bundle("stdio", "/bin/sh", "-c", "echo out-line; echo err-line >&2; exec sleep 600");
        // files of the caller's, written at their offset; create's stdin /dev/null, as dockerd's shim gives it
        Host.Result c = rootShell(b, ": > out; : > err; chmod 640 out err; (echo LINE-1; $G create --bundle . stdio </dev/null)"
                + " >out 2>err");
        assertThat(c.code()).as(c + read(b.resolve("err"))).isZero();
        Host.Result s = gv(b, "start", "stdio");
        assertThat(s.code()).as(s.toString()).isZero();
        for (int i = 0; i < 50 && !read(b.resolve("err")).contains("err-line"); i++) {
            sleep(100);
        }
        assertThat(read(b.resolve("out"))).as("the container's output after the caller's").isEqualTo("LINE-1\nout-line\n");
        assertThat(read(b.resolve("err"))).isEqualTo("err-line\n");
        assertThat(owner(b.resolve("out"))).as("create's stdout file").isEqualTo("root:root:640");
        assertThat(owner(b.resolve("err"))).as("create's stderr file").isEqualTo("root:root:640");
        assertThat(owner(Path.of("/dev/null"))).as("/dev/null after create and start").isEqualTo("root:root:666");

        Host.Result e = rootShell(b, "$G exec stdio /bin/echo to-null </dev/null >/dev/null 2>/dev/null && (echo LINE-1; $G exec"
                + " stdio /bin/echo exec-line) > exec.txt");
        assertThat(e.code()).as(e.toString()).isZero();
        assertThat(read(b.resolve("exec.txt"))).isEqualTo("LINE-1\nexec-line\n");
        assertThat(owner(Path.of("/dev/null"))).as("/dev/null after exec").isEqualTo("root:root:666");

        // a root terminal (script(1)'s pty) as the stdio of exec, create and run
        Path t = bundle("stdio-tty", "/bin/sh", "-c", "test -t 1 || echo not-a-tty-but-relayed");
        Host.Result tty = rootShell(b, "script -qec \"before=\\$(stat -c %U:%G:%a \\$(tty)); $G exec stdio /bin/echo on-the-terminal;"
                + " $G create --bundle " + t + " tty-create; $G delete --force tty-create; $G run --bundle " + t + " tty-run;"
                + " echo result \\$before \\$(stat -c %U:%G:%a \\$(tty))\" /dev/null");
        assertThat(tty.out()).as(tty.toString()).contains("on-the-terminal").contains("not-a-tty-but-relayed");
        String result = tty.out().lines().filter(l -> l.startsWith("result ")).findFirst().orElseThrow().strip();
        String[] owners = result.split(" ");
        assertThat(owners).hasSize(3);
        assertThat(owners[2]).as("the caller's terminal after exec, create and run").isEqualTo(owners[1]);

        assertThat(gv(b, "delete", "--force", "stdio").code()).isZero();
        assertThat(owner(Path.of("/dev/null"))).as("/dev/null after delete").isEqualTo("root:root:666");

        // run: `(echo LINE-1; gvshim run ...) > f` keeps LINE-1 (gVisor wrote a file it is given at offset 0)
        Path r = bundle("stdio-run", "/bin/echo", "run-line");
        Host.Result run = rootShell(r, ": > f; chmod 600 f; (echo LINE-1; $G run --bundle . file-run </dev/null) > f");
        assertThat(run.code()).as(run.toString()).isZero();
        assertThat(read(r.resolve("f"))).isEqualTo("LINE-1\nrun-line\n");
        assertThat(owner(r.resolve("f"))).isEqualTo("root:root:600");
        assertThat(owner(Path.of("/dev/null"))).as("/dev/null after run").isEqualTo("root:root:666");
        assertThat(rootEntries()).isEmpty();
    }

    @Test
    void rootlessCallersFilesAndTerminalKeepTheirOwner() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(Host.which("script") != null, "no script(1) for a terminal (util-linux)");
        Path b = userBundle("rl-stdio", "echo out-line; echo err-line >&2; exec sleep 600");
        String g = "$G --log " + b.resolve("log.json") + " --log-format json ";
        // runsc inside the container's user namespace chowned these to a subordinate id: the caller lost them
        Host.Result r = host.userShell("cd " + b + " && : > out && : > err && chmod 640 out err && (echo LINE-1; " + g
                + "create --bundle . rls-main </dev/null) >out 2>err && " + g + "start rls-main", T);
        assertThat(r.code()).as(r + "\nlog: " + read(b.resolve("log.json")) + "\nerr: " + read(b.resolve("err"))).isZero();
        for (int i = 0; i < 50 && !read(b.resolve("err")).contains("err-line"); i++) {
            sleep(100);
        }
        assertThat(read(b.resolve("out"))).isEqualTo("LINE-1\nout-line\n");
        String mine = Host.USER + ":" + Host.USER + ":640";
        assertThat(owner(b.resolve("out"))).isEqualTo(mine);
        assertThat(owner(b.resolve("err"))).isEqualTo(mine);
        Host.Result w = host.userShell("cd " + b + " && echo more >> out && echo writable", T);
        assertThat(w.out()).contains("writable");

        Host.Result tty = host.userShell("cd " + b + " && script -qec \"before=\\$(stat -c %U:%G:%a \\$(tty)); " + g
                + "exec rls-main /bin/echo on-the-terminal; " + g + "create --bundle . rls-tty; " + g + "delete --force rls-tty;"
                + " echo result \\$before \\$(stat -c %U:%G:%a \\$(tty))\" /dev/null", T);
        assertThat(tty.out()).as(tty.toString()).contains("on-the-terminal");
        String[] owners = tty.out().lines().filter(l -> l.startsWith("result ")).findFirst().orElseThrow().strip().split(" ");
        assertThat(owners).hasSize(3);
        assertThat(owners[1]).startsWith(Host.USER + ":");
        assertThat(owners[2]).as("the caller's terminal after exec and create").isEqualTo(owners[1]);

        Host.Result d = host.userShell(g + "delete --force rls-main", T);
        assertThat(d.code()).as(d.toString()).isZero();
        for (int i = 0; i < 50 && !live(host.processes()).isEmpty(); i++) {
            sleep(100);
        }
        assertThat(live(host.processes())).as("processes of the test user (a relay left behind?)").isEmpty();
    }
}

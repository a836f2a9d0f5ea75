package dev.gvshim.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gvshim.runsc.RunscRelease;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * Details of runc's verbs (issue 19's list) that need the real runsc: exec --ignore-paused,
 * checkpoint and restore, as root and as the non-root user where both apply. The rest of the
 * list is answered before runsc runs and is covered by the unit tests (LifecycleTest,
 * RuntimeCliTest): docs/runc-compatibility.md names the test of each row.
 */
class RuncDetailsIT extends RuncFixture {
    /** A container that counts, so a restore can be told from a fresh start. */
    private static final String COUNTER = "i=0; while true; do i=$((i+1)); echo $i > /tmp/n; sleep 0.1; done";
    /**
     * A bundle running {@code script} with the hello bundle's busybox root: root's in this test's
     * directory, the test user's in its work directory, owned by it (its files audited after the test).
     */
    private Path bundle(String name, String script, boolean user) throws IOException {
        if (user) {
            return audit(userBundle(name, script), "x.err");
        }
        return bundleOf(name, spec -> ((ObjectNode) spec.get("process")).putArray("args").add("/bin/sh").add("-c").add(script));
    }

    /** One shell line of gvshim calls as root ({@code $G} is gvshim with this test's --root and --log) or as the test user. */
    private Host.Result shell(boolean user, Path bundle, String script) {
        if (user) {
            return host.userShell("cd " + bundle + " && G=\"$G --log " + bundle.resolve("log.json") + " --log-format json\" && "
                    + script, T);
        }
        return rootShell(bundle, script);
    }

    /** The last error of the test user's bundle's log, or of root's --log (each of whose lines must have a time). */
    private String lastError(boolean user, Path bundle) throws IOException {
        return user ? lastErrorOf(bundle) : lastError();
    }

    @Test
    void execIgnorePausedRunsOnceTheContainerIsResumedAsRoot() throws Exception {
        execIgnorePaused(false);
    }

    @Test
    void execIgnorePausedRunsOnceTheContainerIsResumedAsTheUser() throws Exception {
        execIgnorePaused(true);
    }

    /**
     * runc 1.1.5 (measured): exec into a paused container fails with 255 unless --ignore-paused;
     * with it, `runc exec` waits while the container is frozen and its process runs after
     * `resume`. runsc refuses a paused sandbox, so gvshim waits for the resume itself.
     */
    private void execIgnorePaused(boolean user) throws Exception {
        Path b = bundle("ip", "exec sleep 600", user);
        String id = "ip" + (user ? "u" : "r") + System.nanoTime(); // runsc's control socket is named by the id alone
        try {
            execIgnorePaused(user, b, id);
        } finally {
            shell(user, b, "$G delete --force " + id);
        }
    }

    private void execIgnorePaused(boolean user, Path b, String id) throws Exception {
        Host.Result c = shell(user, b, "$G create --bundle . " + id + " </dev/null >out 2>err && $G start " + id + " && $G pause "
                + id);
        assertThat(c.code()).as(c + "\nerr: " + read(b.resolve("err"))).isZero();
        Host.Result refused = shell(user, b, "$G exec " + id + " /bin/true </dev/null");
        assertThat(refused.code()).as("runc's status for exec's own failures").isEqualTo(255);
        assertThat(lastError(user, b)).contains("cannot exec in a paused container (use --ignore-paused to override)");
        // the waiting exec in the background, its stdio to files (it outlives this shell)
        Host.Result bg = shell(user, b, "($G exec --ignore-paused " + id + " /bin/echo ran >x.out 2>x.err; echo $? >x.rc)"
                + " </dev/null >/dev/null 2>&1 &");
        assertThat(bg.code()).isZero();
        sleep(1500);
        assertThat(b.resolve("x.rc")).as("exec --ignore-paused waits while the container is paused").doesNotExist();
        assertThat(shell(user, b, "$G resume " + id).code()).isZero();
        await(() -> Files.exists(b.resolve("x.rc")) && !read(b.resolve("x.rc")).isEmpty());
        assertThat(read(b.resolve("x.rc"))).as("err: " + read(b.resolve("x.err"))).isEqualTo("0\n");
        assertThat(read(b.resolve("x.out"))).isEqualTo("ran\n");
        assertThat(read(b.resolve("x.err"))).isEmpty();
    }

    /**
     * checkpoint as runc's: the container stops, its image is written, and `restore` from the
     * image continues it (the counter goes on from where it was, not from 1). --leave-running is
     * refused with runsc 2022-12, whose checkpoint would destroy the container and wait in the
     * foreground for a restored copy (runsc/cmd/checkpoint.go): the container runs on untouched;
     * with runsc from release-20240415 it is runsc's, and the container runs on too.
     */
    @Test
    void checkpointStopsTheContainerAndRestoreContinuesItAsRoot() throws Exception {
        Path b = bundle("ck", COUNTER, false);
        String id = "ck" + System.nanoTime();
        try {
            checkpointAndRestore(b, id);
        } finally {
            shell(false, b, "$G delete --force " + id);
        }
    }

    private void checkpointAndRestore(Path b, String id) throws Exception {
        Host.Result c = shell(false, b, "$G create --bundle . " + id + " </dev/null >out 2>err && $G start " + id + " && sleep 1.5");
        assertThat(c.code()).as(c + "\nerr: " + read(b.resolve("err"))).isZero();
        Host.Result leave = shell(false, b, "$G checkpoint --leave-running --image-path " + tmp.resolve("img0") + " " + id);
        // the runsc gvshim finds on PATH (the machine may have a later one than Debian 12's)
        RunscRelease release = RunscRelease.parse(Host.sh("/bin/sh", "-c", "runsc --version").out());
        if (release.resumesAfterCheckpoint()) {
            assertThat(leave.code()).as(leave + " with runsc " + release.label()).isZero();
            assertThat(tmp.resolve("img0/checkpoint.img")).isNotEmptyFile();
        } else {
            assertThat(leave.code()).as(leave + " with runsc " + release.label()).isEqualTo(1);
            assertThat(leave.err()).startsWith("gvshim: cannot checkpoint container " + id + " with --leave-running: runsc ")
                    .endsWith("[CHECKPOINT_LEAVE_RUNNING]\n");
            assertThat(tmp.resolve("img0")).doesNotExist();
        }
        assertThat(shell(false, b, "$G state " + id).out()).as("left running").contains("\"status\": \"running\"");

        Path img = tmp.resolve("img");
        Host.Result ck = shell(false, b, "$G exec " + id + " cat /tmp/n && $G checkpoint --image-path " + img + " " + id
                + " && $G state " + id);
        assertThat(ck.code()).as(ck.toString()).isZero();
        int before = Integer.parseInt(ck.out().lines().findFirst().orElseThrow().strip());
        assertThat(ck.out()).as("runc's checkpoint stops the container").contains("\"status\": \"stopped\"");
        assertThat(img.resolve("checkpoint.img")).isNotEmptyFile();
        Host.Result rs = shell(false, b, "$G delete " + id + " && $G restore --bundle . --image-path " + img + " --detach " + id
                + " </dev/null >rout 2>rerr && $G state " + id);
        assertThat(rs.code()).as(rs + "\nerr: " + read(b.resolve("rerr"))).isZero();
        assertThat(rs.out()).contains("\"status\": \"running\"");
        Host.Result n = shell(false, b, "$G exec " + id + " cat /tmp/n");
        assertThat(n.code()).as(n.toString()).isZero();
        int after = Integer.parseInt(n.out().strip());
        assertThat(after).as("restored, not started afresh").isGreaterThanOrEqualTo(before);
        assertThat(shell(false, b, "$G delete --force " + id).code()).isZero();
    }
}

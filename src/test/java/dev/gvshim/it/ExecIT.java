package dev.gvshim.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * `exec` against the real runsc: its own failures in one line of its own, and a container's seccomp
 * profile that runsc 2022-12 would drop for the exec'd process. exec -t is in {@link TerminalIT}.
 */
class ExecIT extends RuncFixture {
    /** runsc 2022-12 starts exec'd processes without the container's seccomp filter: refused. The rewritten spec stays invisible. */
    @Test
    void execIsRefusedWhereRunscWouldDropTheProfile() throws Exception {
        Path b = specBundle("exec", s -> {
            seccomp(s, "SCMP_ACT_ERRNO");
            s.withObject("linux").withObject("resources").putArray("devices").addObject().put("allow", false).put("access", "rwm");
        }, "exec sleep 600");
        String cmd = host.gvshim + " --root " + root + " --log " + b.resolve("log.json") + " --log-format json create --bundle "
                + b + " ex <" + b.resolve("in") + " >" + b.resolve("out") + " 2>" + b.resolve("err");
        Host.Result c = Host.run(List.of("/bin/sh", "-c", cmd), null, T, b);
        assertThat(c.code()).as(c + logOf(b)).isZero();
        assertThat(state("ex").path("bundle").asText()).as("runsc reads gvshim's rewrite; state names the caller's bundle")
                .isEqualTo(b.toString());
        assertThat(gv(b, "start", "ex").code()).isZero();
        Host.Result ex = gv(b, "exec", "ex", "/bin/echo", "from exec");
        assertThat(ex.code()).as("runc's status for exec's own failures: " + ex).isEqualTo(255);
        assertThat(ex.out()).doesNotContain("from exec");
        assertThat(lastError()).contains("cannot exec in container ex").endsWith("[SECCOMP_EXEC]");
        assertThat(gv(b, "delete", "--force", "ex").code()).isZero();
    }

    /**
     * The operator's opt-in (lead's decision on issue 14 item 5): with "execWithoutSeccomp" in the
     * configuration file or --exec-without-seccomp, exec runs without the profile (measured inside:
     * Seccomp 0, the denied mkdir succeeds) and each such exec is a warning in --log naming it;
     * without it, refused as before, call by call.
     */
    @Test
    void execWithoutTheProfileRunsOnlyWithTheOperatorsOptInAndEachIsLogged() throws Exception {
        Path b = specBundle("exec-opt", s -> seccomp(s, "SCMP_ACT_ERRNO"), "exec sleep 600");
        String cmd = host.gvshim + " --root " + root + " --log " + b.resolve("log.json") + " --log-format json create --bundle "
                + b + " eo <" + b.resolve("in") + " >" + b.resolve("out") + " 2>" + b.resolve("err");
        Host.Result c = Host.run(List.of("/bin/sh", "-c", cmd), null, T, b);
        assertThat(c.code()).as(c + logOf(b)).isZero();
        assertThat(gv(b, "start", "eo").code()).isZero();

        Host.Result refused = gv(b, "exec", "eo", "/bin/echo", "refused");
        assertThat(refused.code()).as(refused.toString()).isEqualTo(255);
        assertThat(refused.out()).doesNotContain("refused");
        assertThat(lastError()).endsWith("[SECCOMP_EXEC]").contains("--security-opt seccomp=unconfined")
                .contains("release-20260330").contains("\"execWithoutSeccomp\": true in /etc/gvshim/config.json")
                .contains("--exec-without-seccomp");

        Path cfg = tmp.resolve("exec-config.json");
        Files.writeString(cfg, "{\"execWithoutSeccomp\": true}");
        Host.Result viaFile = gv(b, "--config", cfg.toString(), "exec", "eo", "/bin/sh", "-c",
                "grep Seccomp: /proc/self/status; mkdir /tmp/x; echo mkdir=$?");
        assertThat(viaFile.code()).as(viaFile + read(log)).isZero();
        assertThat(viaFile.out()).as("what the opt-in drops, seen from inside").contains("Seccomp:\t0").contains("mkdir=0");
        Host.Result viaOption = gv(b, "--exec-without-seccomp", "exec", "eo", "/bin/echo", "via option");
        assertThat(viaOption.code()).as(viaOption + read(log)).isZero();
        assertThat(viaOption.out()).isEqualTo("via option\n");

        List<String> warnings = new ArrayList<>();
        for (String line : Files.readAllLines(log)) {
            JsonNode j = JSON.readTree(line);
            if (j.path("level").asText().equals("warning") && j.path("msg").asText().contains("without the container's seccomp")) {
                warnings.add(j.path("msg").asText());
            }
        }
        assertThat(warnings).as("one warning per exec run without the profile").hasSize(2);
        assertThat(warnings.get(0)).startsWith("container eo: exec of `/bin/sh -c grep Seccomp: /proc/self/status; mkdir"
                + " /tmp/x; echo mkdir=$?` runs without the container's seccomp profile (linux.seccomp): runsc " + Host.runscRelease().label()
                + " does not apply").contains("allowed by execWithoutSeccomp");
        assertThat(warnings.get(1)).startsWith("container eo: exec of `/bin/echo via option` runs without");

        Host.Result again = gv(b, "exec", "eo", "/bin/true");
        assertThat(again.code()).as("the opt-in is per call, from the configuration: not remembered").isEqualTo(255);
        assertThat(lastError()).endsWith("[SECCOMP_EXEC]");
        assertThat(gv(b, "delete", "--force", "eo").code()).isZero();
    }

    /** exec's message is about this exec: the debug logs keep every earlier call's errors. */
    @Test
    void execFailureNamesOnlyItsOwnError() throws Exception {
        Path b = bundle("execmsg", "/bin/sh", "-c", "exec sleep 600");
        assertThat(create(b, "em").code()).isZero();
        assertThat(gv(b, "start", "em").code()).isZero();
        assertThat(gv(b, "pause", "em").code()).isZero();
        Host.Result p = gv(b, "exec", "em", "/bin/true");
        assertThat(p.code()).as("runc's status for exec's own failures").isEqualTo(255);
        assertThat(lastError()).contains("paused");
        assertThat(gv(b, "resume", "em").code()).isZero();
        assertThat(gv(b, "kill", "em", "KILL").code()).isZero();
        assertThat(awaitStatus("em", "stopped")).isEqualTo("stopped");
        Host.Result s = gv(b, "exec", "em", "/bin/true");
        assertThat(s.code()).isEqualTo(255);
        assertThat(lastError()).contains("stopped").doesNotContain("paused").doesNotContain("3-em");
        List<String> own = s.err().lines().filter(l -> l.startsWith("gvshim")).toList();
        assertThat(own).hasSize(1);
        assertThat(own.getFirst()).doesNotContain("paused");
        assertThat(gv(b, "delete", "em").code()).isZero();
    }
}

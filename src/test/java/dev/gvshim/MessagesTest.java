package dev.gvshim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The audit itself: it catches each way Java's words have reached users, and passes gvshim's own lines. */
class MessagesTest {
    @Test
    void catchesEachFormOfJavaTextThatReachedUsers() {
        List<String> leaks = List.of(
                // issue 15's three, verbatim
                "gvshim: cannot create the state directory /tmp/x/state-demo [java.nio.file.AccessDeniedException: /tmp/x/state-demo]",
                "gvshim run: invalid value for option '--timeout': '2s' is not a double (see `gvshim run --help`)",
                "gvshim spec: cannot write r2/config.json: r2/config.json",
                // and their relatives
                "gvshim doctor: java.io.IOException: No such file or directory",
                "gvshim: internal error: NullPointerException (a bug)",
                "gvshim: internal error\n\tat dev.gvshim.launch.Launcher.launch(Launcher.java:120)\n",
                "Caused by: something",
                "gvshim: cannot use /srv/state: /srv/state",
                "cannot read --resources /r.json: null",
                "gvshim kill: invalid value for positional parameter at index 1 (SIGNAL): 'x' is not an int");
        for (String leak : leaks) {
            assertThat(Messages.violations(leak)).as(leak).isNotEmpty();
            assertThatThrownBy(() -> Messages.check("test", leak)).isInstanceOf(AssertionError.class)
                    .hasMessageContaining("Java's own words reached a user");
        }
    }

    @Test
    void passesGvshimsOwnLines() {
        List<String> fine = List.of(
                "gvshim: cannot create the user namespace [clone(CLONE_NEWUSER|CLONE_VM): EPERM (Operation not permitted)]: a"
                        + " seccomp filter denies CLONE_NEWUSER (Seccomp: 2, Seccomp_filters: 1). Fix: run gvshim outside the"
                        + " seccomp filter [USERNS_SECCOMP]",
                "gvshim run: invalid value for option '--timeout': '2 days' is not a duration (seconds, or with a unit: 30s, 2m, 1h, 500ms)",
                "gvshim spec: cannot write r2/config.json: the directory r2 does not exist",
                "gvshim: cannot start the gVisor sandbox [runsc: waiting for sandbox to start: EOF; error mounting proc:"
                        + " operation not permitted]: /proc has 2 masked paths [PROC_MASKED]",
                "docker: Error response from daemon: failed to create shim task: OCI runtime create failed: gvshim: x [ID]",
                "{\"verdict\": \"fail\", \"mode\": null, \"findings\": []}",
                "gvshim: cannot find runsc: --runsc /nope does not exist (runsc is installed at /usr/bin/runsc) [RUNSC_MISSING]");
        for (String line : fine) {
            assertThat(Messages.violations(line)).as(line).isEmpty();
        }
    }
}

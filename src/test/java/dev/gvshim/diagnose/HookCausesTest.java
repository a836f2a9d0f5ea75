package dev.gvshim.diagnose;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gvshim.failure.Failure;
import org.junit.jupiter.api.Test;

/** A spec's hook failed runsc's create: one line naming the hook (not gvshim-hook, which runsc ran) and its stderr. */
class HookCausesTest {
    static final String WRAPPER = "/usr/lib/gvshim/libexec/gvshim-hook";

    @Test
    void aFailedPrestartHookIsNamedWithItsStatusAndTheLastLineOfItsStderr() {
        Failure f = Explain.hook("creating container: failure executing hook \"" + WRAPPER + "\", err: exit status 3\n"
                + "stdout: gvshim-hook: running the prestart hook /usr/local/bin/net-hook\nsome output\n"
                + "stderr: starting\nnet-hook: cannot find eth0\n");
        assertThat(f.id()).isEqualTo("HOOK_FAILED");
        assertThat(f.oneLine()).contains("the prestart hook /usr/local/bin/net-hook: exit status 3: net-hook: cannot find eth0")
                .contains("hooks.prestart").doesNotContain(WRAPPER).doesNotContain("\n");
    }

    @Test
    void aTimeoutAndGvshimHooksOwnFailureAreSaidSo() {
        Failure t = Explain.hook("creating container: timeout executing hook \"" + WRAPPER + "\"\n"
                + "stdout: gvshim-hook: running the createRuntime hook /bin/sleep\nstderr: ");
        assertThat(t.oneLine()).contains("the createRuntime hook /bin/sleep: killed at its timeout")
                .contains("hooks.createRuntime[].timeout");
        Failure killed = Explain.hook("creating container: failure executing hook \"" + WRAPPER + "\", err: exit status 1\n"
                + "stdout: gvshim-hook: running the prestart hook /b/slow.sh\nstderr: waiting\n"
                + "gvshim-hook: the prestart hook /b/slow.sh ran past its timeout of 5 s: killed\n");
        assertThat(killed.oneLine()).as("gvshim-hook keeps the timeout").contains("the prestart hook /b/slow.sh: killed at its"
                + " timeout: waiting").contains("hooks.prestart[].timeout");
        Failure own = Explain.hook("failure executing hook \"" + WRAPPER + "\", err: exit status 1\nstdout: "
                + "gvshim-hook: running the prestart hook /gone\nstderr: gvshim-hook: cannot run the prestart hook /gone:"
                + " execve: No such file or directory\n");
        assertThat(own.oneLine()).contains("the prestart hook /gone: exit status 1: execve: No such file or directory");
    }

    @Test
    void otherErrorsAreNotHooks() {
        assertThat(Explain.hook("creating container: cannot create sandbox: EOF")).isNull();
        assertThat(Explain.hook(null)).isNull();
    }
}

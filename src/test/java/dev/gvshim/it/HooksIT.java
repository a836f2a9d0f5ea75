package dev.gvshim.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A spec's hooks as runc gives them (issue 19), with the real runsc, as root and as the test
 * user: prestart and createRuntime at create, poststart at start, poststop at delete, each with
 * runc's state on stdin (the caller's id, bundle and annotations; the sandbox's pid while it runs,
 * none once stopped), its own args, env and timeout; a failing prestart hook fails create with one
 * line and leaves nothing; a failing poststart hook is a warning.
 */
class HooksIT extends RuncFixture {
    /** Saves what it was given in the bundle; fails as the kind named in $FAIL, sleeps as the kind in $SLOW. */
    private static final String HOOK = """
            #!/bin/sh
            d=$(dirname "$0"); k=$1
            cat > "$d/$k.state"
            echo "$k" >> "$d/order"
            printf '%s|' "$@" > "$d/$k.args"
            echo "$HOOK_VAR" > "$d/$k.env"
            if [ "$k" = createRuntime ]; then
              pid=$(sed 's/.*"pid":\\([0-9]*\\).*/\\1/' "$d/$k.state")
              readlink /proc/$pid/ns/net > "$d/netns"
              nsenter --net=/proc/$pid/ns/net readlink /proc/self/ns/net > "$d/netns-joined" 2>&1
            fi
            [ "$k" = "$SLOW" ] && exec sleep 30
            [ "$k" = "$FAIL" ] && { echo "some output"; echo "the $k hook says no" >&2; exit 3; }
            exit 0
            """;
    private final List<String[]> created = new ArrayList<>();

    /**
     * Runs before the fixture's check that nothing is left (no runsc of --root, the bundles'
     * files audited): a failed test's container is deleted, and the test user's containers end too.
     */
    @AfterEach
    void deleteWhatATestLeft() {
        // a failed test's container (a passing test deletes its own, or has none)
        for (String[] c : created) {
            gv(c[0].equals("user"), Path.of(c[1]), "delete --force " + c[2]);
        }
        for (int i = 0; i < 50 && !(sandboxes().isEmpty() && host.processes().isEmpty()); i++) {
            sleep(100);
        }
        assertThat(host.processes()).as("the test user's processes").isEmpty();
        assertThat(Host.sh("stat", "-c", "%U:%G", "/dev/null").out().strip()).isEqualTo("root:root");
    }

    /** The hello bundle running sleep, with the hook script at hook.sh as each of the four kinds, env {@code env}. */
    private Path bundle(boolean user, String name, String... env) throws IOException {
        Path b = audit(host.work.resolve(name + "-" + System.nanoTime()));
        Host.check(Host.sh("cp", "-a", host.work.resolve("hello").toString(), b.toString()));
        Files.writeString(b.resolve("hook.sh"), HOOK);
        Files.setPosixFilePermissions(b.resolve("hook.sh"), PosixFilePermissions.fromString("rwxr-xr-x"));
        ObjectNode spec = (ObjectNode) JSON.readTree(b.resolve("config.json").toFile());
        ((ObjectNode) spec.get("process")).putArray("args").add("/bin/sleep").add("600");
        spec.putObject("annotations").put("org.example.hooks", "yes <&>").put("a", "1");
        ObjectNode hooks = spec.putObject("hooks");
        for (String kind : List.of("prestart", "createRuntime", "poststart", "poststop")) {
            ObjectNode h = hooks.putArray(kind).addObject().put("path", b.resolve("hook.sh").toString());
            h.putArray("args").add("hook.sh").add(kind).add("two words");
            ArrayNode e = h.putArray("env").add("PATH=/usr/sbin:/usr/bin:/sbin:/bin").add("HOOK_VAR=" + kind + "-env");
            for (String v : env) {
                e.add(v);
            }
            if (kind.equals("prestart")) {
                h.put("timeout", 5);
            }
        }
        Files.writeString(b.resolve("config.json"), JSON.writeValueAsString(spec));
        if (user) {
            Host.check(Host.sh("chown", "-R", host.uid + ":" + host.gid, b.toString()));
        }
        return b;
    }

    /** `gvshim [--root R] --log B/log.json --log-format json ARGS` as root or the test user, in B, stdio to B's files. */
    private Host.Result gv(boolean user, Path b, String args) {
        if (args.startsWith("create ")) {
            created.add(new String[] {user ? "user" : "root", b.toString(), args.substring(args.lastIndexOf(' ') + 1)});
        }
        String cmd = " --log " + b.resolve("log.json") + " --log-format json " + args + " </dev/null >>" + b.resolve("out")
                + " 2>>" + b.resolve("err");
        Host.Result r = user ? host.userShell("cd " + b + " && $G" + cmd, T)
                : Host.run(List.of("/bin/sh", "-c", host.gvshim + " --root " + root + cmd), null, T, b);
        return new Host.Result(r.code(), read(b.resolve("out")), read(b.resolve("err")) + r.err());
    }

    private JsonNode stateOf(Path b, String kind) throws IOException {
        return JSON.readTree(b.resolve(kind + ".state").toFile());
    }

    @ParameterizedTest(name = "as the test user: {0}")
    @ValueSource(booleans = {false, true})
    void everyHookSeesRuncsStateInRuncsOrder(boolean user) throws Exception {
        Path b = bundle(user, "hooks");
        String id = "hk-" + System.nanoTime();
        Host.Result c = gv(user, b, "create --bundle . " + id);
        assertThat(c.code()).as(c + read(b.resolve("log.json"))).isZero();
        Host.Result st = gv(user, b, "state " + id);
        int pid = JSON.readTree(st.out()).path("pid").asInt();
        assertThat(pid).isPositive();
        assertThat(read(b.resolve("order"))).isEqualTo("prestart\ncreateRuntime\n");
        for (String kind : List.of("prestart", "createRuntime")) {
            JsonNode s = stateOf(b, kind);
            assertThat(s.path("id").asText()).as(kind).isEqualTo(id);
            assertThat(s.path("status").asText()).isEqualTo("created");
            assertThat(s.path("pid").asInt()).as("the sandbox's pid, as `state` says").isEqualTo(pid);
            assertThat(s.path("bundle").asText()).isEqualTo(b.toString());
            assertThat(s.path("annotations").toString()).isEqualTo("{\"a\":\"1\",\"org.example.hooks\":\"yes <&>\"}");
            assertThat(read(b.resolve(kind + ".args"))).isEqualTo(kind + "|two words|");
            assertThat(read(b.resolve(kind + ".env"))).isEqualTo(kind + "-env\n");
        }
        // the sandbox's network namespace is the container's: not the host's (root) nor the caller's (the test user)
        String netns = read(b.resolve("netns")).strip();
        assertThat(netns).startsWith("net:[").isNotEqualTo(Files.readSymbolicLink(Path.of("/proc/self/ns/net")).toString());
        if (!user) {
            assertThat(read(b.resolve("netns-joined")).strip()).as("a hook that joins it").isEqualTo(netns);
        }
        assertThat(gv(user, b, "start " + id).code()).isZero();
        assertThat(read(b.resolve("order"))).isEqualTo("prestart\ncreateRuntime\npoststart\n");
        JsonNode post = stateOf(b, "poststart");
        assertThat(post.path("id").asText()).isEqualTo(id);
        assertThat(post.path("pid").asInt()).isEqualTo(pid);
        Host.Result d = gv(user, b, "delete --force " + id);
        assertThat(d.code()).as(d.toString()).isZero();
        assertThat(read(b.resolve("order"))).isEqualTo("prestart\ncreateRuntime\npoststart\npoststop\n");
        JsonNode stop = stateOf(b, "poststop");
        assertThat(stop.path("id").asText()).isEqualTo(id);
        assertThat(stop.path("status").asText()).isEqualTo("stopped");
        assertThat(stop.has("pid")).as("runc gives no pid once stopped: " + stop).isFalse();
        assertThat(stop.path("bundle").asText()).isEqualTo(b.toString());
    }

    @ParameterizedTest(name = "as the test user: {0}")
    @ValueSource(booleans = {false, true})
    void aFailingPrestartHookFailsCreateWithOneLineAndLeavesNothing(boolean user) throws Exception {
        Path b = bundle(user, "hookfail", "FAIL=prestart");
        String id = "hf-" + System.nanoTime();
        Host.Result c = gv(user, b, "create --bundle . " + id);
        assertThat(c.code()).isEqualTo(1);
        assertThat(c.err()).as(c.toString()).contains("cannot create container " + id)
                .contains("the prestart hook " + b.resolve("hook.sh") + ": exit status 3: the prestart hook says no")
                .contains("[HOOK_FAILED]");
        // gvshim's one line only: runsc create's own error text (the same, from its --log) is not relayed before it
        assertThat(c.err().lines().toList()).as(c.err()).hasSize(1).first().asString().startsWith("gvshim: ")
                .endsWith("[HOOK_FAILED]");
        assertThat(read(b.resolve("order"))).as("no createRuntime after a failed prestart").startsWith("prestart\n")
                .doesNotContain("createRuntime").doesNotContain("poststart");
        Host.Result s = gv(user, b, "state " + id);
        assertThat(s.code()).isEqualTo(1);
        assertThat(s.err()).contains("container does not exist");
    }

    /** create's stderr is held until runsc create exits (gvshim-nsexec --hold-stderr): the container's own output still comes. */
    @ParameterizedTest(name = "as the test user: {0}")
    @ValueSource(booleans = {false, true})
    void theContainersOutputReachesCreatesStdioAfterStart(boolean user) throws Exception {
        Path b = bundle(user, "hookout");
        ObjectNode spec = (ObjectNode) JSON.readTree(b.resolve("config.json").toFile());
        ((ObjectNode) spec.get("process")).putArray("args").add("/bin/sh").add("-c")
                .add("echo container-err >&2; echo container-out; exec sleep 600");
        Files.writeString(b.resolve("config.json"), JSON.writeValueAsString(spec));
        String id = "ho-" + System.nanoTime();
        Host.Result c = gv(user, b, "create --bundle . " + id);
        assertThat(c.code()).as(c.toString()).isZero();
        assertThat(c.err()).as("nothing before start").isEmpty();
        assertThat(gv(user, b, "start " + id).code()).isZero();
        for (int i = 0; i < 100 && !(read(b.resolve("err")).contains("container-err") && read(b.resolve("out")).contains("container-out")); i++) {
            sleep(100);
        }
        assertThat(read(b.resolve("err"))).isEqualTo("container-err\n");
        assertThat(read(b.resolve("out"))).isEqualTo("container-out\n");
        assertThat(gv(user, b, "delete --force " + id).code()).isZero();
    }

    @ParameterizedTest(name = "as the test user: {0}")
    @ValueSource(booleans = {false, true})
    void aPrestartHookPastItsTimeoutFailsCreate(boolean user) throws Exception {
        Path b = bundle(user, "hookslow", "SLOW=prestart");
        String id = "hs-" + System.nanoTime();
        long t0 = System.nanoTime();
        Host.Result c = gv(user, b, "create --bundle . " + id);
        assertThat(c.code()).isEqualTo(1);
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).as("the 5 s timeout, not the hook's 30 s").isLessThan(Duration.ofSeconds(25));
        assertThat(c.err()).contains("the prestart hook " + b.resolve("hook.sh") + ": killed at its timeout").contains("[HOOK_FAILED]");
        assertThat(c.err().lines().toList()).as("one line: " + c.err()).hasSize(1);
        assertThat(gv(user, b, "state " + id).code()).isEqualTo(1);
    }

    @ParameterizedTest(name = "as the test user: {0}")
    @ValueSource(booleans = {false, true})
    void aFailingPoststartHookLeavesTheContainerRunning(boolean user) throws Exception {
        Path b = bundle(user, "hookpost", "FAIL=poststart");
        String id = "hp-" + System.nanoTime();
        assertThat(gv(user, b, "create --bundle . " + id).code()).isZero();
        Host.Result s = gv(user, b, "start " + id);
        assertThat(s.code()).as("runtime-spec 1.0: a warning only (runsc)" + s).isZero();
        assertThat(JSON.readTree(gv(user, b, "state " + id).out()).path("status").asText()).isEqualTo("running");
        assertThat(gv(user, b, "delete --force " + id).code()).isZero();
    }
}

package dev.gvshim.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gvshim.cli.CliTest.Out;
import dev.gvshim.runsc.RunscLogs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * gvshim as runc's command line, black box, on paths that end before runsc would run: how
 * Docker and containerd call it ({@code --root R --log L --log-format json VERB ...}, or Go's
 * {@code -root R}), what they parse back (--version, the last error line of --log, sentinel
 * texts), and exit codes.
 */
class RuntimeCliTest {
    static final ObjectMapper MAPPER = new ObjectMapper();

    @TempDir
    Path tmp;
    Path root;
    Path log;

    @BeforeEach
    void dirs() {
        root = tmp.resolve("root");
        log = tmp.resolve("log.json");
    }

    static Out cli(String... args) {
        return CliTest.cli(args);
    }

    /** containerd's call: global options first, then the verb. */
    Out runtime(String... verbAndArgs) {
        List<String> a = new java.util.ArrayList<>(List.of("--root", root.toString(), "--log", log.toString(),
                "--log-format", "json"));
        a.addAll(List.of(verbAndArgs));
        return cli(a.toArray(String[]::new));
    }

    List<JsonNode> logLines() throws Exception {
        List<JsonNode> out = new java.util.ArrayList<>();
        if (Files.exists(log)) {
            for (String l : Files.readAllLines(log)) {
                out.add(MAPPER.readTree(l));
            }
        }
        return out;
    }

    /**
     * One failure: exit 1, its one line ("gvshim: MESSAGE [ID]") on stderr and as the one error line in
     * --log (what containerd shows), nothing on stdout.
     */
    void assertFails(Out o, String message, String id) throws Exception {
        assertFails(o, message, id, 1);
    }

    /** {@link #assertFails(Out, String, String)} with runc's exit status for the verb ({@code exec}: 255). */
    void assertFails(Out o, String message, String id, int status) throws Exception {
        String line = "gvshim: " + message + " [" + id + "]";
        assertThat(o.code()).isEqualTo(status);
        assertThat(o.out()).isEmpty();
        assertThat(o.err()).isEqualTo(line + "\n");
        List<JsonNode> errors = logLines().stream().filter(j -> j.path("level").asText().equals("error")).toList();
        assertThat(errors).hasSize(1);
        assertThat(errors.getFirst().path("msg").asText()).isEqualTo(line);
        assertThat(errors.getFirst().path("time").asText()).isNotEmpty();
        assertThat(RunscLogs.lastError(log)).isEqualTo(line);
    }

    /** One failure diagnosed with an id: its one line ("gvshim: ... [ID]") on stderr and as the last error in --log. */
    void assertFailsWithLine(Out o, String line) throws Exception {
        assertThat(o.code()).isEqualTo(1);
        assertThat(o.out()).isEmpty();
        assertThat(o.err()).isEqualTo(line + "\n");
        List<JsonNode> errors = logLines().stream().filter(j -> j.path("level").asText().equals("error")).toList();
        assertThat(errors).hasSize(1);
        assertThat(errors.getFirst().path("msg").asText()).isEqualTo(line);
        assertThat(RunscLogs.lastError(log)).isEqualTo(line);
    }

    @Test
    void runtimeModeIsChosenByAGlobalOptionOrARuntimeOnlyVerb() {
        for (String[] a : List.of(new String[] {"--root", "/r", "run", "id"}, new String[] {"-root", "/r", "state", "id"},
                new String[] {"--root=/r", "spec"}, new String[] {"--log", "l", "doctor"}, new String[] {"--debug", "create"},
                new String[] {"--systemd-cgroup", "create"}, new String[] {"create", "id"}, new String[] {"state", "id"},
                new String[] {"kill", "id", "9"}, new String[] {"features"}, new String[] {"list"}, new String[] {"ps", "id"},
                new String[] {"checkpoint", "id"}, new String[] {"restore", "id"}, new String[] {"events", "id"},
                new String[] {"update", "id"}, new String[] {"pause", "id"}, new String[] {"resume", "id"},
                new String[] {"delete", "id"}, new String[] {"exec", "--process", "p.json", "id"}, new String[] {"exec", "-d", "id", "sh"},
                new String[] {"ps", "--format", "json", "id"}, new String[] {"start", "id"})) {
            assertThat(RuntimeCli.applies(a)).as(String.join(" ", a)).isTrue();
        }
        for (String[] a : List.of(new String[] {}, new String[] {"run", "--", "true"}, new String[] {"run", "-b", "b", "id"},
                new String[] {"spec"}, new String[] {"doctor"}, new String[] {"--help"}, new String[] {"-h"},
                new String[] {"--version"}, new String[] {"-v"}, new String[] {"-version"}, new String[] {"-help"},
                new String[] {"frobnicate"}, new String[] {"ps"}, new String[] {"ps", "-a", "--format", "json"},
                new String[] {"ps", "-q"}, new String[] {"exec", "id", "sh"}, new String[] {"exec", "-it", "-e", "A=1", "web", "sh"},
                new String[] {"logs", "web"}, new String[] {"stop", "web"}, new String[] {"rm", "-f", "web"})) {
            // gvshim's own: ps without a container id, exec with its options only (dockerd and containerd put --root first)
            assertThat(RuntimeCli.applies(a)).as(String.join(" ", a)).isFalse();
        }
    }

    @Test
    void everyLongOptionAlsoTakesGosSingleDash() {
        assertThat(GlobalOptions.go("-b", "--bundle", "--pid-file")).containsExactly("-b", "--bundle", "-bundle", "--pid-file",
                "-pid-file");
    }

    @Test
    void versionIsRuncsThreeLinesInEveryForm() {
        for (String[] a : List.of(new String[] {"--version"}, new String[] {"-v"}, new String[] {"-version"},
                new String[] {"--root", "/r", "--version"}, new String[] {"-root", "/r", "-version"},
                new String[] {"--log", "/l", "-v"})) {
            Out o = cli(a);
            assertThat(o.code()).as(String.join(" ", a)).isZero();
            assertThat(o.err()).as(String.join(" ", a)).isEmpty();
            List<String> lines = o.out().lines().toList();
            // Docker's parseRuntimeVersion: "NAME version V", then "commit: C"; runc adds "spec: S"
            assertThat(lines).as(String.join(" ", a)).hasSize(3);
            assertThat(lines.get(0)).matches("gvshim version \\S+");
            assertThat(lines.get(1)).matches("commit: \\S+");
            assertThat(lines.get(2)).isEqualTo("spec: 1.0.2");
        }
    }

    @Test
    void featuresIsJsonOnStdoutOnly() throws Exception {
        for (String[] a : List.of(new String[] {"features"}, new String[] {"--root", root.toString(), "features"},
                new String[] {"-root", root.toString(), "-log", log.toString(), "features"})) {
            Out o = cli(a);
            assertThat(o.code()).isZero();
            assertThat(o.err()).isEmpty();
            assertThat(o.out()).startsWith("{").endsWith("}\n");
            JsonNode j = MAPPER.readTree(o.out());
            assertThat(j.path("ociVersionMax").asText()).isEqualTo(dev.gvshim.failure.Versions.SPEC);
            assertThat(j.at("/linux/namespaces").isArray()).isTrue();
        }
        assertThat(root).as("features touches no state").doesNotExist();
        assertThat(log).doesNotExist();
    }

    @Test
    void aContainerThatDoesNotExistIsRuncsSentinel() throws Exception {
        assertFails(runtime("state", "nosuch"), "container does not exist: nosuch", "CONTAINER_NOT_FOUND");
    }

    @Test
    void goStyleAndEqualsFormsOfTheGlobalOptions() throws Exception {
        Out o = cli("-root", root.toString(), "-log", log.toString(), "-log-format", "json", "state", "nosuch");
        assertFails(o, "container does not exist: nosuch", "CONTAINER_NOT_FOUND");
        Files.delete(log);
        o = cli("--root=" + root, "--log=" + log, "--log-format=json", "-debug", "--systemd-cgroup", "start", "nosuch");
        assertFails(o, "container does not exist: nosuch", "CONTAINER_NOT_FOUND");
    }

    @Test
    void textLogFormatWhenAsked() throws Exception {
        Out o = cli("--root", root.toString(), "--log", log.toString(), "--log-format", "text", "state", "nosuch");
        assertThat(o.code()).isEqualTo(1);
        assertThat(Files.readString(log)).matches("time=\"[^\"]+\" level=error msg=\"gvshim: container does not exist: nosuch \\[CONTAINER_NOT_FOUND\\]\"\n");
    }

    @Test
    void everyVerbOnAMissingContainerSaysDoesNotExist() throws Exception {
        for (String[] verb : List.of(new String[] {"start", "x"}, new String[] {"kill", "x", "KILL"},
                new String[] {"delete", "x"}, new String[] {"pause", "x"}, new String[] {"resume", "x"},
                new String[] {"ps", "x"}, new String[] {"events", "x"}, new String[] {"update", "x"},
                new String[] {"exec", "x", "sh"}, new String[] {"checkpoint", "x"})) {
            Files.deleteIfExists(log);
            assertFails(runtime(verb), "container does not exist: x", "CONTAINER_NOT_FOUND", verb[0].equals("exec") ? 255 : 1);
        }
    }

    /** runc's update parses its int options with the command line, before it looks the container up. */
    @Test
    void updatesIntOptionsAreCheckedFirstInRuncsWords() throws Exception {
        assertFails(runtime("update", "--pids-limit", "abc", "x"), "invalid value \"abc\" for flag -pids-limit: parse error",
                "ARGS_INVALID");
        Files.deleteIfExists(log);
        assertFails(runtime("update", "--blkio-weight", "1.5", "x"), "invalid value \"1.5\" for flag -blkio-weight: parse error",
                "ARGS_INVALID");
        Files.deleteIfExists(log);
        assertFails(runtime("update", "--memory", "abc", "--cpu-shares", "2", "x"), "container does not exist: x",
                "CONTAINER_NOT_FOUND");
    }

    @Test
    void deleteForceOfNothingSucceedsSilently() throws Exception {
        Out o = runtime("delete", "--force", "gone");
        assertThat(o.code()).isZero();
        assertThat(o.out()).isEmpty();
        assertThat(o.err()).isEmpty();
        assertThat(log).doesNotExist();
        assertThat(runtime("delete", "-f", "gone").code()).isZero();
        assertThat(runtime("delete", "-force", "gone").code()).isZero();
    }

    @Test
    void invalidIdsAreRejectedBeforeAnyFileIsTouched() throws Exception {
        assertFails(runtime("state", "../x"), "invalid container ID format: \"../x\" (letters, digits, and _ + - . only;"
                + " not . or ..)", "ID_INVALID");
        Files.delete(log);
        assertFails(runtime("create", "--bundle", tmp.toString(), "a/b"), "invalid container ID format: \"a/b\""
                + " (letters, digits, and _ + - . only; not . or ..)", "ID_INVALID");
        assertThat(root).doesNotExist();
        // runc takes such an id after "--"; runsc would read it as an option and print its usage
        for (String[] verb : List.of(new String[] {"create", "--bundle", tmp.toString(), "--", "-x"},
                new String[] {"delete", "--force", "--", "-x"}, new String[] {"state", "--", "-x"},
                new String[] {"kill", "--", "-x", "9"})) {
            Files.deleteIfExists(log);
            assertFails(runtime(verb), "invalid container ID format: \"-x\" (an id cannot start with -: runsc would read it"
                    + " as an option)", "ID_INVALID");
        }
        assertThat(root).doesNotExist();
    }

    @Test
    void invalidSignalsAreRejected() throws Exception {
        assertFails(runtime("kill", "x", "SIGFOO"), "unknown signal \"SIGFOO\" (a number or a name: 9, KILL, SIGKILL)", "ARGS_INVALID");
        Files.delete(log);
        assertFails(runtime("kill", "x", "65"), "unable to signal init: invalid argument (signal 65; 1 to 31)", "ARGS_INVALID");
        Files.delete(log);
        assertFails(runtime("kill", "x", "40"), "cannot send signal 40 to x: gVisor delivers only the standard signals 1 to 31"
                + " to a container, not real-time ones", "SIGNAL_UNSUPPORTED");
        Files.delete(log);
        assertFails(runtime("kill", "x", "9", "15"), "kill takes a container id and at most one signal, not [x, 9, 15]", "ARGS_INVALID");
    }

    @Test
    void specFieldsOfTheWrongTypeAreNamedWithTheTypeTheyMustHave() throws Exception {
        Path bundle = Files.createDirectories(tmp.resolve("typed"));
        Files.createDirectories(bundle.resolve("rootfs"));
        Path config = bundle.resolve("config.json");
        for (String[] c : List.of(new String[] {"[1,2]", "\"rootfs\"",
                "\"process.args[0]\" must be a string, not the number 1; \"process.args[1]\" must be a string, not the number 2"},
                new String[] {"\"echo hi\"", "\"rootfs\"", "\"process.args\" must be an array of strings, not a string"},
                new String[] {"[\"sh\"]", "5", "\"root.path\" must be a string, not the number 5"})) {
            Files.writeString(config, "{\"ociVersion\":\"1.0.2\",\"process\":{\"args\":" + c[0] + ",\"cwd\":\"/\"},"
                    + "\"root\":{\"path\":" + c[1] + "},\"linux\":{\"namespaces\":[{\"type\":\"uts\"},{\"type\":\"mount\"}]}}");
            Files.deleteIfExists(log);
            // the bundle's one loader, shared with gvshim run --bundle: its line and id
            assertFailsWithLine(runtime("create", "--bundle", bundle.toString(), "typed"), "gvshim: cannot use " + config
                    + ": " + c[2] + " [BUNDLE_INVALID]");
            assertThat(root.resolve("typed.gvshim")).doesNotExist();
        }
    }

    @Test
    void createWithoutABundleSaysWhatIsMissing() throws Exception {
        Path bundle = Files.createDirectory(tmp.resolve("bundle"));
        assertFailsWithLine(runtime("create", "--bundle", bundle.toString(), "c1"), "gvshim: cannot use bundle " + bundle
                + ": it has no config.json. Fix: create one with `gvshim spec` in " + bundle + " [BUNDLE_NO_CONFIG]");
        assertThat(root.resolve("c1.gvshim")).as("nothing is left behind").doesNotExist();
    }

    @Test
    void runcOptionsRuncsCallersPassAreAcceptedAndDroppedWithADebugLine() throws Exception {
        Path bundle = Files.createDirectory(tmp.resolve("bundle"));
        Out o = cli("--root", root.toString(), "--log", log.toString(), "--log-format", "json", "--debug",
                "--systemd-cgroup", "--criu", "/usr/sbin/criu", "create", "-bundle", bundle.toString(), "--no-pivot",
                "--no-new-keyring", "--preserve-fds", "0", "--pidfd-socket", "/run/p.sock", "c1");
        assertThat(o.code()).isEqualTo(1);
        List<String> debug = logLines().stream().filter(j -> j.path("level").asText().equals("debug"))
                .map(j -> j.path("msg").asText()).toList();
        assertThat(debug).anySatisfy(m -> assertThat(m).startsWith("--systemd-cgroup"))
                .anySatisfy(m -> assertThat(m).startsWith("--no-pivot accepted and dropped"))
                .anySatisfy(m -> assertThat(m).startsWith("--no-new-keyring accepted and dropped"))
                .anySatisfy(m -> assertThat(m).startsWith("--pidfd-socket accepted and dropped"));
        assertThat(RunscLogs.lastError(log)).startsWith("gvshim: cannot use bundle " + bundle).endsWith("[BUNDLE_NO_CONFIG]");
    }

    @Test
    void preserveFdsIsRefusedNeverDropped() throws Exception {
        Path bundle = Files.createDirectory(tmp.resolve("bundle"));
        Out c = cli("--root", root.toString(), "--log", log.toString(), "--log-format", "json", "create", "--bundle",
                bundle.toString(), "--preserve-fds", "2", "c1");
        assertThat(c.code()).isEqualTo(1);
        assertThat(c.err()).isEqualTo("gvshim: cannot pass 2 extra descriptors to the container: runsc create has no way to pass"
                + " them into the gVisor sandbox. Fix: run without --preserve-fds (a listening socket can be bind-mounted into the"
                + " container instead) [PRESERVE_FDS_UNSUPPORTED]\n");
        assertThat(RunscLogs.lastError(log)).endsWith("[PRESERVE_FDS_UNSUPPORTED]"); // exec's: LifecycleTest
    }

    @Test
    void aVerbTakesOneIdAndNeedsOne() throws Exception {
        assertFails(runtime("state"), "\"state\" requires a container id (gvshim state --help)", "ARGS_INVALID");
        Files.delete(log);
        assertFails(runtime("start", "a", "b"), "\"start\" takes one container id, not [a, b]", "ARGS_INVALID");
    }

    @Test
    void usageErrorsOfAVerbAreExit1OnStderr() {
        Out o = runtime("state", "--frob", "x");
        assertThat(o.code()).isEqualTo(1);
        assertThat(o.out()).isEmpty();
        assertThat(o.err().lines()).hasSize(1).first().asString().startsWith("gvshim state: ").contains("'--frob'");
        assertThat(runtime("create", "--preserve-fds", "many", "x").code()).isEqualTo(1);
    }

    @Test
    void usageErrorsBeforeTheVerbAreExit2() {
        Out unknown = cli("--root", root.toString(), "--frob", "state", "x");
        assertThat(unknown.code()).isEqualTo(2);
        assertThat(unknown.err()).startsWith("gvshim: ").contains("'--frob'");
        Out noVerb = cli("--root", root.toString());
        assertThat(noVerb.code()).isEqualTo(2);
        assertThat(noVerb.err()).startsWith("gvshim: missing verb after the global options");
        Out badVerb = cli("--root", root.toString(), "frobnicate", "x");
        assertThat(badVerb.code()).as("runc's status for an unknown verb").isEqualTo(3);
        assertThat(badVerb.err()).startsWith("gvshim: No help topic for 'frobnicate': unknown verb (checkpoint, create,");
        Out doctor = cli("--root", root.toString(), "doctor");
        assertThat(doctor.code()).as("doctor is gvshim's own verb, not a runtime one").isEqualTo(3);
        assertThat(doctor.err()).startsWith("gvshim: No help topic for 'doctor'");
        Out rootless = cli("--root", root.toString(), "--log", log.toString(), "--log-format", "json", "--rootless", "maybe",
                "state", "x");
        assertThat(rootless.code()).isEqualTo(2);
        assertThat(rootless.err()).isEqualTo("gvshim: --rootless must be true, false or auto, not \"maybe\" [ARGS_INVALID]\n");
        assertThat(RunscLogs.lastError(log)).as("containerd reads it too").startsWith("gvshim: --rootless must be");
    }

    @Test
    void anUnknownLogFormatIsRuncsError() {
        Out xml = cli("--root", root.toString(), "--log-format", "xml", "list");
        assertThat(xml.code()).as("runc's status").isEqualTo(1);
        assertThat(xml.out()).as("nothing listed").isEmpty();
        assertThat(xml.err()).isEqualTo("gvshim: invalid log-format: xml (text or json) [ARGS_INVALID]\n");
        assertThat(cli("--root", root.toString(), "--log-format", "text", "list").code()).isZero();
    }

    @Test
    void runAndSpecKeepTheirGvshimMeaningWithoutGlobalOptions() throws Exception {
        assertThat(cli("run", "--help").out()).contains("--userns");
        Out runtimeRun = cli("--root", root.toString(), "run", "--help");
        assertThat(runtimeRun.code()).isZero();
        assertThat(runtimeRun.out()).contains("--bundle").contains("--detach").doesNotContain("--userns");
        Path bundle = Files.createDirectory(tmp.resolve("spec"));
        Out spec = cli("-root", root.toString(), "spec", "--bundle", bundle.toString());
        assertThat(spec.code()).isZero();
        assertThat(spec.err()).isEmpty();
        assertThat(MAPPER.readTree(bundle.resolve("config.json").toFile()).path("ociVersion").asText()).isEqualTo("1.0.2");
    }

    @Test
    void helpAndHAreRuncsHelpVerbsInBothModes() {
        for (String[] a : List.of(new String[] {"help"}, new String[] {"h"}, new String[] {"--root", root.toString(), "help"})) {
            Out o = cli(a);
            assertThat(o.code()).as(String.join(" ", a)).isZero();
            assertThat(o.out()).contains("Usage: gvshim").contains("doctor");
            assertThat(o.err()).isEmpty();
        }
        Out kill = cli("--root", root.toString(), "help", "kill");
        assertThat(kill.code()).isZero();
        assertThat(kill.out()).startsWith("Usage: gvshim kill").contains("--all");
        Out run = cli("help", "run");
        assertThat(run.code()).isZero();
        assertThat(run.out()).startsWith("Usage: gvshim run").contains("--userns");
        Out foo = cli("help", "foo");
        assertThat(foo.code()).as("runc: No help topic, exit 3").isEqualTo(3);
        assertThat(foo.out()).isEmpty();
        assertThat(foo.err()).startsWith("gvshim: No help topic for 'foo' (verbs: run, ps, logs, exec, stop, rm, spec, doctor, install, uninstall, server, version, completion, help; runc's:");
    }

    /** runc answers -h, --help and Go's -help of every verb with its usage (exit 0), and `help help` with help's own. */
    @Test
    void everyRuncVerbAnswersEachHelpOptionOnStdout() {
        for (String verb : RuntimeCli.VERB_ORDER) {
            for (String h : List.of("--help", "-h", "-help")) {
                Out o = runtime(verb, h);
                assertThat(o.code()).as(verb + " " + h).isZero();
                assertThat(o.err()).as(verb + " " + h).isEmpty();
                assertThat(o.out()).as(verb + " " + h).startsWith("Usage: gvshim " + verb);
            }
            Out topic = cli("--root", root.toString(), "help", verb);
            assertThat(topic.code()).as("help " + verb).isZero();
            assertThat(topic.out()).as("help " + verb).startsWith("Usage: gvshim " + verb);
        }
        for (String h : List.of("help", "h", "-h", "--help")) {
            Out o = cli("--root", root.toString(), "help", h);
            assertThat(o.code()).as("runc 1.1.5: `help " + h + "` is help's own help, exit 0").isZero();
            assertThat(o.out()).as("help " + h).startsWith("Usage: gvshim help [VERB]");
            assertThat(o.err()).as("help " + h).isEmpty();
        }
        assertThat(cli("--root", root.toString(), "help", "nosuch").code()).as("runc: No help topic, exit 3").isEqualTo(3);
        assertThat(root).as("help touches no state").doesNotExist();
    }

    /** runc's `create -b DIR`, `run -b DIR --no-pivot` (moot: a debug line) and `run --keep` (refused) from the command line. */
    @Test
    void shortBundleOptionNoPivotAndKeepAsRuncsCallersPassThem() throws Exception {
        Path bundle = Files.createDirectory(tmp.resolve("bundle"));
        String noConfig = "cannot use bundle " + bundle + ": it has no config.json. Fix: create one with `gvshim spec` in "
                + bundle;
        assertFailsWithLine(runtime("create", "-b", bundle.toString(), "c1"), "gvshim: " + noConfig + " [BUNDLE_NO_CONFIG]");
        Files.delete(log);
        Out run = cli("--root", root.toString(), "--log", log.toString(), "--log-format", "json", "--debug", "run", "-b",
                bundle.toString(), "--no-pivot", "-d", "c1");
        assertThat(run.code()).isEqualTo(1);
        assertThat(run.err()).isEqualTo("gvshim: " + noConfig + " [BUNDLE_NO_CONFIG]\n");
        assertThat(logLines().stream().filter(j -> j.path("level").asText().equals("debug")).map(j -> j.path("msg").asText()))
                .anySatisfy(m -> assertThat(m).startsWith("--no-pivot accepted and dropped"));
        Files.delete(log);
        Out keep = runtime("run", "--keep", "-b", bundle.toString(), "c1");
        assertThat(keep.code()).isEqualTo(1);
        assertThat(keep.err()).startsWith("gvshim: cannot run container c1 with --keep").endsWith("[KEEP_UNSUPPORTED]\n");
        assertThat(RunscLogs.lastError(log)).endsWith("[KEEP_UNSUPPORTED]");
        assertThat(root.resolve("c1.gvshim")).as("nothing is left behind").doesNotExist();
    }

    /** runc's list of no containers, byte for byte (runc 1.1.5 with an empty --root): header, null, nothing; a bad -f. */
    @Test
    void listOfNoContainersIsRuncsInEveryFormat() throws Exception {
        Out table = runtime("list");
        assertThat(table.code()).isZero();
        assertThat(table.out()).isEqualTo("ID          PID         STATUS      BUNDLE      CREATED     OWNER\n");
        for (String[] json : List.of(new String[] {"list", "-f", "json"}, new String[] {"list", "--format", "json"},
                new String[] {"list", "--format=json"})) {
            Out o = runtime(json);
            assertThat(o.out()).as(String.join(" ", json)).isEqualTo("null\n");
            assertThat(o.err()).isEmpty();
        }
        Out quiet = runtime("list", "-q");
        assertThat(quiet.code()).isZero();
        assertThat(quiet.out()).isEmpty();
        assertFails(runtime("list", "-f", "xml"), "invalid format option \"xml\" (table or json)", "ARGS_INVALID");
    }

    @Test
    void verbHelpListsRuncsOptions() {
        Out o = runtime("exec", "--help");
        assertThat(o.code()).isZero();
        assertThat(o.out()).contains("--process").contains("--console-socket").contains("--pid-file").contains("--detach")
                .contains("--tty").contains("--env").contains("--cap");
        assertThat(o.err()).isEmpty();
    }

    /**
     * The parsers a server's calls reuse (RuntimeCli's pool): one call's options never reach
     * another's, one after the other on the same parser or at the same time on several.
     */
    @Test
    void reusedParsersKeepNothingOfAnEarlierCallAndServeConcurrentCalls() throws Exception {
        dev.gvshim.call.Call call = dev.gvshim.call.TestCalls.of(tmp, java.util.Map.of());
        var first = RuntimeCli.globalOptions(call, "--root", "/a", "--debug", "--runsc-flag", "x=1", "--runsc-flag", "y=2",
                "--exec-without-seccomp", "state", "c");
        assertThat(first.root()).isEqualTo("/a");
        assertThat(first.debug()).isTrue();
        assertThat(first.runscFlags()).containsExactly("x=1", "y=2");
        var second = RuntimeCli.globalOptions(call, "--runsc-flag", "z=3", "state", "c");
        assertThat(second.root()).isNull();
        assertThat(second.debug()).isFalse();
        assertThat(second.runscFlags()).containsExactly("z=3");
        assertThat(second.execWithoutSeccomp()).isNull();
        assertThat(RuntimeCli.globalOptions(call, "list").runscFlags()).isEmpty();

        int threads = 8;
        var pool = java.util.concurrent.Executors.newFixedThreadPool(threads);
        try {
            List<java.util.concurrent.Future<List<String>>> all = new java.util.ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int n = t;
                all.add(pool.submit(() -> {
                    List<String> wrong = new java.util.ArrayList<>();
                    for (int i = 0; i < 200; i++) {
                        String v = n + "-" + i;
                        var o = RuntimeCli.globalOptions(call, "--root", "/r" + v, "--runsc-flag", "k=" + v, "state", "c");
                        if (!o.root().equals("/r" + v) || !o.runscFlags().equals(List.of("k=" + v))) {
                            wrong.add(v + ": " + o);
                        }
                    }
                    return wrong;
                }));
            }
            for (var f : all) {
                assertThat(f.get()).isEmpty();
            }
        } finally {
            pool.shutdown();
        }
        // and whole calls, one after the other, through the same parsers
        Out bad = runtime("--runsc-flag", "nonsense", "list");
        assertThat(bad.err()).contains("--runsc-flag nonsense");
        Out good = runtime("--runsc-flag", "a=b", "list");
        assertThat(good.err()).isEmpty();
        assertThat(good.code()).isZero();
    }
}

package dev.gvshim.container;

import dev.gvshim.call.Launch;
import dev.gvshim.call.Processes;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * runsc 2022-12 as the runc verbs see it, for unit tests: a {@link Processes} that answers
 * runsc's command lines (behind gvshim-nsexec or not) from a table of containers, keeping
 * runsc's state files in --root (the names gvshim resolves ids by, the JSON it reads status and
 * sandbox from) and each sandbox process as a /proc entry of a file tree ({@code proc}), so
 * that "alive" and "dead" are a file. Every call is recorded; a verb can be made to fail.
 */
final class FakeRunsc implements Processes {
    /** A container runsc knows. */
    static final class Ct {
        String status;
        final int pid;
        final String bundle;

        Ct(String status, int pid, String bundle) {
            this.status = status;
            this.pid = pid;
            this.bundle = bundle;
        }
    }

    private final Path proc;
    final Map<String, Ct> containers = new HashMap<>();
    /** Each runsc call: the verb and its arguments, without the global flags. */
    final List<List<String>> calls = java.util.Collections.synchronizedList(new ArrayList<>()); // a test may exec from another thread
    /** Verbs that fail (runsc's error line, as it writes it to --log), and with what. */
    final Map<String, String> failing = new HashMap<>();
    /** How many more plain deletes runsc refuses whatever the state (runsc 2024 while a sandbox winds down). */
    int refusedDeletes;
    /** runsc's container is gone after its next `events` call (a delete by another caller between two polls). */
    boolean goneAfterEvents;
    /** The process.json of each exec --process, as it was when runsc was called. */
    final List<String> processFiles = new ArrayList<>();
    /** The sandbox's "cgroup" in runsc's state (its CgroupJSON), or null: runsc writes {"cgroupunknown":null} then. */
    String cgroup;
    private int nextPid = 5_000_000; // above any pid_max: never a real process (kill(2) finds none)
    private Path root;

    FakeRunsc(Path proc) {
        this.proc = proc;
    }

    /** The verbs called, in order. */
    List<String> verbs() {
        return calls.stream().map(List::getFirst).toList();
    }

    @Override
    public Launch.Ran run(Launch launch) throws IOException {
        List<String> argv = launch.argv();
        int at = argv.getFirst().endsWith("gvshim-nsexec") ? argv.indexOf("--") + 1 : 0;
        List<String> a = argv.subList(at + 1, argv.size());
        Path log = null;
        int i = 0;
        for (; i < a.size() && a.get(i).startsWith("--"); i++) {
            String f = a.get(i);
            if (f.startsWith("--root=")) {
                root = Path.of(f.substring("--root=".length()));
            } else if (f.startsWith("--log=")) {
                log = Path.of(f.substring("--log=".length()));
            }
        }
        List<String> verb = List.copyOf(a.subList(i, a.size()));
        calls.add(verb);
        String v = verb.getFirst();
        // the id: last, but for exec (the command follows it) the first argument that is not an option
        String id = v.equals("exec") ? verb.stream().skip(1).filter(x -> !x.startsWith("--")).findFirst().orElse("")
                : verb.getLast();
        if (failing.containsKey(v)) {
            return error(log, failing.get(v));
        }
        Ct ct = containers.get(id);
        switch (v) {
            case "create", "run" -> {
                if (ct != null) {
                    return error(log, "creating container: container with id \"" + id + "\" already exists");
                }
                String bundle = verb.stream().filter(x -> x.startsWith("--bundle=")).findFirst().orElse("=").split("=", 2)[1];
                ct = new Ct(v.equals("run") && verb.contains("--detach") ? "running" : "created", nextPid++, bundle);
                containers.put(id, ct);
                alive(id, ct);
                if (v.equals("run") && !verb.contains("--detach")) {
                    ct.status = "stopped";
                    dead(ct);
                }
            }
            case "start" -> {
                if (ct == null || !ct.status.equals("created")) {
                    return error(log, ct == null ? "loading container: file does not exist"
                            : "starting container: cannot start a container in the " + ct.status + " state");
                }
                ct.status = "running";
            }
            case "state" -> {
                if (ct == null) {
                    return error(log, "loading container: file does not exist");
                }
                writeState(id, ct);
                return new Launch.Ran(0, "{\n  \"ociVersion\": \"1.0.2\",\n  \"id\": \"" + id + "\",\n  \"pid\": " + ct.pid
                        + ",\n  \"status\": \"" + ct.status + "\",\n  \"bundle\": \"" + ct.bundle + "\"\n}\n");
            }
            case "kill" -> {
                String sig = verb.getLast();
                id = verb.get(verb.size() - 2);
                ct = containers.get(id);
                if (ct == null || !ct.status.equals("running")) {
                    return error(log, "cannot signal container \"" + id + "\" in state " + (ct == null ? "?" : ct.status));
                }
                if (Set.of("9", "15").contains(sig)) {
                    ct.status = "stopped";
                    dead(ct);
                }
            }
            case "pause" -> {
                if (ct == null || !ct.status.equals("running")) {
                    // runsc 2022-12 on a created container: a Go panic on stderr, exit 2
                    return new Launch.Ran(2, "panic: invalid state transition: " + (ct == null ? "?" : ct.status)
                            + " => paused\n\ngoroutine 1 [running]:\n");
                }
                ct.status = "paused";
            }
            case "resume" -> {
                if (ct == null || !ct.status.equals("paused")) {
                    return error(log, "cannot resume container \"" + id + "\" in state " + (ct == null ? "?" : ct.status));
                }
                ct.status = "running";
            }
            case "delete" -> {
                if (ct == null) {
                    return error(log, "loading container: file does not exist");
                }
                if (!verb.contains("--force") && (!Set.of("created", "stopped").contains(ct.status) || refusedDeletes-- > 0)) {
                    return error(log, "cannot delete container that is not stopped without --force flag");
                }
                containers.remove(id);
                dead(ct);
                Files.deleteIfExists(stateFile(id));
                return new Launch.Ran(0, "");
            }
            case "exec" -> {
                if (ct == null || !ct.status.equals("running")) {
                    return error(log, "cannot exec in container \"" + id + "\" in state " + (ct == null ? "?" : ct.status));
                }
                for (String x : verb) {
                    if (x.startsWith("--process=")) {
                        processFiles.add(Files.readString(Path.of(x.substring("--process=".length()))));
                    }
                }
            }
            case "events" -> {
                if (ct == null || !verb.contains("--stats")) {
                    throw new AssertionError("runsc " + verb + " is not part of this fake");
                }
                if (ct.status.equals("created")) {
                    // runsc 2022-12 before start: populateStats divides by the Sentry's usage, zero
                    return new Launch.Ran(2, "panic: runtime error: integer divide by zero\n\ngoroutine 1 [running]:\n");
                }
                if (goneAfterEvents) { // deleted by another caller right after this call
                    containers.remove(id);
                    dead(ct);
                    Files.deleteIfExists(stateFile(id));
                }
                return new Launch.Ran(0, "{\"type\":\"stats\",\"id\":\"" + id + "\",\"data\":{\"pids\":{\"current\":2}}}\n");
            }
            case "list" -> {
                // runsc list --format=json: Go's encoding of its containers, null for none
                List<String> all = new ArrayList<>();
                containers.keySet().stream().sorted().forEach(c -> all.add("{\"ociVersion\":\"1.0.2\",\"id\":\"" + c
                        + "\",\"pid\":" + containers.get(c).pid + ",\"status\":\"" + containers.get(c).status
                        + "\",\"bundle\":\"" + containers.get(c).bundle + "\"}"));
                return new Launch.Ran(0, all.isEmpty() ? "null\n" : "[" + String.join(",", all) + "]\n");
            }
            default -> throw new AssertionError("runsc " + verb + " is not part of this fake");
        }
        writeState(id, ct);
        return new Launch.Ran(0, "");
    }

    /** The sandbox of {@code id} dies (SIGKILL, OOM): runsc's own status stays what it was. */
    void sandboxDies(String id) throws IOException {
        dead(containers.get(id));
    }

    private Launch.Ran error(Path log, String msg) throws IOException {
        if (log != null) {
            Files.writeString(log, "{\"msg\":\"" + msg.replace("\"", "\\\"") + "\",\"level\":\"error\",\"time\":\"t\"}\n",
                    StandardCharsets.UTF_8, java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
        }
        return new Launch.Ran(1, "");
    }

    private Path stateFile(String id) {
        return root.resolve(id + "_sandbox:" + id + ".state");
    }

    /** runsc's state file: Go's compact JSON of its Container, in its field order. */
    private void writeState(String id, Ct ct) throws IOException {
        Files.writeString(stateFile(id), "{\"id\":\"" + id + "\",\"spec\":{\"annotations\":{\"consoleSocket\":\"x\","
                + "\"status\":\"running\"}},\"bundleDir\":\"" + ct.bundle + "\",\"createdAt\":\"t\",\"owner\":\"\","
                + "\"consoleSocket\":\"\",\"status\":\"" + ct.status + "\",\"goferPid\":0,\"sandbox\":{\"id\":\"" + id
                + "\",\"pid\":" + ct.pid + ",\"uid\":0,\"cgroup\":" + (cgroup == null ? "{\"cgroupunknown\":null}" : cgroup)
                + "}}");
    }

    /** The sandbox process as /proc shows it: runsc-sandbox --root=ROOT ... boot ... ID. */
    private void alive(String id, Ct ct) throws IOException {
        Path d = Files.createDirectories(proc.resolve(Integer.toString(ct.pid)));
        Files.writeString(d.resolve("cmdline"), String.join("\0", "runsc-sandbox", "--root=" + root, "boot", id) + "\0");
    }

    private void dead(Ct ct) throws IOException {
        if (ct != null) {
            Files.deleteIfExists(proc.resolve(ct.pid + "/cmdline"));
        }
    }
}

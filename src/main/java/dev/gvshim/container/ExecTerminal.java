package dev.gvshim.container;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gvshim.diagnose.IoError;
import dev.gvshim.failure.GvshimException;
import dev.gvshim.oci.JsonTree;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * `exec -t` without --console-socket: runc gives the process a terminal of its own and copies it
 * to its stdio. runsc 2022-12 gives an exec'd process a terminal only when its process.json says
 * {@code "terminal": true} (exec.go argsFromProcess; from the command line only with a console
 * socket), so gvshim writes that process.json: the command line's process as runsc would build
 * it (argsFromCLI: args, cwd, user, additional gids, capabilities; no env, so that runsc fills it
 * from the container's with --env applied, as without -t), or a copy of the caller's --process
 * with the terminal asked for. runsc then gets the pty of gvshim's terminal relay as stdio.
 */
final class ExecTerminal {
    private ExecTerminal() {
    }

    /** The process.json to exec with, written to {@code file}. */
    static Path write(Exec.Args a, Path given, Path file) throws GvshimException {
        try {
            ObjectNode p;
            if (given != null) {
                JsonNode read;
                try {
                    read = JsonTree.read(Files.readAllBytes(given));
                } catch (IOException e) {
                    throw RuntimeFailures.args("cannot read --process " + given + ": " + (e instanceof
                            com.fasterxml.jackson.core.JsonProcessingException j ? JsonTree.plainMessage(j) : IoError.reason(e)));
                }
                if (!(read instanceof ObjectNode o)) {
                    throw RuntimeFailures.args("--process " + given + ": not a JSON object");
                }
                p = o;
            } else {
                p = JsonTree.nodes().objectNode();
                ArrayNode args = p.putArray("args");
                a.command().forEach(args::add);
                if (a.cwd() != null) {
                    p.put("cwd", a.cwd());
                }
                ObjectNode user = p.putObject("user");
                String u = a.user() == null || a.user().isEmpty() ? "0" : a.user();
                int colon = u.indexOf(':');
                user.put("uid", Long.parseLong(colon < 0 ? u : u.substring(0, colon)));
                user.put("gid", colon < 0 ? 0 : Long.parseLong(u.substring(colon + 1)));
                if (!a.additionalGids().isEmpty()) {
                    ArrayNode g = user.putArray("additionalGids");
                    a.additionalGids().forEach(x -> g.add(Long.parseLong(x)));
                }
                if (!a.caps().isEmpty()) { // runsc's capabilities(): every set
                    ObjectNode caps = p.putObject("capabilities");
                    for (String set : List.of("bounding", "effective", "inheritable", "permitted", "ambient")) {
                        ArrayNode s = caps.putArray(set);
                        a.caps().forEach(s::add);
                    }
                }
            }
            p.put("terminal", true);
            Files.write(file, JsonTree.write(p));
            return file;
        } catch (IOException e) {
            throw RuntimeFailures.stateIo("cannot write the exec's process " + file + ": " + IoError.reason(e));
        }
    }
}

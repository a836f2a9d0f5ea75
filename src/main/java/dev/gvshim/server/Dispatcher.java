package dev.gvshim.server;

import dev.gvshim.call.Call;
import java.nio.file.Path;
import java.util.List;

/** What the server runs for a call: the CLI, or a test's fake. */
public interface Dispatcher {
    /** Null when the server serves these arguments (argv without argv[0]); else why a one-shot JVM must. */
    String coldReason(List<String> args);

    /** Runs one call; its exit status. */
    int run(Call call, String[] args);

    /** A bug met by a call ({@code run} threw): the caller's one line on {@code err}, as a one-shot gvshim prints it. */
    void internalError(Call call, Throwable t);

    /**
     * Removes the containers of {@code root} whose create was abandoned (a killed server's),
     * as this server's own process; their ids.
     *
     * @throws Exception the root cannot be used (its one line)
     */
    default List<String> cleanAbandoned(Path root) throws Exception {
        return List.of();
    }
}
